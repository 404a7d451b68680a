//! `--exec CMD`: for each alert, `sh -c CMD` with the alert's JSON (the generic body) on stdin
//! and `LOGTRIAGE_*` variables in its environment. A few workers run them, fed by a bounded
//! channel (an alert that finds it full is dropped and counted); each run is killed (its whole
//! process group) after the timeout. Failures, exit codes and kills are said on stderr. The
//! command's stdout goes to stderr, so the NDJSON stream on stdout stays clean.

use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Alert, count};

/// Commands run at once.
const WORKERS: usize = 4;
/// Alerts waiting for a worker.
const WAITING: usize = 100;
/// Drop notes on stderr at most this often.
const DROP_NOTE_EVERY: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Counts {
    queued: AtomicU64,
    running: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    killed: AtomicU64,
    dropped: AtomicU64,
}

pub struct Pool {
    tx: Option<SyncSender<Arc<Alert>>>,
    counts: Arc<Counts>,
    noted_drop: Option<Instant>,
}

impl Pool {
    pub fn start(cmd: String, timeout: Duration) -> Pool {
        let (tx, rx) = sync_channel::<Arc<Alert>>(WAITING);
        let rx = Arc::new(Mutex::new(rx));
        let counts = Arc::new(Counts::default());
        let cmd = Arc::new(cmd);
        for _ in 0..WORKERS {
            let (rx, counts, cmd) = (rx.clone(), counts.clone(), cmd.clone());
            std::thread::Builder::new()
                .name("exec".into())
                .spawn(move || work(&rx, &counts, &cmd, timeout))
                .expect("a thread starts");
        }
        Pool {
            tx: Some(tx),
            counts,
            noted_drop: None,
        }
    }

    pub fn push(&mut self, a: Arc<Alert>) {
        let Some(tx) = &self.tx else { return };
        self.counts.queued.fetch_add(1, Ordering::SeqCst);
        match tx.try_send(a) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counts.queued.fetch_sub(1, Ordering::SeqCst);
                let n = self.counts.dropped.fetch_add(1, Ordering::SeqCst) + 1;
                let now = Instant::now();
                if self.noted_drop.is_none_or(|t| now >= t + DROP_NOTE_EVERY) {
                    self.noted_drop = Some(now);
                    eprintln!(
                        "logtriage: --exec: {WAITING} alerts already waiting for a command to finish: alert dropped ({n} so far)"
                    );
                }
            }
        }
    }

    /// No more alerts: the workers end once the waiting ones are run.
    pub fn close(&mut self) {
        self.tx = None;
    }

    pub fn busy(&self) -> bool {
        self.counts.queued.load(Ordering::SeqCst) > 0
            || self.counts.running.load(Ordering::SeqCst) > 0
    }

    pub fn summary(&self) -> String {
        let c = &self.counts;
        let get = |n: &AtomicU64| n.load(Ordering::SeqCst);
        let left = get(&c.queued) + get(&c.running);
        let (ok, failed, killed) = (get(&c.ok), get(&c.failed), get(&c.killed));
        let mut s = format!(
            "  exec: {} run, {failed} failed, {killed} killed at the timeout, {} dropped",
            ok + failed + killed,
            get(&c.dropped)
        );
        if left > 0 {
            s.push_str(&format!(
                ", {} not finished at the stop",
                count(left, "command")
            ));
        }
        s.push('\n');
        s
    }
}

fn work(rx: &Mutex<Receiver<Arc<Alert>>>, counts: &Counts, cmd: &str, timeout: Duration) {
    loop {
        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(a) = next else { return };
        counts.running.fetch_add(1, Ordering::SeqCst);
        counts.queued.fetch_sub(1, Ordering::SeqCst);
        match run(cmd, &a, timeout) {
            Ran::Ok => counts.ok.fetch_add(1, Ordering::SeqCst),
            Ran::Failed => counts.failed.fetch_add(1, Ordering::SeqCst),
            Ran::Killed => counts.killed.fetch_add(1, Ordering::SeqCst),
        };
        counts.running.fetch_sub(1, Ordering::SeqCst);
    }
}

enum Ran {
    Ok,
    Failed,
    Killed,
}

fn run(cmd: &str, a: &Alert, timeout: Duration) -> Ran {
    let label = a.label();
    let mut c = Command::new("sh");
    c.arg("-c").arg(cmd).stdin(Stdio::piped());
    // Its stdout to our stderr: stdout is the NDJSON stream.
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => c.stdout(Stdio::from(fd)),
        Err(_) => c.stdout(Stdio::null()),
    };
    for (var, key) in [
        ("LOGTRIAGE_RULE", "rule"),
        ("LOGTRIAGE_SEVERITY", "severity"),
        ("LOGTRIAGE_HOST", "host"),
        ("LOGTRIAGE_SERVICE", "service"),
        ("LOGTRIAGE_TITLE", "title"),
        ("LOGTRIAGE_FINGERPRINT", "fingerprint"),
        ("LOGTRIAGE_SUMMARY", "summary"),
    ] {
        c.env(var, a.field(key));
    }
    match a.repeats() {
        Some(n) => c.env("LOGTRIAGE_REPEATS", n.to_string()),
        None => c.env_remove("LOGTRIAGE_REPEATS"),
    };
    // Its own process group, so a timeout kills what it started too.
    c.process_group(0);
    let mut child = match c.spawn() {
        Ok(ch) => ch,
        Err(e) => {
            eprintln!("logtriage: --exec: cannot run sh: {e} (alert {label})");
            return Ran::Failed;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let body = a.generic_bytes();
        // In a thread: a command that does not read its stdin must not block the worker.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
            let _ = stdin.write_all(b"\n");
        });
    }
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                if st.success() {
                    return Ran::Ok;
                }
                match (st.code(), st.signal()) {
                    (Some(code), _) => {
                        eprintln!("logtriage: --exec exited with code {code} (alert {label})")
                    }
                    (None, Some(sig)) => {
                        eprintln!("logtriage: --exec killed by signal {sig} (alert {label})")
                    }
                    _ => eprintln!("logtriage: --exec failed: {st} (alert {label})"),
                }
                return Ran::Failed;
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("logtriage: --exec: cannot wait for the command: {e} (alert {label})");
                return Ran::Failed;
            }
        }
        if start.elapsed() >= timeout {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            eprintln!(
                "logtriage: --exec still running after {}: killed (alert {label})",
                crate::follow::human_span(timeout)
            );
            return Ran::Killed;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGKILL to the process group `pgid` (the shell and what it started).
fn kill_group(pgid: u32) {
    let _ = Command::new("sh")
        .args(["-c", "kill -s KILL -- -\"$1\"", "sh", &pgid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
