//! `--format json`: one document for ticketing. The schema is versioned (`"version": 1`) and
//! its field order is fixed; findings come in the total order of `finding::sort`, so two runs
//! over the same input give the same document apart from `duration_ms`.

use serde::Serialize;

use super::Summary;
use crate::finding::{self, fingerprint::hex};
use crate::rules::Rule;

#[derive(Serialize, schemars::JsonSchema)]
struct Doc<'a> {
    version: u32,
    tool: Tool,
    scan: Scan<'a>,
    /// The findings cut into incidents at quiet gaps of this many milliseconds.
    incident_gap_ms: i64,
    incidents: Vec<super::story_json::IncidentJson<'a>>,
    triage: Vec<Triage<'a>>,
    findings: Vec<FindingJson<'a>>,
    timeline: super::story_json::TimelineJson<'a>,
    unknown: Vec<UnknownJson<'a>>,
    unknown_other: UnknownOther,
    /// The config file's suppressions and what each took out.
    suppressed: Vec<SuppressedJson<'a>>,
    config: Option<&'a str>,
    sources: Vec<Source<'a>>,
    hosts: Vec<HostJson<'a>>,
    skipped: Vec<PathMessage<'a>>,
    warnings: Vec<PathMessage<'a>>,
    errors: Vec<PathMessage<'a>>,
    /// With `--baseline`: the comparison (each finding's `status` says new or ongoing).
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineJson<'a>>,
    /// What `logtriage merge` needs (`super::streams`).
    #[serde(skip_serializing_if = "Option::is_none")]
    merge: Option<super::streams::StreamsJson<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct BaselineJson<'a> {
    path: &'a str,
    new: usize,
    ongoing: usize,
    /// The baseline's findings this sweep no longer shows, though one of their files was
    /// scanned again.
    resolved: &'a [super::baseline::OldFinding],
    /// The baseline's findings not shown because none of their files was scanned this time.
    not_rechecked: &'a [super::baseline::OldFinding],
}

#[derive(Serialize, schemars::JsonSchema)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Scan<'a> {
    inputs: &'a [String],
    files: usize,
    bytes: u64,
    lines: u64,
    events: u64,
    cut_lines: u64,
    layouts: &'a std::collections::BTreeMap<&'static str, usize>,
    duration_ms: u128,
    rules: usize,
    /// The zone log times that state none are read in (incidents and timeline times carry
    /// their offset).
    timezone: &'a str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Triage<'a> {
    layer: &'static str,
    component: String,
    host: Option<&'a str>,
    seen_by: Option<&'static str>,
    severity: &'static str,
    findings: Vec<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Evidence<'a> {
    pub path: &'a str,
    pub line: u64,
    pub timestamp: Option<String>,
    pub timestamp_text: Option<&'a str>,
    pub level: Option<&'static str>,
    pub container: Option<&'a str>,
    pub text: &'a str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Runbook<'a> {
    steps: &'a [String],
    references: &'a [String],
}

#[derive(Serialize, schemars::JsonSchema)]
struct ThresholdJson<'a> {
    count: u32,
    within: &'a str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct FindingJson<'a> {
    rule: &'a str,
    title: &'a str,
    severity: &'static str,
    /// With `--baseline`: new | ongoing.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    /// The phase (startup, shutdown, election) that expects it, when it lowered its severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<&'static str>,
    component: String,
    layer: &'static str,
    service: Option<&'a str>,
    host: Option<&'a str>,
    container: Option<&'a str>,
    application: Option<&'a str>,
    containers: &'a [String],
    summary: String,
    count: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    fingerprint: String,
    fields: serde_json::Map<String, serde_json::Value>,
    threshold: Option<ThresholdJson<'a>>,
    files: Vec<&'a str>,
    files_total: u64,
    evidence: Vec<Evidence<'a>>,
    runbook: Runbook<'a>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Source<'a> {
    path: &'a str,
    layout: Option<&'static str>,
    compressed: bool,
    compression: Option<&'static str>,
    bytes: u64,
    lines: u64,
    service: Option<&'a str>,
    host: Option<&'a str>,
    container: Option<&'a str>,
    application: Option<&'a str>,
    log_type: Option<&'a str>,
    note: Option<&'a str>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct UnknownJson<'a> {
    template_id: &'a str,
    template: &'a str,
    exception: Option<&'a str>,
    level: &'static str,
    severity: &'static str,
    component: Option<&'static str>,
    services: Vec<&'static str>,
    hosts: Vec<&'a str>,
    count: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    files: Vec<&'a str>,
    files_total: u64,
    evidence: Vec<Evidence<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct SuppressedJson<'a> {
    /// `logtriage.toml:12`
    entry: &'a str,
    rule: Option<&'a str>,
    fingerprint: Option<&'a str>,
    template: Option<&'a str>,
    hosts: &'a [String],
    services: &'a [String],
    paths: &'a [String],
    reason: &'a str,
    until: Option<&'a str>,
    expired: bool,
    findings: u64,
    templates: u64,
    events: u64,
}

/// Unknown templates and events past the bounds, counted.
#[derive(Serialize, schemars::JsonSchema)]
struct UnknownOther {
    templates: u64,
    events: u64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct HostJson<'a> {
    name: &'a str,
    seen_as: &'a [String],
}

#[derive(Serialize, schemars::JsonSchema)]
struct PathMessage<'a> {
    path: &'a str,
    message: &'a str,
}

pub fn write<'a>(
    out: &mut dyn std::io::Write,
    s: &'a Summary,
    rules: &'a [Rule],
) -> std::io::Result<()> {
    // Times as instants in the report's zone, RFC 3339 with the offset (`finding::clock`).
    let at =
        |st: &crate::event::Stamp, host: Option<&str>| s.clock.rfc3339(s.clock.instant(st, host));
    let evidence =
        |ev: &'a [(u32, crate::matching::Occurrence)], host: Option<&str>| -> Vec<Evidence<'a>> {
            ev.iter()
                .map(|(fi, o)| Evidence {
                    path: &s.paths[*fi as usize],
                    line: o.line,
                    timestamp: o.stamp.map(|t| at(&t, host)),
                    timestamp_text: o.stamp_text.as_deref(),
                    level: o.level.map(|l| l.as_str()),
                    container: s.containers[*fi as usize].as_deref(),
                    text: &o.text,
                })
                .collect()
        };
    let findings = s
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let rule = &rules[f.rule as usize];
            let (component, layer) = finding::attribute(rule, &f.origin);
            FindingJson {
                rule: &rule.id,
                title: &rule.title,
                status: s.baseline.as_ref().map(|b| b.status(i)),
                severity: f.severity(rules).as_str(),
                phase: f.phase.map(|p| p.as_str()),
                component,
                layer: layer.as_str(),
                service: f.origin.service,
                host: f.origin.host.as_deref(),
                container: f.origin.container.as_deref(),
                application: f.origin.application.as_deref(),
                containers: &f.containers,
                summary: finding::summary(rule, &f.fields),
                count: f.count,
                first_seen: f
                    .first_seen
                    .as_ref()
                    .map(|x| at(&x.1, f.origin.host.as_deref())),
                last_seen: f
                    .last_seen
                    .as_ref()
                    .map(|x| at(&x.1, f.origin.host.as_deref())),
                fingerprint: hex(f.fingerprint),
                fields: f
                    .fields
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
                threshold: rule.threshold.as_ref().map(|t| ThresholdJson {
                    count: t.count,
                    within: &t.within,
                }),
                files: f
                    .files
                    .iter()
                    .map(|&i| s.paths[i as usize].as_str())
                    .collect(),
                files_total: f.files_total,
                evidence: evidence(&f.evidence, f.origin.host.as_deref()),
                runbook: Runbook {
                    steps: &rule.runbook,
                    references: &rule.references,
                },
            }
        })
        .collect();
    let unknown = s
        .unknown
        .templates
        .iter()
        .map(|u| UnknownJson {
            template_id: &u.id,
            template: &u.text,
            exception: u.exception.as_deref(),
            level: u.level.as_str(),
            severity: u.severity().as_str(),
            component: u.origin.component,
            services: u.services.iter().copied().collect(),
            hosts: u.hosts.iter().map(String::as_str).collect(),
            count: u.count,
            first_seen: u
                .first_seen
                .as_ref()
                .map(|x| at(&x.1, u.origin.host.as_deref())),
            last_seen: u
                .last_seen
                .as_ref()
                .map(|x| at(&x.1, u.origin.host.as_deref())),
            files: u
                .files
                .iter()
                .map(|&i| s.paths[i as usize].as_str())
                .collect(),
            files_total: u.files_total,
            evidence: evidence(&u.evidence, u.origin.host.as_deref()),
        })
        .collect();
    let doc = Doc {
        version: 1,
        tool: Tool {
            name: "logtriage",
            version: env!("CARGO_PKG_VERSION"),
        },
        scan: Scan {
            inputs: &s.inputs,
            files: s.paths.len(),
            bytes: s.bytes,
            lines: s.lines,
            events: s.events,
            cut_lines: s.cut_lines,
            layouts: &s.layouts,
            duration_ms: s.duration_ms,
            rules: s.rules,
            timezone: &s.clock.name,
        },
        incident_gap_ms: s.incident_gap_ms,
        incidents: super::story_json::incidents(s, rules),
        timeline: super::story_json::timeline_json(s, rules),
        triage: s
            .triage
            .iter()
            .map(|g| Triage {
                layer: g.layer.as_str(),
                component: g.component.clone(),
                host: g.host.as_deref(),
                seen_by: g.seen_by,
                severity: g.severity.as_str(),
                findings: g
                    .findings
                    .iter()
                    .map(|&i| hex(s.findings[i].fingerprint))
                    .collect(),
            })
            .collect(),
        baseline: s.baseline.as_ref().map(|b| {
            let ongoing = b.ongoing.iter().filter(|&&o| o).count();
            BaselineJson {
                path: &b.path,
                new: s.findings.len() - ongoing,
                ongoing,
                resolved: &b.resolved,
                not_rechecked: &b.not_rechecked,
            }
        }),
        merge: s.streams.as_ref().map(|k| k.json(rules)),
        findings,
        unknown,
        unknown_other: UnknownOther {
            templates: s.unknown.other_templates,
            events: s.unknown.other_events,
        },
        suppressed: s
            .suppressed
            .iter()
            .map(|r| (&r.entry, r.findings, r.templates, r.events, false))
            .chain(s.expired.iter().map(|e| (e, 0, 0, 0, true)))
            .map(|(e, findings, templates, events, expired)| {
                use crate::config::Target;
                let (rule, fingerprint, template) = match &e.target {
                    Target::Rule(r) => (Some(r.as_str()), None, None),
                    Target::Fingerprint(f) => (None, Some(f.as_str()), None),
                    Target::Template(t) => (None, None, Some(t.as_str())),
                };
                SuppressedJson {
                    entry: &e.at,
                    rule,
                    fingerprint,
                    template,
                    hosts: &e.hosts,
                    services: &e.services,
                    paths: &e.path_globs,
                    reason: &e.reason,
                    until: e.until.as_deref(),
                    expired,
                    findings,
                    templates,
                    events,
                }
            })
            .collect(),
        config: s.config.as_deref(),
        sources: s
            .sources
            .iter()
            .map(|r| Source {
                path: &r.path,
                layout: r.layout,
                compressed: r.compression.is_some(),
                compression: r.compression,
                bytes: r.bytes,
                lines: r.lines,
                service: r.service,
                host: r.host.as_deref(),
                container: r.container.as_deref(),
                application: r.application.as_deref(),
                log_type: r.log_type.as_deref(),
                note: r.note.as_deref(),
            })
            .collect(),
        hosts: s
            .hosts
            .iter()
            .map(|h| HostJson {
                name: &h.name,
                seen_as: &h.seen_as,
            })
            .collect(),
        skipped: s
            .skipped
            .iter()
            .map(|p| PathMessage {
                path: &p.path,
                message: &p.message,
            })
            .collect(),
        warnings: s
            .warnings
            .iter()
            .map(|p| PathMessage {
                path: &p.path,
                message: &p.message,
            })
            .collect(),
        errors: s
            .errors
            .iter()
            .map(|p| PathMessage {
                path: &p.path,
                message: &p.message,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The JSON Schema of the document, derived from the types that write it.
pub fn schema() -> serde_json::Value {
    let mut s = serde_json::to_value(schemars::schema_for!(Doc<'static>)).unwrap_or_default();
    s["title"] = format!(
        "logtriage JSON report, schema version {}",
        super::baseline::SCHEMA_VERSION
    )
    .into();
    s
}
