//! Logs that went silent, and gaps in them: a daemon killed by the kernel's OOM killer or by `kill -9` writes
//! nothing more. A long-running daemon's log (the `files` of a rule with `raised_by =
//! "silence"`) whose last line comes more than `--silence` before the sweep's last event, with
//! no clean shutdown at its end, is a finding "stopped logging". It works on each stream's last
//! timed line, which the scanner keeps as it passes over blocks (no second read). And a gap
//! inside a log far longer than its usual spacing, ended by the daemon's start-up with no clean
//! stop before it (a rule with `raised_by = "restart"`), is a finding "down from T1 to T2, then
//! restarted": the scanner notes, at each start-up marker, the time of the line before it.

use super::aggregate::Finding;
use super::clock::Clock;
use crate::event::Stamp;
use crate::matching::Occurrence;
use crate::rules::{RaisedBy, Rule};
use crate::source::Origin;

/// A down finding this close before a log's last line explains its end.
const SAID_DOWN_MS: i64 = 60_000;

/// How one stream ended.
pub struct StreamEnd {
    /// Stream index of the sweep.
    pub id: u32,
    pub path: String,
    pub origin: Origin,
    /// Its last timed header line: number, time, text.
    pub last: Option<(u64, Stamp, String)>,
    /// Its last phase marker asked it to stop.
    pub stopping: bool,
    /// Its first timed line's time, and its lines: its usual spacing.
    pub first: Option<Stamp>,
    pub lines: u64,
    /// Its daemon's start-ups inside it.
    pub restarts: Vec<crate::finding::phase::Restart>,
}

/// The "stopped logging" findings of a sweep (none when no pack has a silence rule).
pub fn silences(
    ends: &[StreamEnd],
    findings: &[Finding],
    rules: &[Rule],
    clock: &Clock,
    silence_ms: i64,
) -> Vec<Finding> {
    let Some(ri) = rules
        .iter()
        .position(|r| r.raised_by == Some(RaisedBy::Silence))
    else {
        return Vec::new();
    };
    let rule = &rules[ri];
    let instant = |e: &StreamEnd| {
        e.last
            .as_ref()
            .map(|(_, st, _)| clock.instant(st, e.origin.host.as_deref()))
    };
    let Some(sweep_end) = ends.iter().filter_map(instant).max() else {
        return Vec::new();
    };
    // Per daemon (service and host), the stream that went on longest: rotated copies end early.
    let mut latest: Vec<(&StreamEnd, i64)> = Vec::new();
    for e in ends {
        let Some(t) = instant(e) else { continue };
        if e.origin.service.is_none() || e.origin.container.is_some() || !rule.applies_to(&e.path) {
            continue;
        }
        let same = |(x, _): &&mut (&StreamEnd, i64)| {
            x.origin.service == e.origin.service && x.origin.host == e.origin.host
        };
        match latest.iter_mut().find(same) {
            Some(slot) if t > slot.1 => *slot = (e, t),
            Some(_) => {}
            None => latest.push((e, t)),
        }
    }
    // A log whose own last words said the daemon went down (an exit, a halt, a failed start)
    // has said why it stopped: no "stopped logging" on top.
    let said_down = |e: &StreamEnd, t: i64| {
        findings.iter().any(|f| {
            let own_down = rules[f.rule as usize]
                .effect
                .as_ref()
                .is_some_and(|x| x.is == crate::rules::EffectKind::Down && x.role.is_none());
            own_down
                && f.origin.service == e.origin.service
                && f.origin.host == e.origin.host
                && f.last_seen.as_ref().is_some_and(|(_, st)| {
                    clock.instant(st, e.origin.host.as_deref()) >= t - SAID_DOWN_MS
                })
        })
    };
    latest
        .into_iter()
        .filter(|(e, t)| !e.stopping && sweep_end - t > silence_ms && !said_down(e, *t))
        .map(|(e, t)| {
            let (line, st, text) = e.last.clone().expect("timed");
            let fields = vec![
                (
                    "service".to_string(),
                    e.origin.service.unwrap_or("").to_string(),
                ),
                ("last".to_string(), clock.short(t)),
                (
                    "silent_for".to_string(),
                    super::clock::duration(sweep_end - t),
                ),
            ];
            let fingerprint = super::fingerprint::of(rule, &fields, &e.origin);
            let occurrence = Occurrence {
                rule: ri as u32,
                line,
                stamp: Some(st),
                stamp_text: None,
                level: None,
                text,
                hit_line: None,
                fields: fields.clone(),
                fingerprint,
                template: None,
                phase: None,
            };
            Finding::raised(
                ri as u32,
                fingerprint,
                (e.id, line),
                st,
                occurrence,
                fields,
                &e.origin,
            )
        })
        .collect()
}

/// A gap shorter than this is not "down" (a supervisor restarting a process at once).
pub const MIN_DOWN_MS: i64 = 60_000;
/// ... nor one shorter than this many times the log's usual spacing between lines.
pub const SPACING_FACTOR: i64 = 20;

/// The "down, then restarted" findings of a sweep (none when no pack has a restart rule).
pub fn restart_gaps(ends: &[StreamEnd], rules: &[Rule], clock: &Clock) -> Vec<Finding> {
    let Some(ri) = rules
        .iter()
        .position(|r| r.raised_by == Some(RaisedBy::Restart))
    else {
        return Vec::new();
    };
    let rule = &rules[ri];
    let mut out = Vec::new();
    for e in ends {
        if e.origin.service.is_none() || e.origin.container.is_some() || !rule.applies_to(&e.path) {
            continue;
        }
        let host = e.origin.host.as_deref();
        let spacing = match (&e.first, &e.last) {
            (Some(a), Some((_, b, _))) => {
                (clock.instant(b, host) - clock.instant(a, host)) / e.lines.max(1) as i64
            }
            _ => continue,
        };
        for r in e.restarts.iter().filter(|r| !r.clean) {
            let (Some(st), Some(prev)) = (r.stamp, r.prev) else {
                continue;
            };
            let (from, until) = (clock.instant(&prev, host), clock.instant(&st, host));
            if until - from < MIN_DOWN_MS.max(SPACING_FACTOR * spacing) {
                continue;
            }
            let fields = vec![
                (
                    "service".to_string(),
                    e.origin.service.unwrap_or("").to_string(),
                ),
                ("down_from".to_string(), clock.short(from)),
                ("down_until".to_string(), clock.short(until)),
                ("down_for".to_string(), super::clock::duration(until - from)),
            ];
            let fingerprint = super::fingerprint::of(rule, &fields, &e.origin);
            let occurrence = Occurrence {
                rule: ri as u32,
                line: r.line,
                stamp: Some(prev),
                stamp_text: None,
                level: None,
                text: r.text.clone(),
                hit_line: None,
                fields: fields.clone(),
                fingerprint,
                template: None,
                phase: None,
            };
            out.push(Finding::raised(
                ri as u32,
                fingerprint,
                (e.id, r.line),
                // The outage began at the gap's start: that is when the finding happened.
                prev,
                occurrence,
                fields,
                &e.origin,
            ));
        }
    }
    out
}
