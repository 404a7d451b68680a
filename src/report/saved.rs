//! A saved JSON report (`scan --format json`) read back into a `Summary`, so that
//! `logtriage report REPORT.json --format human|markdown|timeline` renders it with the same
//! writers as a sweep, without scanning again. The inverse of `json` and `story_json`: times
//! come back as stamps whose civil time is the instant in the report's zone (no zone of their
//! own), so `Clock::instant` gives back the instants the report holds; findings name their
//! rules by id (a rule the loaded packs lack is an error), incidents, triage and the timeline
//! name findings by fingerprint.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::{HostRow, SourceRow, Summary, baseline};
use crate::event::time::Zone;
use crate::event::{Level, Stamp};
use crate::finding::clock::Clock;
use crate::finding::incident::{Incident, Link, Tie};
use crate::finding::phase::Phase;
use crate::finding::scenario::{Server, Situation, Verdict};
use crate::finding::timeline::{Burst, Bursts};
use crate::finding::triage::TriageGroup;
use crate::finding::unknown::{Merged, Unknown};
use crate::finding::{Finding, Origin};
use crate::matching::Occurrence;
use crate::rules::scenario::Scenarios;
use crate::rules::{Layer, Rule, Severity};
use crate::source::Problem;

/// The clock of a saved report: its `scan.timezone` ("Etc/UTC (this machine's zone)": the
/// name is before the note, and the report names it whole), with the hosts' corrections.
pub fn clock_of(doc: &Value, offsets: Vec<(String, i64)>) -> Clock {
    let zone = doc["scan"]["timezone"].as_str().unwrap_or("UTC");
    let name = zone.split(" (").next().unwrap_or(zone);
    let mut clock = Clock::new(Some(name), offsets).unwrap_or_default();
    clock.name = zone.to_string();
    clock
}

/// A log's timestamp text (without its brackets) as the engine reads it.
fn parse_text(text: &str) -> Option<Stamp> {
    use crate::event::time::{TsKind, parse_kind};
    [format!("{text} x"), format!("[{text}] x")]
        .iter()
        .find_map(|l| {
            TsKind::ALL
                .iter()
                .find_map(|k| parse_kind(l.as_bytes(), *k))
        })
}

/// The hosts' clock corrections (`--clock-offset`) the report was written with: the JSON
/// holds corrected instants and, in evidence, each time as the log wrote it; the difference
/// is the host's correction.
fn offsets(doc: &Value) -> Vec<(String, i64)> {
    let plain = clock_of(doc, Vec::new());
    let mut out: Vec<(String, i64)> = Vec::new();
    let items = arr(&doc["findings"])
        .iter()
        .map(|f| (&f["host"], &f["evidence"]));
    for (host, evidence) in items {
        let Some(host) = host.as_str() else { continue };
        if out.iter().any(|(h, _)| h == host) {
            continue;
        }
        for e in arr(evidence) {
            let (Some(at), Some(text)) = (e["timestamp"].as_str(), e["timestamp_text"].as_str())
            else {
                continue;
            };
            let (Ok(at), Some(st)) = (instant(at), parse_text(text)) else {
                continue;
            };
            let off = at - plain.instant(&st, None);
            if off != 0 {
                out.push((host.to_string(), off));
            }
            break;
        }
    }
    out
}

/// A string made `'static`: the known names (services, layouts, compressors, components)
/// as they are; anything else leaked (a saved report is read once per process).
fn intern(known: &[&'static str], s: &str) -> &'static str {
    match known.iter().find(|k| **k == s) {
        Some(k) => k,
        None => Box::leak(s.to_string().into_boxed_str()),
    }
}

fn str_of(v: &Value) -> Option<&str> {
    v.as_str()
}

fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn strings(v: &Value) -> Vec<String> {
    arr(v).iter().filter_map(string).collect()
}

fn layer_of(s: &str) -> Result<Layer, String> {
    match s {
        "storage-coordination" => Ok(Layer::StorageCoordination),
        "data-services" => Ok(Layer::DataServices),
        "application" => Ok(Layer::Application),
        _ => Err(format!("unknown layer {s:?}")),
    }
}

fn phase_of(s: &str) -> Option<Phase> {
    match s {
        "startup" => Some(Phase::Startup),
        "shutdown" => Some(Phase::Shutdown),
        "election" => Some(Phase::Election),
        _ => None,
    }
}

/// An RFC 3339 time of the report: its instant (milliseconds since the epoch).
fn instant(s: &str) -> Result<i64, String> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|e| format!("time {s:?}: {e}"))
}

/// An RFC 3339 time of the report as a stamp: the civil time it is written in (the report's
/// zone), less its host's correction `off`, without a zone, so the report's clock reads it
/// back as the same instant.
fn stamp(s: &str, off: i64) -> Result<Stamp, String> {
    stamp_in(s, off, None)
}

/// `stamp`, for a log whose times state their zone (`zone`: UTC or an offset): the stamp is
/// the time as that log wrote it, with its zone, as the engine read it.
fn stamp_in(s: &str, off: i64, zone: Option<Zone>) -> Result<Stamp, String> {
    let ts: jiff::Timestamp = s.parse().map_err(|e| format!("time {s:?}: {e}"))?;
    // The offset it was written with gives its civil time in the report's zone.
    let offset = s
        .rfind(['+', '-'])
        .filter(|&i| i > 10)
        .and_then(|i| {
            let (h, m) = s[i + 1..].split_once(':')?;
            let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
            Some(if &s[i..=i] == "-" { -secs } else { secs })
        })
        .unwrap_or(0);
    let offset = match zone {
        Some(Zone::Utc) => 0,
        Some(Zone::Offset(m)) => m * 60,
        _ => offset,
    };
    let offset = jiff::tz::Offset::from_seconds(offset).map_err(|e| e.to_string())?;
    Ok(Stamp {
        end: 0,
        start: 0,
        text_end: 0,
        civil: offset.to_datetime(
            jiff::Timestamp::from_millisecond(ts.as_millisecond() - off).unwrap_or(ts),
        ),
        zone: zone.filter(|z| !matches!(z, Zone::Named)),
    })
}

/// The zone a log's times state, from its evidence's timestamps as written (none when they
/// state none: they were read in the report's zone).
fn written_zone(evidence: &Value) -> Option<Zone> {
    arr(evidence)
        .iter()
        .filter(|e| !e["timestamp"].is_null())
        .filter_map(|e| match e["timestamp_text"].as_str() {
            Some(t) => parse_text(t),
            // A synthetic finding's evidence (a log that stopped): its line as written.
            None => {
                let line = e["text"].as_str()?.lines().next()?.as_bytes();
                use crate::event::time::{TsKind, parse_kind};
                TsKind::ALL.iter().find_map(|k| parse_kind(line, *k))
            }
        })
        .map(|st| st.zone)
        .next()
        .flatten()
        .filter(|z| !matches!(z, Zone::Named))
}

fn stamp_opt(v: &Value, off: i64, zone: Option<Zone>) -> Result<Option<(i64, Stamp)>, String> {
    match v.as_str() {
        Some(s) => {
            let st = stamp_in(s, off, zone)?;
            Ok(Some((st.key(), st)))
        }
        None => Ok(None),
    }
}

/// Every stream's path, by index (evidence and places name streams by path).
struct Paths {
    paths: Vec<String>,
    containers: Vec<Option<String>>,
    index: HashMap<String, u32>,
}

impl Paths {
    fn id(&mut self, path: &str) -> u32 {
        if let Some(&i) = self.index.get(path) {
            return i;
        }
        let i = self.paths.len() as u32;
        self.paths.push(path.to_string());
        self.containers.push(None);
        self.index.insert(path.to_string(), i);
        i
    }

    /// `path:line`.
    fn place(&mut self, s: &str) -> (u32, u64) {
        match s.rsplit_once(':') {
            Some((p, l)) if l.parse::<u64>().is_ok() => (self.id(p), l.parse().unwrap_or(0)),
            _ => (self.id(s), 0),
        }
    }
}

/// The line of an evidence event that holds its rule's literal, when it is not the header
/// (the JSON keeps the event's text, not which line matched).
fn hit_line(rule: Option<&Rule>, text: &str) -> Option<String> {
    let rule = rule?;
    let has = |l: &str| rule.literals.iter().any(|lit| l.contains(lit.as_str()));
    let mut lines = text.lines();
    if has(lines.next().unwrap_or("")) {
        return None;
    }
    lines.find(|l| has(l)).map(str::to_string)
}

struct Reader {
    offsets: Vec<(String, i64)>,
    services: Vec<&'static str>,
    paths: Paths,
}

impl Reader {
    /// A host's clock correction.
    fn off(&self, host: Option<&str>) -> i64 {
        host.and_then(|h| self.offsets.iter().find(|(n, _)| n == h))
            .map_or(0, |(_, ms)| *ms)
    }

    fn service(&self, v: &Value) -> Option<&'static str> {
        v.as_str().map(|s| intern(&self.services, s))
    }

    fn origin(&self, service: &Value, host: Option<String>) -> Origin {
        let info = service
            .as_str()
            .and_then(crate::source::origin::service_info);
        Origin {
            service: info.map(|i| i.0).or_else(|| self.service(service)),
            component: info.map(|i| i.1),
            layer: info.map(|i| i.2),
            host,
            container: None,
            application: None,
        }
    }

    fn evidence(
        &mut self,
        v: &Value,
        rule: Option<(u32, &Rule)>,
        fingerprint: u64,
        phase: Option<Phase>,
        host: Option<&str>,
    ) -> Result<Vec<(u32, Occurrence)>, String> {
        let off = self.off(host);
        let zone = written_zone(v);
        let mut out = Vec::new();
        for e in arr(v) {
            let path = str_of(&e["path"]).unwrap_or("");
            let i = self.paths.id(path);
            if let Some(c) = string(&e["container"]) {
                self.paths.containers[i as usize] = Some(c);
            }
            let text = str_of(&e["text"]).unwrap_or("").to_string();
            out.push((
                i,
                Occurrence {
                    rule: rule.map_or(crate::matching::UNKNOWN, |r| r.0),
                    line: u64_of(&e["line"]),
                    stamp: match e["timestamp"].as_str() {
                        Some(s) => Some(stamp_in(s, off, zone)?),
                        None => None,
                    },
                    stamp_text: string(&e["timestamp_text"]),
                    level: e["level"].as_str().and_then(|l| Level::parse(l.as_bytes())),
                    hit_line: hit_line(rule.map(|r| r.1), &text),
                    text,
                    fields: Vec::new(),
                    fingerprint,
                    template: None,
                    phase,
                },
            ));
        }
        Ok(out)
    }
}

fn bursts_of(list: Vec<Burst>) -> Bursts {
    let mut b = Bursts::default();
    b.0 = list;
    b
}

fn fingerprint_of(s: &str) -> Result<u64, String> {
    u64::from_str_radix(s, 16).map_err(|_| format!("fingerprint {s:?}: not 16 hex digits"))
}

fn problems(v: &Value) -> Vec<Problem> {
    arr(v)
        .iter()
        .map(|p| Problem {
            path: str_of(&p["path"]).unwrap_or("").to_string(),
            message: str_of(&p["message"]).unwrap_or("").to_string(),
        })
        .collect()
}

/// The bursts the timeline holds, by fingerprint (or template id).
fn bursts(doc: &Value, r: &mut Reader) -> Result<HashMap<String, Vec<(Burst, Value)>>, String> {
    let mut out: HashMap<String, Vec<(Burst, Value)>> = HashMap::new();
    for e in arr(&doc["timeline"]["entries"]) {
        let off = r.off(e["host"].as_str());
        let first = stamp(str_of(&e["time"]).unwrap_or(""), off)?;
        let last = stamp(str_of(&e["until"]).unwrap_or(""), off)?;
        let at = r.paths.place(str_of(&e["at"]).unwrap_or(""));
        out.entry(str_of(&e["fingerprint"]).unwrap_or("").to_string())
            .or_default()
            .push((
                Burst {
                    first: (first.key(), first),
                    last: (last.key(), last),
                    count: u64_of(&e["count"]),
                    at,
                },
                e.clone(),
            ));
    }
    Ok(out)
}

/// Rebuilds the `Summary` a saved JSON report was written from. `rules` and `scenarios` are
/// the loaded packs: every finding's rule and every incident's scenario must be in them.
/// Warnings (what the report cannot give back) are in the second value.
pub fn summary_from_json(
    doc: &Value,
    rules: &[Rule],
    scenarios: &Scenarios,
) -> Result<Summary, String> {
    summary_and_notes(doc, rules, scenarios).map(|(s, _)| s)
}

/// `summary_from_json`, and the notes on what the saved report could not give back (the
/// timeline cut at its cap).
pub fn summary_and_notes(
    doc: &Value,
    rules: &[Rule],
    scenarios: &Scenarios,
) -> Result<(Summary, Vec<String>), String> {
    let mut notes = Vec::new();
    let scan = &doc["scan"];
    let offsets = offsets(doc);
    let clock = clock_of(doc, offsets.clone());
    let mut r = Reader {
        offsets,
        services: crate::source::origin::service_names(),
        paths: Paths {
            paths: Vec::new(),
            containers: Vec::new(),
            index: HashMap::new(),
        },
    };
    let layout_names: Vec<&'static str> = Vec::new();
    let compressions = ["gzip", "xz", "bzip2", "zstd"];
    let mut sources = Vec::new();
    for s in arr(&doc["sources"]) {
        let path = str_of(&s["path"]).unwrap_or("");
        let i = r.paths.id(path);
        r.paths.containers[i as usize] = string(&s["container"]);
        sources.push(SourceRow {
            path: path.to_string(),
            layout: s["layout"].as_str().map(|l| intern(&layout_names, l)),
            compression: s["compression"].as_str().map(|c| intern(&compressions, c)),
            bytes: u64_of(&s["bytes"]),
            lines: u64_of(&s["lines"]),
            service: r.service(&s["service"]),
            host: string(&s["host"]),
            container: string(&s["container"]),
            application: string(&s["application"]),
            log_type: string(&s["log_type"]),
            note: string(&s["note"]),
            clue: 0,
        });
    }
    let mut timeline = bursts(doc, &mut r)?;
    let count = u64_of(&doc["timeline"]["count"]) as usize;
    let held = arr(&doc["timeline"]["entries"]).len();
    if count > held {
        notes.push(format!(
            "the saved report's timeline holds {held} of {count} entries: findings' bursts past them are not shown"
        ));
    }

    // Findings, in the report's (sorted) order.
    let mut findings = Vec::new();
    let mut by_fingerprint: HashMap<String, usize> = HashMap::new();
    for f in arr(&doc["findings"]) {
        let id = str_of(&f["rule"]).unwrap_or("");
        let Some(ri) = rules.iter().position(|x| x.id == id) else {
            return Err(format!(
                "finding of rule {id:?}: no such rule in the loaded packs (give its pack with --rules)"
            ));
        };
        let rule = &rules[ri];
        let fp_text = str_of(&f["fingerprint"]).unwrap_or("");
        let fingerprint = fingerprint_of(fp_text)?;
        let phase = f["phase"].as_str().and_then(phase_of);
        let host = string(&f["host"]);
        let off = r.off(host.as_deref());
        let zone = written_zone(&f["evidence"]);
        let evidence = r.evidence(
            &f["evidence"],
            Some((ri as u32, rule)),
            fingerprint,
            phase,
            host.as_deref(),
        )?;
        let files: Vec<u32> = strings(&f["files"]).iter().map(|p| r.paths.id(p)).collect();
        let mut origin = r.origin(&f["service"], host);
        origin.container = string(&f["container"]);
        origin.application = string(&f["application"]);
        let first_at = evidence
            .first()
            .map(|(i, o)| (*i, o.line))
            .or_else(|| files.first().map(|&i| (i, 0)))
            .unwrap_or((0, 0));
        let fields = f["fields"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let bursts = timeline
            .remove(fp_text)
            .unwrap_or_default()
            .into_iter()
            .map(|b| b.0)
            .collect();
        by_fingerprint
            .entry(fp_text.to_string())
            .or_insert(findings.len());
        findings.push(Finding {
            rule: ri as u32,
            fingerprint,
            count: u64_of(&f["count"]),
            first_seen: stamp_opt(&f["first_seen"], off, zone)?,
            last_seen: stamp_opt(&f["last_seen"], off, zone)?,
            first_at,
            evidence,
            files,
            files_total: u64_of(&f["files_total"]),
            fields,
            origin,
            containers: strings(&f["containers"]),
            threshold: None,
            phase,
            undecided: None,
            undecided_whole: false,
            bursts: bursts_of(bursts),
        });
    }
    let finding_of = |fp: &Value| -> Result<usize, String> {
        let fp = str_of(fp).unwrap_or("");
        by_fingerprint
            .get(fp)
            .copied()
            .ok_or_else(|| format!("fingerprint {fp}: no such finding in the report"))
    };

    // Error events no rule knows.
    let mut templates = Vec::new();
    for u in arr(&doc["unknown"]) {
        let id = str_of(&u["template_id"]).unwrap_or("").to_string();
        let files: Vec<u32> = strings(&u["files"]).iter().map(|p| r.paths.id(p)).collect();
        let services: BTreeSet<&'static str> = arr(&u["services"])
            .iter()
            .filter_map(|s| r.service(s))
            .collect();
        let hosts: BTreeSet<String> = strings(&u["hosts"]).into_iter().collect();
        let held = timeline.remove(&id).unwrap_or_default();
        // Its origin: as the timeline names it, else its first service and host.
        let (service, host) = match held.first() {
            Some((_, e)) => (e["service"].clone(), string(&e["host"])),
            None => (
                services
                    .iter()
                    .next()
                    .map_or(Value::Null, |s| Value::from(*s)),
                hosts.iter().next().cloned(),
            ),
        };
        let off = r.off(host.as_deref());
        let zone = written_zone(&u["evidence"]);
        let evidence = r.evidence(&u["evidence"], None, 0, None, host.as_deref())?;
        let mut origin = r.origin(&service, host);
        if let Some(c) = u["component"].as_str() {
            origin.component = Some(intern(&[], c));
        }
        let first_at = evidence
            .first()
            .map(|(i, o)| (*i, o.line))
            .or_else(|| files.first().map(|&i| (i, 0)))
            .unwrap_or((0, 0));
        templates.push(Unknown {
            text: str_of(&u["template"]).unwrap_or("").to_string(),
            exception: string(&u["exception"]),
            level: u["level"]
                .as_str()
                .and_then(|l| Level::parse(l.as_bytes()))
                .unwrap_or(Level::Error),
            count: u64_of(&u["count"]),
            first_seen: stamp_opt(&u["first_seen"], off, zone)?,
            last_seen: stamp_opt(&u["last_seen"], off, zone)?,
            first_at,
            evidence,
            files,
            files_total: u64_of(&u["files_total"]),
            origin,
            services,
            hosts,
            bursts: bursts_of(held.into_iter().map(|b| b.0).collect()),
            id,
        });
    }

    // Triage.
    let mut triage = Vec::new();
    for g in arr(&doc["triage"]) {
        triage.push(TriageGroup {
            layer: layer_of(str_of(&g["layer"]).unwrap_or(""))?,
            component: str_of(&g["component"]).unwrap_or("").to_string(),
            host: string(&g["host"]),
            seen_by: r.service(&g["seen_by"]),
            severity: Severity::parse(str_of(&g["severity"]).unwrap_or(""))
                .unwrap_or(Severity::Info),
            findings: arr(&g["findings"])
                .iter()
                .map(finding_of)
                .collect::<Result<_, _>>()?,
        });
    }

    // Incidents.
    let mut incidents = Vec::new();
    for inc in arr(&doc["incidents"]) {
        let chain_json = arr(&inc["chain"]);
        let mut chain = Vec::new();
        for l in chain_json {
            let tie = match str_of(&l["tie"]).unwrap_or("none") {
                "origin" => Tie::Origin,
                kind @ ("declared" | "lower-layer") => {
                    let after = str_of(&l["after"]).unwrap_or("");
                    let after = chain_json
                        .iter()
                        .position(|x| str_of(&x["fingerprint"]) == Some(after))
                        .ok_or_else(|| {
                            format!("incident chain: {after} is not in the chain it follows")
                        })?;
                    if kind == "declared" {
                        Tie::Declared { after }
                    } else {
                        Tie::LowerLayer { after }
                    }
                }
                _ => Tie::None,
            };
            chain.push(Link {
                finding: finding_of(&l["fingerprint"])?,
                first: instant(str_of(&l["first"]).unwrap_or(""))?,
                at: r.paths.place(str_of(&l["at"]).unwrap_or("")),
                count: u64_of(&l["count"]),
                layer: layer_of(str_of(&l["layer"]).unwrap_or(""))?,
                tie,
            });
        }
        let origin_fp = &inc["origin"]["fingerprint"];
        let origin = chain
            .iter()
            .position(|l| l.tie == Tie::Origin)
            .or_else(|| {
                chain_json
                    .iter()
                    .position(|l| l["fingerprint"] == *origin_fp)
            })
            .unwrap_or(0);
        let servers = |v: &Value| -> Result<Vec<Server>, String> {
            arr(v)
                .iter()
                .map(|x| {
                    Ok(Server {
                        role: str_of(&x["role"]).unwrap_or("").to_string(),
                        host: string(&x["host"]),
                        unit: str_of(&x["unit"]).unwrap_or("").to_string(),
                        at: instant(str_of(&x["at"]).unwrap_or(""))?,
                        reason: str_of(&x["reason"]).unwrap_or("").to_string(),
                        finding: match x["fingerprint"] {
                            Value::Null => None,
                            ref fp => Some(finding_of(fp)?),
                        },
                        reported: false,
                    })
                })
                .collect()
        };
        let failed = &inc["failed"];
        let situation = Situation {
            down: servers(&failed["down"])?,
            not_serving: servers(&failed["not_serving"])?,
            disks_lost: servers(&failed["disks_lost"])?,
            ..Situation::default()
        };
        let mut verdicts = Vec::new();
        for v in std::iter::once(&inc["scenario"])
            .filter(|v| !v.is_null())
            .chain(arr(&inc["also"]))
        {
            let id = str_of(&v["id"]).unwrap_or("");
            let scenario = scenarios
                .scenarios
                .iter()
                .position(|s| s.id == id)
                .ok_or_else(|| {
                    format!(
                        "incident scenario {id:?}: no such scenario in the loaded packs (give its pack with --rules)"
                    )
                })?;
            verdicts.push(Verdict {
                scenario,
                evidence: strings(&v["evidence"]),
            });
        }
        incidents.push(Incident {
            start: instant(str_of(&inc["start"]).unwrap_or(""))?,
            end: instant(str_of(&inc["end"]).unwrap_or(""))?,
            origin,
            origin_reason: str_of(&inc["origin"]["reason"]).unwrap_or("").to_string(),
            chain,
            hosts: strings(&inc["hosts"]),
            services: arr(&inc["services"])
                .iter()
                .filter_map(|s| r.service(s))
                .collect(),
            situation,
            scenarios: verdicts,
        });
    }

    // Suppressions.
    let mut suppressed = Vec::new();
    let mut expired = Vec::new();
    for e in arr(&doc["suppressed"]) {
        use crate::config::{Suppress, Target};
        let target = if let Some(x) = string(&e["rule"]) {
            Target::Rule(x)
        } else if let Some(x) = string(&e["fingerprint"]) {
            Target::Fingerprint(x)
        } else {
            Target::Template(string(&e["template"]).unwrap_or_default())
        };
        let entry = Suppress {
            target,
            hosts: strings(&e["hosts"]),
            services: strings(&e["services"]),
            paths: None,
            path_globs: strings(&e["paths"]),
            reason: str_of(&e["reason"]).unwrap_or("").to_string(),
            until: string(&e["until"]),
            at: str_of(&e["entry"]).unwrap_or("").to_string(),
        };
        if e["expired"].as_bool() == Some(true) {
            expired.push(entry);
        } else {
            suppressed.push(super::SuppressedRow {
                entry,
                findings: u64_of(&e["findings"]),
                templates: u64_of(&e["templates"]),
                events: u64_of(&e["events"]),
            });
        }
    }

    // The comparison with a baseline, when the report was written with one.
    let compared = match doc.get("baseline") {
        Some(b) if !b.is_null() => {
            let old = |v: &Value| -> Result<Vec<baseline::OldFinding>, String> {
                serde_json::from_value(v.clone()).map_err(|e| format!("baseline: {e}"))
            };
            Some(baseline::Compared {
                path: str_of(&b["path"]).unwrap_or("").to_string(),
                ongoing: arr(&doc["findings"])
                    .iter()
                    .map(|f| f["status"].as_str() == Some("ongoing"))
                    .collect(),
                resolved: old(&b["resolved"])?,
                not_rechecked: old(&b["not_rechecked"])?,
            })
        }
        _ => None,
    };

    let mut layouts = BTreeMap::new();
    if let Some(m) = scan["layouts"].as_object() {
        for (k, v) in m {
            layouts.insert(intern(&layout_names, k), v.as_u64().unwrap_or(0) as usize);
        }
    }
    let max_severity = findings
        .iter()
        .map(|f| f.severity(rules))
        .chain(templates.iter().map(Unknown::severity))
        .max();
    // Streams counted but not listed (unreadable ones): their errors name them.
    let files = u64_of(&scan["files"]) as usize;
    for p in problems(&doc["errors"]) {
        if r.paths.paths.len() < files && !r.paths.index.contains_key(&p.path) {
            r.paths.id(&p.path);
        }
    }
    while r.paths.paths.len() < files {
        r.paths.paths.push(String::new());
        r.paths.containers.push(None);
    }
    let Reader { paths, .. } = r;
    let summary = Summary {
        inputs: strings(&scan["inputs"]),
        paths: paths.paths,
        containers: paths.containers,
        sources,
        hosts: arr(&doc["hosts"])
            .iter()
            .map(|h| HostRow {
                name: str_of(&h["name"]).unwrap_or("").to_string(),
                seen_as: strings(&h["seen_as"]),
            })
            .collect(),
        bytes: u64_of(&scan["bytes"]),
        lines: u64_of(&scan["lines"]),
        events: u64_of(&scan["events"]),
        cut_lines: u64_of(&scan["cut_lines"]),
        layouts,
        duration_ms: u128::from(u64_of(&scan["duration_ms"])),
        rules: u64_of(&scan["rules"]) as usize,
        skipped: problems(&doc["skipped"]),
        warnings: problems(&doc["warnings"]),
        errors: problems(&doc["errors"]),
        findings,
        unknown: Merged {
            templates,
            other_templates: u64_of(&doc["unknown_other"]["templates"]),
            other_events: u64_of(&doc["unknown_other"]["events"]),
        },
        suppressed,
        config: string(&doc["config"]),
        expired,
        triage,
        incidents,
        incident_gap_ms: doc["incident_gap_ms"].as_i64().unwrap_or(0),
        clock,
        scenarios: scenarios.clone(),
        baseline: compared,
        max_severity,
    };
    Ok((summary, notes))
}
