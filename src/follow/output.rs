//! What the operator (or a script) sees while following: each occurrence as it happens, in the
//! human format (one compact block; the runbook steps the first time a fingerprint is shown) or
//! as NDJSON (the object `scan --format ndjson` writes, one line per occurrence).
//!
//! Cooldown: once a fingerprint has been shown, its repeats within `--cooldown` are counted, not
//! shown; when the cooldown ends (or on exit) the count is reported — in NDJSON as an object
//! with a `repeats` key (and no `line`), so it is never mistaken for an occurrence. The next
//! occurrence after the cooldown is shown again and starts a new one.
//!
//! Alerts (`--webhook`, `--exec`) follow what is shown: a shown occurrence at or above
//! `--alert-min-severity` is an alert, and so is the repeat count of its cooldown. The alert
//! carries the very object the NDJSON printer writes (whatever `--format` is).

use crate::finding::clock::Clock;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Emitted;
use super::alert::Alert;
use crate::cli::TailFormat;
use crate::finding::{self, Origin, fingerprint::hex, phase};
use crate::report::human::{write_evidence, write_runbook, write_title};
use crate::report::ndjson::write_occurrence;
use crate::report::text::{DIM, WIDTH, short_time, wrap};
use crate::rules::{Rule, Severity};

/// Repeats of one fingerprint within its cooldown.
struct Window {
    until: Instant,
    suppressed: u64,
    rule: u32,
    origin: Origin,
    first: Option<String>,
    last: Option<String>,
    last_at: Option<(String, u64)>,
    /// Its first occurrence was an alert: so is the count.
    alerted: bool,
}

/// What was seen, for the summary on exit.
#[derive(Default, Debug)]
pub struct Stats {
    /// Occurrences shown.
    pub shown: u64,
    /// Occurrences counted, not shown (repeats within the cooldown).
    pub suppressed: u64,
    /// Distinct fingerprints (findings) by severity.
    pub findings: BTreeMap<Severity, HashSet<u64>>,
}

pub struct Reporter<'r> {
    rules: &'r [Rule],
    format: TailFormat,
    min: Severity,
    cooldown: Duration,
    windows: HashMap<u64, Window>,
    /// Fingerprints whose runbook has been shown.
    seen: HashSet<u64>,
    pub stats: Stats,
    clock: Clock,
    /// Alerts at or above this severity (None: no alerts).
    alert_min: Option<Severity>,
    alerts: Vec<Alert>,
}

#[derive(Serialize)]
struct Repeats<'a> {
    repeats: u64,
    rule: &'a str,
    title: &'a str,
    severity: &'static str,
    service: Option<&'a str>,
    host: Option<&'a str>,
    fingerprint: String,
    first_timestamp: Option<&'a str>,
    last_timestamp: Option<&'a str>,
    last_path: Option<&'a str>,
    last_line: Option<u64>,
    cooldown_ms: u64,
}

impl<'r> Reporter<'r> {
    pub fn new(rules: &'r [Rule], format: TailFormat, min: Severity, cooldown: Duration) -> Self {
        Reporter {
            rules,
            format,
            min,
            cooldown,
            windows: HashMap::new(),
            seen: HashSet::new(),
            stats: Stats::default(),
            clock: Clock::default(),
            alert_min: None,
            alerts: Vec::new(),
        }
    }

    /// Alerts for what is shown at or above `min` (taken with `take_alerts`).
    pub fn with_alerts(mut self, min: Severity) -> Self {
        self.alert_min = Some(min);
        self
    }

    /// The alerts since the last call, in the order they were shown.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.alerts)
    }

    /// The zone log times that state none are read in (`--tz`; UTC until set).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// One occurrence: shown, or counted as a repeat within its fingerprint's cooldown.
    pub fn report(&mut self, out: &mut dyn Write, e: &Emitted, now: Instant) -> io::Result<()> {
        let rule = &self.rules[e.occ.rule as usize];
        if rule.severity < self.min {
            return Ok(());
        }
        let fp = e.occ.fingerprint;
        let alert = self
            .alert_min
            .is_some_and(|m| phase::severity(rule.severity, e.occ.phase) >= m);
        self.stats
            .findings
            .entry(rule.severity)
            .or_default()
            .insert(fp);
        if !self.cooldown.is_zero() {
            if let Some(w) = self.windows.get_mut(&fp) {
                if now < w.until {
                    w.suppressed += 1;
                    let ts = e.occ.stamp.map(|s| {
                        self.clock
                            .rfc3339(self.clock.instant(&s, e.origin.host.as_deref()))
                    });
                    if w.first.is_none() {
                        w.first = ts.clone();
                    }
                    if ts.is_some() {
                        w.last = ts;
                    }
                    w.last_at = Some((e.path.clone(), e.occ.line));
                    self.stats.suppressed += 1;
                    return Ok(());
                }
                if let Some(w) = self.windows.remove(&fp) {
                    self.write_repeats(out, fp, &w)?;
                }
            }
            self.windows.insert(
                fp,
                Window {
                    until: now + self.cooldown,
                    suppressed: 0,
                    rule: e.occ.rule,
                    origin: e.origin.clone(),
                    first: None,
                    last: None,
                    last_at: None,
                    alerted: alert,
                },
            );
        }
        self.stats.shown += 1;
        if alert {
            let mut buf = Vec::new();
            write_occurrence(&mut buf, &e.occ, rule, &e.path, &e.origin, &self.clock)?;
            if self.format == TailFormat::Ndjson {
                // The line shown is the alert's object: written once.
                out.write_all(&buf)?;
                self.alerts.extend(Alert::new(buf, rule.runbook.clone()));
                return Ok(());
            }
            self.alerts.extend(Alert::new(buf, rule.runbook.clone()));
        }
        match self.format {
            TailFormat::Ndjson => {
                write_occurrence(out, &e.occ, rule, &e.path, &e.origin, &self.clock)
            }
            TailFormat::Human => {
                let first = self.seen.insert(fp);
                write_block(out, e, rule, first)
            }
        }
    }

    /// Reports the repeats of cooldowns that have ended.
    pub fn tick(&mut self, out: &mut dyn Write, now: Instant) -> io::Result<()> {
        let mut ended: Vec<(u64, Window)> = Vec::new();
        let done: Vec<u64> = self
            .windows
            .iter()
            .filter(|(_, w)| w.until <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in done {
            if let Some(w) = self.windows.remove(&k) {
                ended.push((k, w));
            }
        }
        ended.sort_by_key(|(_, w)| w.until);
        for (fp, w) in ended {
            self.write_repeats(out, fp, &w)?;
        }
        Ok(())
    }

    /// On exit: the repeats counted in cooldowns still running.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let mut all: Vec<(u64, Window)> = self.windows.drain().collect();
        all.sort_by_key(|(_, w)| w.until);
        for (fp, w) in all {
            self.write_repeats(out, fp, &w)?;
        }
        out.flush()
    }

    /// When the next cooldown with counted repeats ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.windows
            .values()
            .filter(|w| w.suppressed > 0)
            .map(|w| w.until)
            .min()
    }

    fn write_repeats(&mut self, out: &mut dyn Write, fp: u64, w: &Window) -> io::Result<()> {
        if w.suppressed == 0 {
            return Ok(());
        }
        let rule = &self.rules[w.rule as usize];
        let r = Repeats {
            repeats: w.suppressed,
            rule: &rule.id,
            title: &rule.title,
            severity: rule.severity.as_str(),
            service: w.origin.service,
            host: w.origin.host.as_deref(),
            fingerprint: hex(fp),
            first_timestamp: w.first.as_deref(),
            last_timestamp: w.last.as_deref(),
            last_path: w.last_at.as_ref().map(|(p, _)| p.as_str()),
            last_line: w.last_at.as_ref().map(|(_, l)| *l),
            cooldown_ms: self.cooldown.as_millis() as u64,
        };
        if w.alerted
            && let Ok(raw) = serde_json::to_vec(&r)
        {
            self.alerts.extend(Alert::new(raw, rule.runbook.clone()));
        }
        match self.format {
            TailFormat::Ndjson => {
                serde_json::to_writer(&mut *out, &r)?;
                out.write_all(b"\n")
            }
            TailFormat::Human => {
                let mut text = format!(
                    "{} more of \"{}\"{} within {}",
                    w.suppressed,
                    rule.title,
                    crate::report::text::who(&w.origin)
                        .map_or(String::new(), |s| format!(" ({s})")),
                    super::human_span(self.cooldown)
                );
                match (&w.first, &w.last) {
                    (Some(a), Some(b)) if a != b => {
                        let (a, b) = (short_time(a), short_time(b));
                        // Same day: the end shows only its time.
                        let b = match (a.get(..10), b.get(11..)) {
                            (Some(d), Some(t)) if b.starts_with(d) => t.to_string(),
                            _ => b,
                        };
                        text.push_str(&format!(", {a} -> {b}"))
                    }
                    (Some(a), _) => text.push_str(&format!(", {}", short_time(a))),
                    _ => {}
                }
                if let Some((p, l)) = &w.last_at {
                    text.push_str(&format!("; last at {p}:{l}"));
                }
                writeln!(
                    out,
                    "{DIM}REPEAT{DIM:#}  {}\n",
                    wrap(&text, WIDTH - 8, "        ")
                )
            }
        }
    }

    /// The summary printed on stderr on exit.
    pub fn summary(&self, elapsed: Duration, files: usize) -> String {
        let mut s = format!(
            "logtriage tail: stopped after {}; {files} file{} followed\n",
            super::human_span(elapsed),
            if files == 1 { "" } else { "s" }
        );
        let total: usize = self.stats.findings.values().map(|v| v.len()).sum();
        if total == 0 {
            s.push_str("  no findings\n");
            return s;
        }
        let by: Vec<String> = self
            .stats
            .findings
            .iter()
            .rev()
            .map(|(sev, fps)| format!("{} {sev}", fps.len()))
            .collect();
        s.push_str(&format!(
            "  {total} finding{} ({}); {} occurrence{} shown, {} repeat{} within the cooldown counted, not shown\n",
            if total == 1 { "" } else { "s" },
            by.join(", "),
            self.stats.shown,
            if self.stats.shown == 1 { "" } else { "s" },
            self.stats.suppressed,
            if self.stats.suppressed == 1 { "" } else { "s" },
        ));
        s
    }
}

fn write_block(out: &mut dyn Write, e: &Emitted, rule: &Rule, first: bool) -> io::Result<()> {
    write_title(
        out,
        rule,
        phase::severity(rule.severity, e.occ.phase),
        e.occ.phase,
        &e.occ.fields,
    )?;
    let (component, layer) = finding::attribute(rule, &e.origin);
    let mut meta = Vec::new();
    if let Some(t) = e.occ.stamp {
        meta.push(short_time(&t.iso()));
    }
    let mut w = component;
    if let Some(svc) = e.origin.service
        && svc != w
    {
        w = format!("{w}/{svc}");
    }
    if let Some(h) = &e.origin.host {
        w.push_str(&format!(" on {h}"));
    }
    meta.push(w);
    meta.push(format!("{} layer", layer.as_str()));
    writeln!(
        out,
        "  {DIM}{}{DIM:#}",
        wrap(&meta.join(" | "), WIDTH - 2, "  ")
    )?;
    if let Some(t) = &rule.threshold {
        writeln!(
            out,
            "  {DIM}(reported because {} or more occurred within {} in this file){DIM:#}",
            t.count, t.within
        )?;
    }
    write_evidence(out, &e.path, &e.occ)?;
    if first {
        write_runbook(out, rule, e.occ.fingerprint)?;
    } else {
        writeln!(
            out,
            "  {DIM}seen before (runbook above) | fingerprint {}{DIM:#}",
            hex(e.occ.fingerprint)
        )?;
    }
    writeln!(out)
}
