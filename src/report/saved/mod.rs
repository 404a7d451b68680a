//! A saved JSON report (`scan --format json`) read back into a `Summary`, so that
//! `logtriage report REPORT.json --format human|markdown|timeline` renders it with the same
//! writers as a sweep, without scanning again. The inverse of `json` and `story_json`: times
//! come back as stamps whose civil time is the instant in the report's zone (no zone of their
//! own), so `Clock::instant` gives back the instants the report holds; findings name their
//! rules by id (a rule the loaded packs lack is an error), incidents, triage and the timeline
//! name findings by fingerprint.

mod values;

use super::{HostRow, SourceRow, Summary, baseline};
use crate::event::Level;
use crate::finding::Finding;
use crate::finding::incident::{Incident, Link, Tie};
use crate::finding::scenario::{Server, Situation, Verdict};
use crate::finding::triage::TriageGroup;
use crate::finding::unknown::{Merged, Unknown};
use crate::rules::scenario::Scenarios;
use crate::rules::{Rule, Severity};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use values::*;

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
        // The merge section names rules by the indices of the packs it was written with: a
        // rendered report is not merged again (`merge` reads the saved report itself).
        streams: None,
        max_severity,
    };
    Ok((summary, notes))
}
