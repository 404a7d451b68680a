//! `--format html`: one self-contained page for people: a header (what was scanned, with
//! which rules, what could not be read), START HERE, the incidents, a timeline drawn in inline
//! SVG (a lane per host and service, a mark per timeline entry, incidents shaded, silences
//! drawn as gaps), the findings (sortable, filterable, with evidence and runbook steps) and the
//! unknown templates.
//!
//! The page shows the JSON document (`super::json`) and nothing else: that document is written,
//! parsed back and handed to a `minijinja` template (auto-escaping on: every text from a log is
//! escaped, none is marked safe). The data the page's script needs is embedded as JSON in a
//! `<script type="application/json">`, with `<`, `>` and `&` written as `\u003c`, `\u003e`,
//! `\u0026` so that no log text can close it. The page loads nothing: CSS, script and SVG are
//! inline. Same input, same bytes (the scan's `duration_ms` is left out).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use minijinja::{Environment, Value};
use serde::Serialize;
use serde_json::Value as Json;

use super::Summary;
use super::text::human_bytes;
use crate::finding::clock::Clock;
use crate::rules::Rule;

const TEMPLATE: &str = include_str!("html/report.html");
const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Severities, worst first (the page's order and colours).
const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// Findings past this many have their evidence and runbook drawn by the page's script when
/// opened (from the embedded data, as text): 10,000 findings' markup would take the browser
/// many seconds to parse.
const LAZY_FROM: usize = 500;

/// The timeline's geometry (in SVG user units).
const LABEL_W: f64 = 240.0;
const PLOT_W: f64 = 940.0;
const RIGHT_PAD: f64 = 50.0;
const AXIS_H: f64 = 30.0;
const LANE_H: f64 = 22.0;
const MARK_H: f64 = 12.0;
const MIN_MARK_W: f64 = 3.0;

pub fn write(out: &mut dyn Write, s: &Summary, rules: &[Rule]) -> io::Result<()> {
    let mut json = Vec::new();
    super::json::write(&mut json, s, rules)?;
    let mut doc: Json = serde_json::from_slice(&json).map_err(io::Error::other)?;
    // The only part of the document that changes between two runs over the same input.
    if let Some(scan) = doc.get_mut("scan").and_then(Json::as_object_mut) {
        scan.remove("duration_ms");
    }
    write_doc(out, &doc, &s.clock)
}

/// The page for a JSON report (`logtriage report`): its times are shown in its own zone.
pub fn write_saved(out: &mut dyn Write, doc: &Json) -> io::Result<()> {
    let zone = doc["scan"]["timezone"].as_str().unwrap_or("UTC");
    // "Etc/UTC (this machine's zone)": the name is before the note.
    let name = zone.split(" (").next().unwrap_or(zone);
    let clock = crate::finding::clock::Clock::new(Some(name), Vec::new()).unwrap_or_default();
    write_doc(out, doc, &clock)
}

fn write_doc(out: &mut dyn Write, doc: &Json, clock: &Clock) -> io::Result<()> {
    let page = render(doc, clock).map_err(io::Error::other)?;
    out.write_all(page.as_bytes())?;
    out.flush()
}

/// The page for a JSON document (`clock` gives the axis's and the silences' times).
fn render(doc: &Json, clock: &Clock) -> Result<String, minijinja::Error> {
    // Cargo.toml enables minijinja's `builtins` but not its `serde` feature, for which
    // `new` warns (deprecated) though it works; enabling `serde` there lets this allow go.
    #[allow(deprecated)]
    let mut env = Environment::new();
    // Named .html: auto-escaping is on.
    env.add_template("report.html", TEMPLATE)?;
    let findings = doc["findings"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let has_status = findings.iter().any(|f| f.get("status").is_some());
    let mut by_severity: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        *by_severity.entry(str_of(&f["severity"])).or_default() += 1;
    }
    let severity_counts: Vec<(&str, usize)> = SEVERITIES
        .iter()
        .filter_map(|&sev| by_severity.get(sev).map(|&n| (sev, n)))
        .collect();
    let hosts: BTreeSet<&str> = findings.iter().filter_map(|f| f["host"].as_str()).collect();
    let components: BTreeSet<&str> = findings.iter().map(|f| str_of(&f["component"])).collect();
    let no_host = findings.iter().any(|f| f["host"].is_null());
    let index: BTreeMap<&str, usize> = findings
        .iter()
        .enumerate()
        .rev()
        .map(|(i, f)| (str_of(&f["fingerprint"]), i))
        .collect();
    let timeline = timeline(doc, clock, &index);
    let by_fp: BTreeMap<&str, Json> = index
        .iter()
        .map(|(&fp, &i)| {
            let f = &findings[i];
            let brief = serde_json::json!({
                "row": i,
                "title": f["title"],
                "summary": f["summary"],
                "severity": f["severity"],
                "host": f["host"],
                "service": f["service"],
                "component": f["component"],
            });
            (fp, brief)
        })
        .collect();
    let ctx = minijinja::context! {
        doc => Value::from_serialize(doc),
        version => env!("CARGO_PKG_VERSION"),
        style => Value::from_safe_string(STYLE.to_string()),
        script => Value::from_safe_string(SCRIPT.to_string()),
        data => Value::from_safe_string(data_json(findings)),
        lazy_from => LAZY_FROM,
        bytes => human_bytes(doc["scan"]["bytes"].as_u64().unwrap_or(0)),
        span => span(doc),
        severity_counts => severity_counts,
        severities => SEVERITIES,
        has_status => has_status,
        hosts => hosts,
        no_host => no_host,
        components => components,
        timeline => Value::from_serialize(&timeline),
        by_fp => Value::from_serialize(&by_fp),
    };
    env.get_template("report.html")?.render(ctx)
}

fn str_of(v: &Json) -> &str {
    v.as_str().unwrap_or("")
}

fn millis(v: &Json) -> Option<i64> {
    v.as_str()?
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// What the script sorts and filters on, one row per finding in table order; `<`, `>` and
/// `&` escaped so that nothing in it can end the `<script>` element holding it.
fn data_json(findings: &[Json]) -> String {
    let rows: Vec<Json> = findings
        .iter()
        .map(|f| {
            let rank = SEVERITIES
                .iter()
                .position(|&x| x == str_of(&f["severity"]))
                .unwrap_or(SEVERITIES.len());
            serde_json::json!({
                "fingerprint": f["fingerprint"],
                "severity": f["severity"],
                "rank": rank,
                "status": f.get("status").cloned().unwrap_or(Json::Null),
                "title": f["title"],
                "summary": f["summary"],
                "rule": f["rule"],
                "component": f["component"],
                "service": f["service"],
                "host": f["host"],
                "count": f["count"],
                "first": millis(&f["first_seen"]),
                "last": millis(&f["last_seen"]),
            })
        })
        .collect();
    // The evidence and runbooks of the findings drawn when opened.
    let mut details = serde_json::Map::new();
    let mut runbooks = serde_json::Map::new();
    for (i, f) in findings.iter().enumerate().skip(LAZY_FROM) {
        let evidence: Vec<Json> = f["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let mut at = format!("{}:{}", str_of(&e["path"]), e["line"]);
                if let Some(c) = e["container"].as_str() {
                    at.push_str(&format!(" ({c})"));
                }
                if let Some(t) = e["timestamp"].as_str() {
                    at.push_str(&format!(" · {t}"));
                }
                serde_json::json!([at, e["text"]])
            })
            .collect();
        let files = f["files"].as_array().map_or(0, Vec::len) as u64;
        let total = f["files_total"].as_u64().unwrap_or(0);
        let note = if total > files {
            format!("in {total} files, {files} listed")
        } else {
            String::new()
        };
        details.insert(
            i.to_string(),
            serde_json::json!({
                "threshold": f["threshold"],
                "fields": f["fields"],
                "evidence": evidence,
                "files": if note.is_empty() { Json::Null } else { Json::String(note) },
                "rule": f["rule"],
            }),
        );
        runbooks
            .entry(str_of(&f["rule"]).to_string())
            .or_insert_with(|| f["runbook"].clone());
    }
    let text = serde_json::json!({ "findings": rows, "details": details, "runbooks": runbooks })
        .to_string();
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => safe.push_str("\\u003c"),
            '>' => safe.push_str("\\u003e"),
            '&' => safe.push_str("\\u0026"),
            '\u{2028}' => safe.push_str("\\u2028"),
            '\u{2029}' => safe.push_str("\\u2029"),
            c => safe.push(c),
        }
    }
    safe
}

/// The first and last time the findings and unknown templates were seen.
fn span(doc: &Json) -> Option<(String, String)> {
    let mut times: Vec<(i64, &str)> = Vec::new();
    for key in ["findings", "unknown"] {
        for f in doc[key].as_array().into_iter().flatten() {
            for t in [&f["first_seen"], &f["last_seen"]] {
                if let Some(ms) = millis(t) {
                    times.push((ms, str_of(t)));
                }
            }
        }
    }
    let first = times.iter().min()?;
    let last = times.iter().max()?;
    Some((first.1.to_string(), last.1.to_string()))
}

#[derive(Serialize, Default)]
struct Timeline {
    width: String,
    height: String,
    plot_x: String,
    plot_end: String,
    axis_y: String,
    lanes: Vec<Lane>,
    marks: Vec<Mark>,
    incidents: Vec<Shade>,
    gaps: Vec<Shade>,
    ticks: Vec<Tick>,
    /// The entries of the document and of the whole sweep (the cap cut the rest).
    shown: usize,
    count: usize,
}

#[derive(Serialize)]
struct Lane {
    label: String,
    y: String,
    mid: String,
    /// Where the lane's line ends: the plot's end, or where its log stopped.
    end: String,
    stripe: bool,
}

#[derive(Serialize)]
struct Mark {
    x: String,
    y: String,
    w: String,
    h: String,
    severity: String,
    fingerprint: String,
    /// The finding's row in the table, if it is one.
    row: Option<usize>,
    title: String,
}

#[derive(Serialize)]
struct Shade {
    x: String,
    y: String,
    w: String,
    h: String,
    /// silence | restart | incident
    kind: &'static str,
    label: String,
    title: String,
}

#[derive(Serialize)]
struct Tick {
    x: String,
    label: String,
}

fn n(v: f64) -> String {
    format!("{v:.1}")
}

type LaneKey = (Option<String>, Option<String>);

fn lane_key(v: &Json) -> LaneKey {
    (
        v["host"].as_str().map(str::to_string),
        v["service"].as_str().map(str::to_string),
    )
}

/// The SVG timeline: a lane per host and service, one mark per timeline entry.
fn timeline(doc: &Json, clock: &Clock, index: &BTreeMap<&str, usize>) -> Timeline {
    let entries = doc["timeline"]["entries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let findings = doc["findings"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let incidents = doc["incidents"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    // Silences: a log that stopped (its lane ends at its last line), a daemon down and
    // restarted (a gap from its last line before to its first line after).
    let mut stops: BTreeMap<LaneKey, (i64, String)> = BTreeMap::new();
    let mut restarts: Vec<(LaneKey, i64, i64, String)> = Vec::new();
    for f in findings {
        let Some(at) = millis(&f["first_seen"]) else {
            continue;
        };
        let text = format!("{}: {}", str_of(&f["title"]), str_of(&f["summary"]));
        match str_of(&f["rule"]) {
            "jvm.stopped-logging" => {
                stops.insert(lane_key(f), (at, text));
            }
            "jvm.down-then-restarted" => {
                let field = |k: &str| {
                    f["fields"][k]
                        .as_str()
                        .and_then(|v| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", v).ok())
                };
                let until = match (field("down_from"), field("down_until")) {
                    (Some(a), Some(b)) => at + a.duration_until(b).as_millis() as i64,
                    _ => at,
                };
                restarts.push((lane_key(f), at, until, text));
            }
            _ => {}
        }
    }
    let mut lane_keys: BTreeSet<LaneKey> = entries.iter().map(lane_key).collect();
    lane_keys.extend(stops.keys().cloned());
    lane_keys.extend(restarts.iter().map(|r| r.0.clone()));
    if lane_keys.is_empty() {
        return Timeline::default();
    }
    // The axis spans every entry, incident and silence.
    let mut times: Vec<i64> = Vec::new();
    for e in entries {
        times.extend(millis(&e["time"]));
        times.extend(millis(&e["until"]));
    }
    for inc in incidents {
        times.extend(millis(&inc["start"]));
        times.extend(millis(&inc["end"]));
    }
    times.extend(stops.values().map(|v| v.0));
    times.extend(restarts.iter().flat_map(|r| [r.1, r.2]));
    let t0 = times.iter().copied().min().unwrap_or(0);
    let mut t1 = times.iter().copied().max().unwrap_or(0);
    if t1 <= t0 {
        t1 = t0 + 60_000;
    }
    // A margin so that marks at the ends stay inside.
    let margin = (t1 - t0) / 50;
    let (t0, t1) = (t0 - margin, t1 + margin);
    let x = |ms: i64| LABEL_W + (ms - t0) as f64 * PLOT_W / (t1 - t0) as f64;
    let plot_end = LABEL_W + PLOT_W;
    let lanes_index: BTreeMap<&LaneKey, usize> =
        lane_keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let lane_y = |i: usize| AXIS_H + i as f64 * LANE_H;
    let height = AXIS_H + lane_keys.len() as f64 * LANE_H + 6.0;
    let lanes = lane_keys
        .iter()
        .enumerate()
        .map(|(i, (host, service))| {
            let key = (host.clone(), service.clone());
            Lane {
                label: format!(
                    "{} · {}",
                    host.as_deref().unwrap_or("(no host)"),
                    service.as_deref().unwrap_or("(no service)")
                ),
                y: n(lane_y(i)),
                mid: n(lane_y(i) + LANE_H / 2.0),
                end: n(stops.get(&key).map_or(plot_end, |s| x(s.0))),
                stripe: i % 2 == 1,
            }
        })
        .collect();
    let marks = entries
        .iter()
        .map(|e| {
            let lane = lanes_index[&lane_key(e)];
            let a = millis(&e["time"]).unwrap_or(t0);
            let b = millis(&e["until"]).unwrap_or(a).max(a);
            let w = (x(b) - x(a)).max(MIN_MARK_W);
            let fp = str_of(&e["fingerprint"]);
            Mark {
                x: n(x(a) - if b == a { MIN_MARK_W / 2.0 } else { 0.0 }),
                y: n(lane_y(lane) + (LANE_H - MARK_H) / 2.0),
                w: n(w),
                h: n(MARK_H),
                severity: str_of(&e["severity"]).to_string(),
                fingerprint: fp.to_string(),
                row: index.get(fp).copied(),
                title: format!(
                    "{} → {} | {} | {} | {}x | {} · {} | {} | fingerprint {}",
                    str_of(&e["time"]),
                    str_of(&e["until"]),
                    str_of(&e["severity"]).to_uppercase(),
                    str_of(&e["title"]),
                    e["count"].as_u64().unwrap_or(0),
                    e["host"].as_str().unwrap_or("(no host)"),
                    e["service"].as_str().unwrap_or("(no service)"),
                    str_of(&e["at"]),
                    fp,
                ),
            }
        })
        .collect();
    let lanes_h = lane_keys.len() as f64 * LANE_H;
    let shades = incidents
        .iter()
        .enumerate()
        .filter_map(|(i, inc)| {
            let (a, b) = (millis(&inc["start"])?, millis(&inc["end"])?);
            let w = (x(b) - x(a)).max(4.0);
            Some(Shade {
                x: n(x(a) - if b == a { 2.0 } else { 0.0 }),
                y: n(AXIS_H),
                w: n(w),
                h: n(lanes_h),
                kind: "incident",
                label: format!("#{}", i + 1),
                title: format!(
                    "Incident {}: {} → {}",
                    i + 1,
                    str_of(&inc["start"]),
                    str_of(&inc["end"])
                ),
            })
        })
        .collect();
    let mut gaps: Vec<Shade> = stops
        .iter()
        .map(|(key, (at, text))| {
            let y = lane_y(lanes_index[key]);
            Shade {
                x: n(x(*at)),
                y: n(y + 3.0),
                w: n(plot_end - x(*at)),
                h: n(LANE_H - 6.0),
                kind: "silence",
                label: String::new(),
                title: format!("silent after {}: {text}", clock.short(*at)),
            }
        })
        .collect();
    gaps.extend(restarts.iter().map(|(key, a, b, text)| {
        let y = lane_y(lanes_index[key]);
        Shade {
            x: n(x(*a)),
            y: n(y + 3.0),
            w: n((x(*b) - x(*a)).max(MIN_MARK_W)),
            h: n(LANE_H - 6.0),
            kind: "restart",
            label: String::new(),
            title: format!("down {} → {}: {text}", clock.short(*a), clock.short(*b)),
        }
    }));
    // Six ticks; the date shown on the first and whenever it changes.
    let mut ticks = Vec::new();
    let mut day = String::new();
    for k in 0..=6 {
        let ms = t0 + (t1 - t0) * k / 6;
        let short = clock.short(ms);
        let (d, time) = short.split_at(short.len().min(10));
        let label = if d != day {
            day = d.to_string();
            short.clone()
        } else {
            time.trim().to_string()
        };
        ticks.push(Tick { x: n(x(ms)), label });
    }
    Timeline {
        width: n(LABEL_W + PLOT_W + RIGHT_PAD),
        height: n(height),
        plot_x: n(LABEL_W),
        plot_end: n(plot_end),
        axis_y: n(AXIS_H - 4.0),
        lanes,
        marks,
        incidents: shades,
        gaps,
        ticks,
        shown: entries.len(),
        count: doc["timeline"]["count"]
            .as_u64()
            .unwrap_or(entries.len() as u64) as usize,
    }
}
