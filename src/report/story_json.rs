//! The JSON of the sweep's story: `incidents` (window, hosts, services, origin with its reason,
//! the chain with each finding's tie to what came before, first steps) and `timeline` (every
//! reported finding's bursts in time order, at most `incidents::TIMELINE_CAP`, with the cap and
//! the count stated). Findings are named by fingerprint, as in `triage`.

use serde::Serialize;

use super::Summary;
use super::incidents::{TIMELINE_CAP, place, timeline};
use crate::finding::fingerprint::hex;
use crate::finding::timeline::FOLD_MS;
use crate::rules::Rule;

#[derive(Serialize)]
pub struct IncidentJson<'a> {
    start: String,
    end: String,
    hosts: &'a [String],
    services: &'a [&'static str],
    origin: OriginJson<'a>,
    chain: Vec<LinkJson<'a>>,
    first_steps: &'a [String],
}

#[derive(Serialize)]
struct OriginJson<'a> {
    fingerprint: String,
    rule: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct LinkJson<'a> {
    fingerprint: String,
    rule: &'a str,
    title: &'a str,
    severity: &'static str,
    layer: &'static str,
    host: Option<&'a str>,
    service: Option<&'a str>,
    first: String,
    at: String,
    count: u64,
    /// origin | declared (its rule names the other's as a cause) | lower-layer (a candidate
    /// cause in a lower Run Book layer) | none
    tie: &'static str,
    after: Option<String>,
}

#[derive(Serialize)]
pub struct TimelineJson<'a> {
    /// Occurrences of one finding closer than this are one entry.
    fold_ms: i64,
    cap: usize,
    count: usize,
    entries: Vec<EntryJson<'a>>,
}

#[derive(Serialize)]
struct EntryJson<'a> {
    time: String,
    until: String,
    count: u64,
    host: Option<&'a str>,
    service: Option<&'a str>,
    severity: &'static str,
    rule: &'a str,
    title: &'a str,
    fingerprint: String,
    at: String,
}

pub fn incidents<'a>(s: &'a Summary, rules: &'a [Rule]) -> Vec<IncidentJson<'a>> {
    s.incidents
        .iter()
        .map(|inc| {
            let fp = |i: usize| hex(s.findings[inc.chain[i].finding].fingerprint);
            let origin = &s.findings[inc.chain[inc.origin].finding];
            let origin_rule = &rules[origin.rule as usize];
            IncidentJson {
                start: s.clock.rfc3339(inc.start),
                end: s.clock.rfc3339(inc.end),
                hosts: &inc.hosts,
                services: &inc.services,
                origin: OriginJson {
                    fingerprint: hex(origin.fingerprint),
                    rule: &origin_rule.id,
                    reason: &inc.origin_reason,
                },
                chain: inc
                    .chain
                    .iter()
                    .map(|l| {
                        let f = &s.findings[l.finding];
                        let rule = &rules[f.rule as usize];
                        LinkJson {
                            fingerprint: hex(f.fingerprint),
                            rule: &rule.id,
                            title: &rule.title,
                            severity: f.severity(rules).as_str(),
                            layer: l.layer.as_str(),
                            host: f.origin.host.as_deref(),
                            service: f.origin.service,
                            first: s.clock.rfc3339(l.first),
                            at: place(s, l.at),
                            count: l.count,
                            tie: l.tie.kind(),
                            after: l.tie.after().map(fp),
                        }
                    })
                    .collect(),
                first_steps: &origin_rule.runbook[..origin_rule.runbook.len().min(2)],
            }
        })
        .collect()
}

pub fn timeline_json<'a>(s: &'a Summary, rules: &'a [Rule]) -> TimelineJson<'a> {
    let (entries, count) = timeline(s);
    TimelineJson {
        fold_ms: FOLD_MS,
        cap: TIMELINE_CAP,
        count,
        entries: entries
            .iter()
            .map(|e| {
                let f = e.finding;
                let rule = &rules[f.rule as usize];
                EntryJson {
                    time: s.clock.rfc3339(e.time),
                    until: s.clock.rfc3339(e.until),
                    count: e.burst.count,
                    host: f.origin.host.as_deref(),
                    service: f.origin.service,
                    severity: f.severity(rules).as_str(),
                    rule: &rule.id,
                    title: &rule.title,
                    fingerprint: hex(f.fingerprint),
                    at: place(s, e.burst.at),
                }
            })
            .collect(),
    }
}
