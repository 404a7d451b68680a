//! `--format ndjson`: one JSON object per line for each occurrence (a rule firing on one event),
//! written as each file's scan completes, in input order. Nothing else goes to stdout. The
//! follower (`tail`) writes the same object, one per occurrence, as it happens.

use crate::finding::clock::Clock;
use serde::Serialize;

use crate::finding::{self, Origin, fingerprint::hex};
use crate::matching::Occurrence;
use crate::rules::{Rule, Severity};
use crate::scan::FileReport;

#[derive(Serialize, schemars::JsonSchema)]
struct Line<'a> {
    rule: &'a str,
    title: &'a str,
    severity: &'static str,
    /// The phase (startup, shutdown, election) that expects it, when it lowered its severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<&'static str>,
    component: String,
    layer: &'static str,
    service: Option<&'a str>,
    host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    application: Option<&'a str>,
    path: &'a str,
    line: u64,
    timestamp: Option<String>,
    timestamp_text: Option<&'a str>,
    level: Option<&'static str>,
    summary: String,
    text: &'a str,
    fingerprint: String,
    /// An unknown error's template (`rule` is `unknown`).
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template_id: Option<&'a str>,
}

/// What a record says of the rule (or of the template, for an unknown error); the rest comes
/// from the occurrence and its stream.
struct Kind<'a> {
    rule: &'a str,
    title: &'a str,
    severity: &'static str,
    component: String,
    layer: &'static str,
    summary: String,
    fingerprint: String,
    template: Option<(&'a str, &'a str)>,
}

fn write_line(
    out: &mut dyn std::io::Write,
    o: &Occurrence,
    path: &str,
    origin: &Origin,
    k: Kind,
    clock: &Clock,
) -> std::io::Result<()> {
    let line = Line {
        rule: k.rule,
        title: k.title,
        severity: k.severity,
        phase: o.phase.map(|p| p.as_str()),
        component: k.component,
        layer: k.layer,
        service: origin.service,
        host: origin.host.as_deref(),
        container: origin.container.as_deref(),
        application: origin.application.as_deref(),
        path,
        line: o.line,
        // RFC 3339 with the offset, in the zone the clock reads zone-less log times in.
        timestamp: o
            .stamp
            .map(|t| clock.rfc3339(clock.instant(&t, origin.host.as_deref()))),
        timestamp_text: o.stamp_text.as_deref(),
        level: o.level.map(|l| l.as_str()),
        summary: k.summary,
        text: &o.text,
        fingerprint: k.fingerprint,
        template: k.template.map(|t| t.0),
        template_id: k.template.map(|t| t.1),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

/// Writes one occurrence as one line.
pub fn write_occurrence(
    out: &mut dyn std::io::Write,
    o: &Occurrence,
    rule: &Rule,
    path: &str,
    origin: &Origin,
    clock: &Clock,
) -> std::io::Result<()> {
    let (component, layer) = finding::attribute(rule, origin);
    let kind = Kind {
        rule: &rule.id,
        title: &rule.title,
        severity: finding::phase::severity(rule.severity, o.phase).as_str(),
        component,
        layer: layer.as_str(),
        summary: finding::summary(rule, &o.fields),
        fingerprint: hex(o.fingerprint),
        template: None,
    };
    write_line(out, o, path, origin, kind, clock)
}

/// Writes one unknown error: `"rule": "unknown"`, its template and template id, the other
/// fields as for a rule's occurrence (its fingerprint is the template id).
pub fn write_unknown(
    out: &mut dyn std::io::Write,
    o: &Occurrence,
    path: &str,
    origin: &Origin,
    clock: &Clock,
) -> std::io::Result<()> {
    let (text, id) = o
        .template
        .as_deref()
        .map_or(("", ""), |(t, i)| (t.as_str(), i.as_str()));
    let kind = Kind {
        rule: "unknown",
        title: UNKNOWN_TITLE,
        severity: crate::finding::unknown::severity_of(o.level).as_str(),
        component: origin.component.unwrap_or("unknown").to_string(),
        layer: origin.layer.map_or("unknown", |l| l.as_str()),
        summary: text.to_string(),
        fingerprint: id.to_string(),
        template: Some((text, id)),
    };
    write_line(out, o, path, origin, kind, clock)
}

/// The title of an event no rule knows.
pub const UNKNOWN_TITLE: &str = "Not known to any rule";

/// Writes a scanned file's occurrences at or above `min`.
pub fn write_file(
    out: &mut dyn std::io::Write,
    r: &FileReport,
    rules: &[Rule],
    min: Severity,
    clock: &Clock,
) -> std::io::Result<()> {
    for o in &r.occurrences {
        if o.rule == crate::matching::UNKNOWN {
            if crate::finding::unknown::severity_of(o.level) >= min {
                write_unknown(out, o, &r.path, &r.origin, clock)?;
            }
            continue;
        }
        let rule = &rules[o.rule as usize];
        if finding::phase::severity(rule.severity, o.phase) >= min {
            write_occurrence(out, o, rule, &r.path, &r.origin, clock)?;
        }
    }
    out.flush()
}

/// The JSON Schema of one NDJSON record, derived from the type that writes it.
pub fn schema() -> serde_json::Value {
    let mut s = serde_json::to_value(schemars::schema_for!(Line<'static>)).unwrap_or_default();
    s["title"] = "logtriage NDJSON record (scan --format ndjson, tail --format ndjson)".into();
    s
}
