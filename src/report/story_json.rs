//! The JSON of the sweep's story: `incidents` (window, hosts, services, origin with its reason,
//! the chain with each finding's tie to what came before, first steps) and `timeline` (every
//! reported finding's bursts in time order, at most `incidents::TIMELINE_CAP`, with the cap and
//! the count stated). Findings are named by fingerprint, as in `triage`.

use serde::Serialize;

use super::Summary;
use super::incidents::{TIMELINE_CAP, place, timeline};
use crate::finding::fingerprint::hex;
use crate::finding::incident::Incident;
use crate::finding::scenario::{Server, Verdict};
use crate::finding::timeline::FOLD_MS;
use crate::rules::Rule;

#[derive(Serialize, schemars::JsonSchema)]
pub struct IncidentJson<'a> {
    start: String,
    end: String,
    hosts: &'a [String],
    services: &'a [&'static str],
    origin: OriginJson<'a>,
    chain: Vec<LinkJson<'a>>,
    /// The Run Book recovery scenario the incident is (the first that holds), with the
    /// evidence for each of its conditions; null when none holds.
    scenario: Option<ScenarioJson<'a>>,
    /// The other scenarios that hold.
    also: Vec<ScenarioJson<'a>>,
    /// The servers that failed in it: what the scenarios were judged on.
    failed: FailedJson,
    /// The scenario's first steps, then the origin's (as the human report shows them).
    first_steps: Vec<&'a str>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct ScenarioJson<'a> {
    id: &'a str,
    /// data-loss | intervention | zombie | automatic | single-worker
    class: &'static str,
    section: &'a str,
    title: &'a str,
    says: &'a str,
    evidence: &'a [String],
    steps: &'a [String],
}

#[derive(Serialize, schemars::JsonSchema)]
struct FailedJson {
    down: Vec<ServerJson>,
    not_serving: Vec<ServerJson>,
    disks_lost: Vec<ServerJson>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct ServerJson {
    role: String,
    host: Option<String>,
    /// What is counted: the host, a disk on it, or who saw an unnamed server fail.
    unit: String,
    at: String,
    reason: String,
    fingerprint: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct OriginJson<'a> {
    fingerprint: String,
    rule: &'a str,
    reason: &'a str,
}

#[derive(Serialize, schemars::JsonSchema)]
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

#[derive(Serialize, schemars::JsonSchema)]
pub struct TimelineJson<'a> {
    /// Occurrences of one finding closer than this are one entry.
    fold_ms: i64,
    cap: usize,
    count: usize,
    entries: Vec<EntryJson<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
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
                scenario: inc.scenarios.first().map(|v| scenario_json(s, v)),
                also: inc
                    .scenarios
                    .iter()
                    .skip(1)
                    .map(|v| scenario_json(s, v))
                    .collect(),
                failed: FailedJson {
                    down: servers(s, &inc.situation.down),
                    not_serving: servers(s, &inc.situation.not_serving),
                    disks_lost: servers(s, &inc.situation.disks_lost),
                },
                first_steps: first_steps(s, inc, origin_rule),
            }
        })
        .collect()
}

fn scenario_json<'a>(s: &'a Summary, v: &'a Verdict) -> ScenarioJson<'a> {
    let sc = &s.scenarios.scenarios[v.scenario];
    ScenarioJson {
        id: &sc.id,
        class: sc.class.as_str(),
        section: &sc.section,
        title: &sc.title,
        says: &sc.says,
        evidence: &v.evidence,
        steps: &sc.steps,
    }
}

fn servers(s: &Summary, list: &[Server]) -> Vec<ServerJson> {
    list.iter()
        .map(|x| ServerJson {
            role: x.role.clone(),
            host: x.host.clone(),
            unit: x.unit.clone(),
            at: s.clock.rfc3339(x.at),
            reason: x.reason.clone(),
            fingerprint: x.finding.map(|i| hex(s.findings[i].fingerprint)),
        })
        .collect()
}

/// The scenario's first step and the origin's first, or the origin's first two.
pub fn first_steps<'a>(s: &'a Summary, inc: &Incident, origin: &'a Rule) -> Vec<&'a str> {
    let scenario: &[String] = inc
        .scenarios
        .first()
        .map(|v| &s.scenarios.scenarios[v.scenario].steps[..])
        .unwrap_or_default();
    let own = if scenario.is_empty() { 2 } else { 1 };
    scenario
        .iter()
        .take(1)
        .chain(origin.runbook.iter().take(own))
        .map(String::as_str)
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
                let origin = e.origin();
                EntryJson {
                    time: s.clock.rfc3339(e.time),
                    until: s.clock.rfc3339(e.until),
                    count: e.burst.count,
                    host: origin.host.as_deref(),
                    service: origin.service,
                    severity: e.severity(rules).as_str(),
                    rule: e.rule(rules),
                    title: e.title(rules),
                    fingerprint: e.fingerprint(),
                    at: place(s, e.burst.at),
                }
            })
            .collect(),
    }
}
