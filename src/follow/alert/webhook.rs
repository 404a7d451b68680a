//! One `--webhook`: a sender thread fed by a bounded queue. The follower only pushes (when the
//! queue is full the oldest alert is dropped and counted), so a slow or dead receiver never
//! delays reading or output. Each alert is POSTed with a connect and a total timeout, retried on
//! connection errors, 429 and 5xx with exponential backoff (doubling up to 30 s) for a bounded
//! time, then given up (counted, said on stderr). No redirect is followed and no proxy used:
//! connections go only to the URL given.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Alert, WebhookFormat, payload};

/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The connection's share of the timeout, at most.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Queue-full notes on stderr at most this often.
const DROP_NOTE_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct Options {
    pub timeout: Duration,
    pub queue: usize,
    pub retry_for: Duration,
    pub backoff: Duration,
}

/// The URL, and how it is shown: without its query string or user information, and with
/// path segments that look like tokens (20 characters or more: a Slack webhook's secret) as
/// `***`.
#[derive(Clone, Debug)]
pub struct Target {
    url: String,
    pub shown: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        // The URL may hold a secret: messages show only what `shown` shows.
        let uri: ureq::http::Uri = url
            .parse()
            .map_err(|_| "--webhook: not a URL (http://... or https://...)".to_string())?;
        let scheme = uri.scheme_str().unwrap_or("");
        if scheme != "http" && scheme != "https" {
            return Err("--webhook: only http and https URLs are supported".into());
        }
        let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
            return Err("--webhook: the URL has no host".into());
        };
        let port = uri.port_u16().map_or(String::new(), |p| format!(":{p}"));
        Ok(Target {
            url: url.to_string(),
            shown: format!("{scheme}://{host}{port}{}", masked(uri.path())),
        })
    }
}

fn masked(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.len() >= 20 { "***" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Arc<Alert>>,
    in_flight: bool,
    closed: bool,
    /// After the stop: when the sender gives up what is left.
    until: Option<Instant>,
    sent: u64,
    failed: u64,
    dropped: u64,
    unsent: u64,
}

struct Shared {
    q: Mutex<Queue>,
    cv: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.q.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Webhook {
    shared: Arc<Shared>,
    shown: String,
    cap: usize,
    noted: Option<Instant>,
}

enum Outcome {
    Sent,
    Failed,
    Unsent,
}

enum Try {
    Retry(String),
    Fatal(String),
}

impl Webhook {
    pub fn start(
        target: Target,
        format: WebhookFormat,
        headers: Vec<(String, String)>,
        routing_key: Option<String>,
        opts: Options,
    ) -> Webhook {
        let shared = Arc::new(Shared {
            q: Mutex::new(Queue::default()),
            cv: Condvar::new(),
        });
        let s = shared.clone();
        let shown = target.shown.clone();
        let cap = opts.queue;
        std::thread::Builder::new()
            .name("webhook".into())
            .spawn(move || {
                let sender = Sender {
                    agent: agent(&opts),
                    target,
                    format,
                    headers,
                    routing_key,
                    opts,
                    shared: s,
                };
                sender.run();
            })
            .expect("a thread starts");
        Webhook {
            shared,
            shown,
            cap,
            noted: None,
        }
    }

    /// Queues one alert; when the queue is full, the oldest waiting is dropped.
    pub fn push(&mut self, a: Arc<Alert>) {
        let mut q = self.shared.lock();
        if q.closed {
            return;
        }
        if q.jobs.len() >= self.cap {
            q.jobs.pop_front();
            q.dropped += 1;
            let now = Instant::now();
            if self.noted.is_none_or(|t| now >= t + DROP_NOTE_EVERY) {
                self.noted = Some(now);
                eprintln!(
                    "logtriage: webhook {}: queue full ({} waiting), the oldest dropped ({} so far)",
                    self.shown, self.cap, q.dropped
                );
            }
        }
        q.jobs.push_back(a);
        drop(q);
        self.shared.cv.notify_all();
    }

    /// No more alerts; what is queued may be sent until `until`.
    pub fn close(&self, until: Instant) {
        let mut q = self.shared.lock();
        q.closed = true;
        q.until = Some(until);
        drop(q);
        self.shared.cv.notify_all();
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub fn busy(&self) -> bool {
        let q = self.shared.lock();
        q.in_flight || !q.jobs.is_empty()
    }

    pub fn summary(&self) -> String {
        let q = self.shared.lock();
        let left = q.unsent + q.jobs.len() as u64 + u64::from(q.in_flight);
        let mut s = format!(
            "  webhook {}: {} sent, {} failed, {} dropped (queue full)",
            self.shown, q.sent, q.failed, q.dropped
        );
        if left > 0 {
            s.push_str(&format!(", {} not sent at the stop", left));
        }
        s.push('\n');
        s
    }
}

fn agent(opts: &Options) -> ureq::Agent {
    let cfg = ureq::Agent::config_builder()
        .timeout_global(Some(opts.timeout))
        .timeout_connect(Some(opts.timeout.min(CONNECT_TIMEOUT)))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .user_agent(concat!("logtriage/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(cfg)
}

struct Sender {
    agent: ureq::Agent,
    target: Target,
    format: WebhookFormat,
    headers: Vec<(String, String)>,
    routing_key: Option<String>,
    opts: Options,
    shared: Arc<Shared>,
}

impl Sender {
    fn run(self) {
        loop {
            let job = {
                let mut q = self.shared.lock();
                loop {
                    if let Some(j) = q.jobs.pop_front() {
                        q.in_flight = true;
                        break Some(j);
                    }
                    if q.closed {
                        break None;
                    }
                    q = self.shared.cv.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            let Some(job) = job else { return };
            let outcome = self.deliver(&job);
            let mut q = self.shared.lock();
            q.in_flight = false;
            match outcome {
                Outcome::Sent => q.sent += 1,
                Outcome::Failed => q.failed += 1,
                Outcome::Unsent => q.unsent += 1,
            }
        }
    }

    /// True once the stop's grace period is over.
    fn stopped(&self) -> bool {
        let q = self.shared.lock();
        q.closed && q.until.is_some_and(|u| Instant::now() >= u)
    }

    /// Waits `d`, or less when the grace period of a stop ends first; false then.
    fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        let mut q = self.shared.lock();
        loop {
            let now = Instant::now();
            if q.closed && q.until.is_some_and(|u| now >= u) {
                return false;
            }
            if now >= end {
                return true;
            }
            let mut wake = end;
            if let Some(u) = q.until {
                wake = wake.min(u);
            }
            q = self
                .shared
                .cv
                .wait_timeout(q, wake.saturating_duration_since(now))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn deliver(&self, a: &Alert) -> Outcome {
        let body = payload::encode(self.format, a, self.routing_key.as_deref());
        let start = Instant::now();
        let mut wait = self.opts.backoff;
        let mut tries = 0u64;
        loop {
            if self.stopped() {
                return Outcome::Unsent;
            }
            tries += 1;
            let why = match self.attempt(&body) {
                Ok(()) => return Outcome::Sent,
                Err(Try::Fatal(why)) => {
                    eprintln!(
                        "logtriage: webhook {}: {why}: alert {} not sent",
                        self.target.shown,
                        a.label()
                    );
                    return Outcome::Failed;
                }
                Err(Try::Retry(why)) => why,
            };
            if start.elapsed() + wait > self.opts.retry_for {
                eprintln!(
                    "logtriage: webhook {}: {why}: gave up alert {} after {}",
                    self.target.shown,
                    a.label(),
                    if tries == 1 {
                        "1 try".to_string()
                    } else {
                        format!("{tries} tries")
                    }
                );
                return Outcome::Failed;
            }
            if tries == 1 {
                eprintln!(
                    "logtriage: webhook {}: {why}: retrying alert {} for up to {}",
                    self.target.shown,
                    a.label(),
                    crate::follow::human_span(self.opts.retry_for)
                );
            }
            if !self.sleep(wait) {
                return Outcome::Unsent;
            }
            wait = (wait * 2).min(MAX_BACKOFF);
        }
    }

    fn attempt(&self, body: &[u8]) -> Result<(), Try> {
        let mut req = self
            .agent
            .post(&self.target.url)
            .header("Content-Type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send(body) {
            Ok(resp) => {
                let st = resp.status().as_u16();
                if (200..300).contains(&st) {
                    Ok(())
                } else if st == 429 || st >= 500 {
                    Err(Try::Retry(format!("HTTP {st}")))
                } else {
                    Err(Try::Fatal(format!("HTTP {st}")))
                }
            }
            Err(e) => Err(classify(e)),
        }
    }
}

/// Connection trouble is retried; the rest (TLS, a bad request) is not.
fn classify(e: ureq::Error) -> Try {
    use ureq::Error as E;
    match e {
        // rustls's errors (a certificate not trusted, a TLS protocol error) come as invalid
        // data: retrying would not help.
        E::Io(ref io) if io.kind() == std::io::ErrorKind::InvalidData => {
            Try::Fatal(format!("TLS: {io}"))
        }
        E::Io(_) | E::Timeout(_) | E::ConnectionFailed | E::HostNotFound | E::BodyStalled => {
            Try::Retry(e.to_string())
        }
        E::Protocol(_) => Try::Retry(e.to_string()),
        // Its text would repeat the URL.
        E::BadUri(_) => Try::Fatal("bad URL".into()),
        e => Try::Fatal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_without_query_nor_userinfo() {
        let t = Target::parse("https://user:pw@hooks.example.com:8443/a/b?token=s3cret").unwrap();
        assert_eq!(t.shown, "https://hooks.example.com:8443/a/b");
        assert!(Target::parse("ftp://x/y").is_err());
        let slack =
            "https://hooks.slack.com/services/T0ABCDEF12/B0ABCDEF34/abcdefghijklmnopqrstuvwx";
        assert_eq!(
            Target::parse(slack).unwrap().shown,
            "https://hooks.slack.com/services/T0ABCDEF12/B0ABCDEF34/***"
        );
        assert!(Target::parse("not a url").is_err());
    }
}
