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
use serde_json::Value as Json;

use super::Summary;
use super::text::human_bytes;
use crate::finding::clock::Clock;
use crate::rules::Rule;

mod timeline;
use timeline::timeline;

const TEMPLATE: &str = include_str!("html/report.html");
const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Severities, worst first (the page's order and colours).
const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// The findings drawn in the page's markup (the first ones, worst first); past this many the
/// page's script draws the rows from the embedded data, a page of this many at a time, with
/// their evidence and runbook drawn when opened: 10,000 findings' markup would take the
/// browser many seconds to parse.
const PAGE: usize = 500;

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
        page => PAGE,
        pager => (findings.len() > PAGE).then(|| format!("1–{} of {}", thousands(PAGE), thousands(findings.len()))),
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

/// 10000 as "10,000" (as the page's script writes it).
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
    // What the script needs to draw the rows past the first page: the cells the table rows
    // hold besides the ones above, the evidence and the runbooks (shown when opened).
    let mut details = serde_json::Map::new();
    let mut runbooks = serde_json::Map::new();
    for (i, f) in findings.iter().enumerate().skip(PAGE) {
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
                "phase": f["phase"],
                "layer": f["layer"],
                "container": f["container"],
                "first_seen": f["first_seen"],
                "last_seen": f["last_seen"],
                "ev": f["evidence"].as_array().map_or(0, Vec::len),
            }),
        );
        runbooks
            .entry(str_of(&f["rule"]).to_string())
            .or_insert_with(|| f["runbook"].clone());
    }
    let text = serde_json::json!({ "page": PAGE, "findings": rows, "details": details, "runbooks": runbooks })
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
