//! `logtriage merge REPORT.json...`: the reports of several sweeps (one per host of a fleet, or
//! per part of a bundle) made into the report one sweep of all their logs would give. Each
//! report's `merge` section holds its streams as the engine collected them
//! (`report::streams`); they are fed, in the order the reports are given, to the same
//! `Collector` a sweep uses, which names the hosts, sums the findings and tells the story again
//! over the whole. A stream read by two reports (a sweep run twice) counts once.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::time::Instant;

use super::scan_command::{Setup, exit_code, setup, write_format};
use super::{EXIT_ERROR, check_io};
use crate::cli::{ColorWhen, Format, MergeArgs};
use crate::report::{Collector, Story, streams};
use crate::scan::FileReport;
use crate::source::Problem;
use crate::source::hosts::Hosts;

/// One report read: its name, its inputs and zone, its streams.
struct Part {
    name: String,
    inputs: Vec<String>,
    zone: Option<String>,
    saved: streams::Saved,
}

/// A stream is the same stream in two reports when it is the same file (or `yarn logs`
/// section) of the same machine's sweep.
type StreamKey = (Option<String>, String, Option<String>, Option<String>);

fn key(r: &FileReport) -> StreamKey {
    (
        r.clue.fallback.clone(),
        r.path.clone(),
        r.section.clone(),
        r.origin.container.clone(),
    )
}

/// Reads every report; what cannot be merged is a problem naming the report.
fn read_parts(args: &MergeArgs, rules: &[crate::rules::Rule]) -> (Vec<Part>, Vec<Problem>) {
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    for f in &args.failed {
        let (what, why) = f.split_once('=').unwrap_or((f.as_str(), "no report"));
        errors.push(Problem {
            path: what.to_string(),
            message: format!("no report to merge: {why}"),
        });
    }
    for path in &args.reports {
        let name = path.display().to_string();
        let read = crate::report::baseline::read_report(path, "merge").and_then(|mut doc| {
            let section = doc
                .get_mut("merge")
                .map(serde_json::Value::take)
                .unwrap_or_default();
            let saved = streams::read(section, &name, rules)?;
            let inputs = doc["scan"]["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect();
            // "Etc/UTC (this machine's zone)": the name is before the note.
            let zone = doc["scan"]["timezone"]
                .as_str()
                .map(|z| z.split(" (").next().unwrap_or(z).to_string());
            Ok(Part {
                name: name.clone(),
                inputs,
                zone,
                saved,
            })
        });
        match read {
            Ok(p) => parts.push(p),
            Err(e) => {
                let prefix = format!("merge {name}: ");
                let message = e.strip_prefix(&prefix).unwrap_or(&e).to_string();
                let message = message
                    .strip_prefix(&format!("{name}: "))
                    .unwrap_or(&message)
                    .to_string();
                errors.push(Problem {
                    path: name,
                    message: format!("cannot be merged: {message}"),
                });
            }
        }
    }
    (parts, errors)
}

/// Accumulo writes its INFO-and-higher lines to both `X.log` and `X.debug.log`; a sweep of
/// both counts them once (`scan::copies`), but two sweeps that each read one counted them
/// each. A report's counts cannot be split by time again, so the merge says so.
fn copies_apart(kept: &[FileReport], from: &[String]) -> Vec<Problem> {
    type Family = (Option<String>, std::path::PathBuf, String);
    let mut debug: HashMap<Family, &str> = HashMap::new();
    for (r, name) in kept.iter().zip(from) {
        if let Some((dir, stem, true)) = crate::scan::copies::member_family(&r.path) {
            debug
                .entry((r.clue.fallback.clone(), dir, stem))
                .or_insert(name.as_str());
        }
    }
    let mut out = Vec::new();
    for (r, name) in kept.iter().zip(from) {
        if let Some((dir, stem, false)) = crate::scan::copies::member_family(&r.path)
            && let Some(other) = debug.get(&(r.clue.fallback.clone(), dir, stem))
            && *other != name.as_str()
            && r.note.is_none()
        {
            out.push(Problem {
                path: r.path.clone(),
                message: format!(
                    "its debug log was swept apart (in {other}, this in {name}): the events Accumulo writes to both are counted twice; sweep a machine's Accumulo logs together"
                ),
            });
        }
    }
    out
}

pub fn merge(args: MergeArgs) -> i32 {
    let started = Instant::now();
    if args.format == Format::Ndjson {
        eprintln!(
            "logtriage: merge --format ndjson: a report holds findings, not every occurrence; use --format json"
        );
        return EXIT_ERROR;
    }
    let Setup {
        rules,
        scenarios,
        baseline,
        config,
    } = match setup(
        &args.packs,
        args.story.config.as_deref(),
        args.story.baseline.as_deref(),
    ) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (parts, mut errors) = read_parts(&args, &rules);
    let zone = args
        .tz
        .clone()
        .or_else(|| parts.iter().find_map(|p| p.zone.clone()));
    let clock =
        match crate::finding::clock::Clock::new(zone.as_deref(), args.story.clock_offset.clone()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("logtriage: {e}");
                return EXIT_ERROR;
            }
        };

    // The streams, once each; the walks' problems, once each per machine.
    let mut inputs = Vec::new();
    let mut skipped = Vec::new();
    let mut warnings = Vec::new();
    let mut seen_problems = HashSet::new();
    let mut kept: Vec<FileReport> = Vec::new();
    let mut from: Vec<String> = Vec::new();
    let mut index: HashMap<StreamKey, usize> = HashMap::new();
    let mut hosts = Hosts::new(None);
    let max_evidence = parts.first().map_or(3, |p| p.saved.max_evidence);
    for part in parts {
        inputs.extend(part.inputs);
        let host = part.saved.host.clone();
        if let Some(h) = &host {
            hosts.add_given(h);
        }
        for (list, p) in part
            .saved
            .walk_errors
            .into_iter()
            .map(|p| (0, p))
            .chain(part.saved.walk_skipped.into_iter().map(|p| (1, p)))
        {
            if seen_problems.insert((list, host.clone(), p.path.clone(), p.message.clone())) {
                if list == 0 {
                    errors.push(p);
                } else {
                    skipped.push(p);
                }
            }
        }
        for mut r in part.saved.streams {
            if r.clue.fallback.is_none() {
                r.clue.fallback = host.clone();
            }
            match index.get(&key(&r)) {
                Some(&i) => {
                    // A sweep run twice: the longer read is the later one.
                    let longer = r.stats.bytes > kept[i].stats.bytes;
                    let used = if longer { &part.name } else { &from[i] };
                    warnings.push(Problem {
                        path: r.path.clone(),
                        message: format!(
                            "in both {} and {}: counted once, from {used}",
                            from[i], part.name
                        ),
                    });
                    if longer {
                        kept[i] = r;
                        from[i] = part.name.clone();
                    }
                }
                None => {
                    index.insert(key(&r), kept.len());
                    kept.push(r);
                    from.push(part.name.clone());
                }
            }
        }
    }
    warnings.extend(copies_apart(&kept, &from));
    // As in a sweep, the hosts of the files given are known before they are collected.
    for r in &kept {
        if !r.archive
            && r.section.is_none()
            && !r.path.contains(crate::source::archive::MEMBER_SEPARATOR)
        {
            hosts.add(&r.clue);
        }
    }
    let mut collector = Collector::new(
        inputs,
        rules.len(),
        errors,
        skipped,
        max_evidence,
        hosts,
        config,
    );
    if args.format == Format::Json {
        collector.keep_streams();
    }
    for mut r in kept {
        collector.add(&mut r);
    }
    let mut summary = collector.finish(
        &rules,
        args.story.min_severity,
        Story {
            incident_gap_ms: args.story.incident_gap,
            silence_ms: args.story.silence,
            clock,
            scenarios: &scenarios,
        },
        started.elapsed().as_millis(),
    );
    summary.warnings.extend(warnings);
    summary.baseline = baseline
        .as_ref()
        .map(|b| crate::report::baseline::compare(&summary, b));
    for p in &summary.errors {
        eprintln!("logtriage: {}: {}", p.path, p.message);
    }
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))
            .and_then(|f| {
                let mut out = io::BufWriter::with_capacity(64 * 1024, f);
                write_format(&mut out, args.format, &summary, &rules)
                    .and_then(|()| out.flush())
                    .map_err(|e| format!("{}: cannot write: {e}", path.display()))
            }),
        None => {
            let stdout = io::stdout();
            let mut out: Box<dyn Write> = match args.format {
                Format::Human | Format::Timeline => {
                    let choice = match args.story.color {
                        ColorWhen::Auto => anstream::ColorChoice::Auto,
                        ColorWhen::Always => anstream::ColorChoice::Always,
                        ColorWhen::Never => anstream::ColorChoice::Never,
                    };
                    Box::new(anstream::AutoStream::new(stdout.lock(), choice))
                }
                _ => Box::new(io::BufWriter::with_capacity(64 * 1024, stdout.lock())),
            };
            check_io(write_format(&mut out, args.format, &summary, &rules));
            check_io(out.flush());
            Ok(())
        }
    };
    if let Err(e) = written {
        eprintln!("logtriage: {e}");
        return EXIT_ERROR;
    }
    exit_code(&summary, &rules, args.story.fail_on)
}
