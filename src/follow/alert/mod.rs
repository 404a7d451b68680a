//! Alerts from `tail`: what the cooldown shows (a fingerprint's first occurrence, then its
//! repeat count when the cooldown ends), at or above `--alert-min-severity`, sent to each
//! `--webhook` and given to the `--exec` command, without ever holding up the follower.
//!
//! - `payload`: the bodies (generic, Slack, PagerDuty), built from the NDJSON object.
//! - `webhook`: one sender thread per URL, its bounded queue (the oldest dropped when full),
//!   retries with exponential backoff, the counts for the summary.
//! - `exec`: a small pool of workers running the command, each run with a timeout.
//!
//! Secrets (header values, the routing key) live only in the senders: they are never printed,
//! logged, or written to the state file.

pub mod exec;
pub mod payload;
pub mod webhook;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::TailArgs;
use crate::rules::Severity;

/// What a webhook receives.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The NDJSON object (occurrence or repeat count) and its runbook steps.
    Generic,
    /// A Slack Incoming Webhook message (`text` and `blocks`).
    Slack,
    /// A PagerDuty Events API v2 `trigger`, deduplicated by the fingerprint.
    Pagerduty,
}

/// One alert: the object `tail --format ndjson` prints for it, and the rule's runbook.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The NDJSON occurrence, or the repeat-count object (it has `repeats`, no `line`).
    pub object: Value,
    /// The same, as the NDJSON printer wrote it (its keys in its order).
    raw: Vec<u8>,
    pub runbook: Vec<String>,
}

impl Alert {
    /// From the object as the NDJSON printer writes it (None if it is not a JSON object).
    pub fn new(mut raw: Vec<u8>, runbook: Vec<String>) -> Option<Alert> {
        while raw.last().is_some_and(|b| b.is_ascii_whitespace()) {
            raw.pop();
        }
        let object: Value = serde_json::from_slice(&raw).ok()?;
        if !object.is_object() || raw.last() != Some(&b'}') {
            return None;
        }
        Some(Alert {
            object,
            raw,
            runbook,
        })
    }

    /// The generic body as bytes: the printer's object, `runbook` added at its end.
    pub fn generic_bytes(&self) -> Vec<u8> {
        let mut b = self.raw[..self.raw.len() - 1].to_vec();
        if self.object.as_object().is_some_and(|m| !m.is_empty()) {
            b.push(b',');
        }
        b.extend_from_slice(b"\"runbook\":");
        b.extend_from_slice(&serde_json::to_vec(&self.runbook).unwrap_or_else(|_| b"[]".to_vec()));
        b.push(b'}');
        b
    }

    /// A field of the object as text ("" when absent or null).
    pub fn field(&self, key: &str) -> &str {
        self.object.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// The repeat count, for a cooldown's count.
    pub fn repeats(&self) -> Option<u64> {
        self.object.get("repeats").and_then(Value::as_u64)
    }

    /// The generic body (also the `--exec` command's stdin): the object and `runbook`.
    pub fn generic(&self) -> Value {
        let mut v = self.object.clone();
        if let Value::Object(m) = &mut v {
            m.insert("runbook".into(), self.runbook.clone().into());
        }
        v
    }

    /// `rule fingerprint` for messages about this alert.
    pub fn label(&self) -> String {
        format!("{} {}", self.field("rule"), self.field("fingerprint"))
    }
}

/// The webhooks and the command, set up from the arguments.
pub struct Alerts {
    pub min: Severity,
    webhooks: Vec<webhook::Webhook>,
    exec: Option<exec::Pool>,
    grace: Duration,
}

impl Alerts {
    /// None when no `--webhook` nor `--exec` is given; Err with the message for a usage error
    /// (a bad URL or header, an environment variable that is not set).
    pub fn from_args(args: &TailArgs) -> Result<Option<Alerts>, String> {
        if args.webhooks.is_empty() && args.exec.is_none() {
            if !args.webhook_formats.is_empty()
                || !args.webhook_headers.is_empty()
                || !args.webhook_header_envs.is_empty()
                || args.pagerduty_routing_key_env.is_some()
            {
                return Err("the --webhook-* options need a --webhook URL".into());
            }
            return Ok(None);
        }
        let formats: Vec<WebhookFormat> = match args.webhook_formats.len() {
            0 => vec![WebhookFormat::Generic; args.webhooks.len()],
            1 => vec![args.webhook_formats[0]; args.webhooks.len()],
            n if n == args.webhooks.len() => args.webhook_formats.clone(),
            n => {
                return Err(format!(
                    "{n} --webhook-format for {} --webhook: give one for all, or one per webhook",
                    args.webhooks.len()
                ));
            }
        };
        let mut headers = Vec::new();
        for h in &args.webhook_headers {
            let Some((name, value)) = h.split_once(':') else {
                return Err("a --webhook-header is 'Name: value' (no colon found)".into());
            };
            headers.push(header(name, value.trim())?);
        }
        for h in &args.webhook_header_envs {
            let Some((name, var)) = h.split_once('=') else {
                return Err(format!("--webhook-header-env {h:?} is not NAME=VAR"));
            };
            let value = std::env::var(var.trim()).map_err(|_| {
                format!(
                    "--webhook-header-env {}: the environment variable {} is not set",
                    name.trim(),
                    var.trim()
                )
            })?;
            headers.push(header(name, value.trim())?);
        }
        let routing_key = if formats.contains(&WebhookFormat::Pagerduty) {
            let Some(var) = &args.pagerduty_routing_key_env else {
                return Err(
                    "--webhook-format pagerduty needs --pagerduty-routing-key-env VAR".into(),
                );
            };
            let key = std::env::var(var).map_err(|_| {
                format!("--pagerduty-routing-key-env: the environment variable {var} is not set")
            })?;
            Some(key)
        } else {
            None
        };
        let opts = webhook::Options {
            timeout: args.webhook_timeout.max(Duration::from_millis(10)),
            queue: args.webhook_queue.max(1),
            retry_for: args.webhook_retry_for,
            backoff: args.webhook_backoff.max(Duration::from_millis(1)),
        };
        let mut webhooks = Vec::new();
        for (url, format) in args.webhooks.iter().zip(formats) {
            let target = webhook::Target::parse(url)?;
            webhooks.push(webhook::Webhook::start(
                target,
                format,
                headers.clone(),
                routing_key.clone(),
                opts.clone(),
            ));
        }
        let exec = args
            .exec
            .as_ref()
            .map(|cmd| exec::Pool::start(cmd.clone(), args.exec_timeout));
        Ok(Some(Alerts {
            min: args.alert_min_severity,
            webhooks,
            exec,
            grace: args.alert_grace,
        }))
    }

    /// Where alerts go, for the start-up line: `medium and above to webhook URL, --exec`.
    pub fn describe(&self) -> String {
        let mut to: Vec<String> = self
            .webhooks
            .iter()
            .map(|w| format!("webhook {}", w.shown()))
            .collect();
        if self.exec.is_some() {
            to.push("--exec".into());
        }
        format!("{} and above to {}", self.min, to.join(", "))
    }

    /// Queues the alert for every webhook and the command; never waits.
    pub fn send(&mut self, alert: Alert) {
        let alert = std::sync::Arc::new(alert);
        for w in &mut self.webhooks {
            w.push(alert.clone());
        }
        if let Some(e) = &mut self.exec {
            e.push(alert);
        }
    }

    /// On exit: up to the grace period for the queues to drain and the commands to finish,
    /// then the summary (one line per webhook, one for the command).
    pub fn finish(mut self) -> String {
        let until = Instant::now() + self.grace;
        for w in &self.webhooks {
            w.close(until);
        }
        if let Some(e) = &mut self.exec {
            e.close();
        }
        loop {
            let busy = self.webhooks.iter().any(|w| w.busy())
                || self.exec.as_ref().is_some_and(|e| e.busy());
            if !busy || Instant::now() >= until {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut s = String::new();
        for w in &self.webhooks {
            s.push_str(&w.summary());
        }
        if let Some(e) = &self.exec {
            s.push_str(&e.summary());
        }
        s
    }
}

fn header(name: &str, value: &str) -> Result<(String, String), String> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !ok {
        return Err(format!("{name:?} is not an HTTP header name"));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        // The value is a secret: not shown.
        return Err(format!("the value of header {name} holds a line break"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// `N thing` or `N things`.
pub(crate) fn count(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
