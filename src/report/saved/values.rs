//! Reading a saved report's values back: times as stamps in the report's zone, the hosts'
//! clock corrections and the logs' own zones from the evidence, paths, fingerprints, bursts.

use crate::event::time::Zone;
use crate::event::{Level, Stamp};
use crate::finding::Origin;
use crate::finding::clock::Clock;
use crate::finding::phase::Phase;
use crate::finding::timeline::{Burst, Bursts};
use crate::matching::Occurrence;
use crate::rules::{Layer, Rule};
use crate::source::Problem;
use serde_json::Value;
use std::collections::HashMap;

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
pub(super) fn parse_text(text: &str) -> Option<Stamp> {
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
pub(super) fn offsets(doc: &Value) -> Vec<(String, i64)> {
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
pub(super) fn intern(known: &[&'static str], s: &str) -> &'static str {
    match known.iter().find(|k| **k == s) {
        Some(k) => k,
        None => Box::leak(s.to_string().into_boxed_str()),
    }
}

pub(super) fn str_of(v: &Value) -> Option<&str> {
    v.as_str()
}

pub(super) fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

pub(super) fn u64_of(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

pub(super) fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

pub(super) fn strings(v: &Value) -> Vec<String> {
    arr(v).iter().filter_map(string).collect()
}

pub(super) fn layer_of(s: &str) -> Result<Layer, String> {
    match s {
        "storage-coordination" => Ok(Layer::StorageCoordination),
        "data-services" => Ok(Layer::DataServices),
        "application" => Ok(Layer::Application),
        _ => Err(format!("unknown layer {s:?}")),
    }
}

pub(super) fn phase_of(s: &str) -> Option<Phase> {
    match s {
        "startup" => Some(Phase::Startup),
        "shutdown" => Some(Phase::Shutdown),
        "election" => Some(Phase::Election),
        _ => None,
    }
}

/// An RFC 3339 time of the report: its instant (milliseconds since the epoch).
pub(super) fn instant(s: &str) -> Result<i64, String> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|e| format!("time {s:?}: {e}"))
}

/// An RFC 3339 time of the report as a stamp: the civil time it is written in (the report's
/// zone), less its host's correction `off`, without a zone, so the report's clock reads it
/// back as the same instant.
pub(super) fn stamp(s: &str, off: i64) -> Result<Stamp, String> {
    stamp_in(s, off, None)
}

/// `stamp`, for a log whose times state their zone (`zone`: UTC or an offset): the stamp is
/// the time as that log wrote it, with its zone, as the engine read it.
pub(super) fn stamp_in(s: &str, off: i64, zone: Option<Zone>) -> Result<Stamp, String> {
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
pub(super) fn written_zone(evidence: &Value) -> Option<Zone> {
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

pub(super) fn stamp_opt(
    v: &Value,
    off: i64,
    zone: Option<Zone>,
) -> Result<Option<(i64, Stamp)>, String> {
    match v.as_str() {
        Some(s) => {
            let st = stamp_in(s, off, zone)?;
            Ok(Some((st.key(), st)))
        }
        None => Ok(None),
    }
}

/// Every stream's path, by index (evidence and places name streams by path).
pub(super) struct Paths {
    pub(super) paths: Vec<String>,
    pub(super) containers: Vec<Option<String>>,
    pub(super) index: HashMap<String, u32>,
}

impl Paths {
    pub(super) fn id(&mut self, path: &str) -> u32 {
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
    pub(super) fn place(&mut self, s: &str) -> (u32, u64) {
        match s.rsplit_once(':') {
            Some((p, l)) if l.parse::<u64>().is_ok() => (self.id(p), l.parse().unwrap_or(0)),
            _ => (self.id(s), 0),
        }
    }
}

/// The line of an evidence event that holds its rule's literal, when it is not the header
/// (the JSON keeps the event's text, not which line matched).
pub(super) fn hit_line(rule: Option<&Rule>, text: &str) -> Option<String> {
    let rule = rule?;
    let has = |l: &str| rule.literals.iter().any(|lit| l.contains(lit.as_str()));
    let mut lines = text.lines();
    if has(lines.next().unwrap_or("")) {
        return None;
    }
    lines.find(|l| has(l)).map(str::to_string)
}

pub(super) struct Reader {
    pub(super) offsets: Vec<(String, i64)>,
    pub(super) services: Vec<&'static str>,
    pub(super) paths: Paths,
}

impl Reader {
    /// A host's clock correction.
    pub(super) fn off(&self, host: Option<&str>) -> i64 {
        host.and_then(|h| self.offsets.iter().find(|(n, _)| n == h))
            .map_or(0, |(_, ms)| *ms)
    }

    pub(super) fn service(&self, v: &Value) -> Option<&'static str> {
        v.as_str().map(|s| intern(&self.services, s))
    }

    pub(super) fn origin(&self, service: &Value, host: Option<String>) -> Origin {
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

    pub(super) fn evidence(
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

pub(super) fn bursts_of(list: Vec<Burst>) -> Bursts {
    let mut b = Bursts::default();
    b.0 = list;
    b
}

pub(super) fn fingerprint_of(s: &str) -> Result<u64, String> {
    u64::from_str_radix(s, 16).map_err(|_| format!("fingerprint {s:?}: not 16 hex digits"))
}

pub(super) fn problems(v: &Value) -> Vec<Problem> {
    arr(v)
        .iter()
        .map(|p| Problem {
            path: str_of(&p["path"]).unwrap_or("").to_string(),
            message: str_of(&p["message"]).unwrap_or("").to_string(),
        })
        .collect()
}

/// The bursts the timeline holds, by fingerprint (or template id).
pub(super) fn bursts(
    doc: &Value,
    r: &mut Reader,
) -> Result<HashMap<String, Vec<(Burst, Value)>>, String> {
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
