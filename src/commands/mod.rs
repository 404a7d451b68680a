//! The commands: each loads what it needs, runs the stages in order and returns the exit code.
//! `scan` wires sources -> events -> matching -> findings -> reports (`scan::sweep`, shared
//! with `rules suggest`, which drafts rules from the sweep's unknown errors).

mod check;
mod docs;
mod merge_command;
mod scan_command;
mod suggest;

pub use check::{check, check_usage_error};
pub use docs::{completions, man, schema};
pub use merge_command::merge;
pub use scan_command::{Sweep, scan, sweep};
pub use suggest::rules_suggest;

use std::io::{self, Write};

use crate::cli::{ListFormat, PackArgs};
use crate::event::time::civil_key;
use crate::matching::Matcher;
use crate::rules::{self, Rule, pack::parse_duration_ms};
use crate::scan::block;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Writes to stdout; a closed pipe (`| head`) ends the program quietly.
pub(crate) fn check_io(r: io::Result<()>) {
    if let Err(e) = r {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(EXIT_OK);
        }
        eprintln!("logtriage: cannot write output: {e}");
        std::process::exit(EXIT_ERROR);
    }
}

/// Loads the packs and compiles the rule set, saying on stderr what is wrong (exit code 2).
pub fn load_matcher(p: &PackArgs) -> Result<Matcher, i32> {
    let rules = load_rules(p)?;
    Matcher::new(rules).map_err(|e| {
        eprintln!("logtriage: {e}");
        EXIT_ERROR
    })
}

/// Loads the built-in and the user's packs, saying on stderr what is wrong (exit code 2).
pub fn load_rules(p: &PackArgs) -> Result<Vec<Rule>, i32> {
    match rules::load(&p.rules, p.no_builtin_rules) {
        Ok(r) => Ok(r),
        Err(errors) => {
            for e in errors {
                eprintln!("logtriage: rule pack error: {e}");
            }
            Err(EXIT_ERROR)
        }
    }
}

/// Loads the Run Book scenarios of the same packs, saying on stderr what is wrong (exit 2).
pub fn load_scenarios(p: &PackArgs) -> Result<rules::scenario::Scenarios, i32> {
    rules::load_scenarios(&p.rules, p.no_builtin_rules).map_err(|errors| {
        for e in errors {
            eprintln!("logtriage: rule pack error: {e}");
        }
        EXIT_ERROR
    })
}

/// Reads `--since`/`--until`: RFC 3339, a civil time, or a span back from now.
pub(crate) fn parse_time_bound(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Some(ms) = parse_duration_ms(s) {
        let now = jiff::ZonedDateTime::now();
        let then = now.timestamp().as_millisecond() - ms;
        let ts = jiff::Timestamp::from_millisecond(then).map_err(|e| e.to_string())?;
        return Ok(civil_key(
            ts.to_zoned_datetime(now.time_zone().clone()).datetime(),
        ));
    }
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(civil_key(
            ts.to_zoned_datetime(jiff::tz::TimeZone::system())
                .datetime(),
        ));
    }
    if let Ok(dt) = s.replacen(' ', "T", 1).parse::<jiff::civil::DateTime>() {
        return Ok(civil_key(dt));
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return Ok(civil_key(d.to_datetime(jiff::civil::Time::midnight())));
    }
    Err(format!(
        "{s:?} is not a time: use RFC 3339 (2024-03-11T02:00:00Z), 2024-03-11 02:00:00, or a span such as 2h"
    ))
}

pub fn rules_list(format: ListFormat, packs: &PackArgs) -> i32 {
    let rules = match load_rules(packs) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let mut out = io::stdout().lock();
    match format {
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "title": r.title,
                        "component": r.component,
                        "layer": r.layer.as_str(),
                        "severity": r.severity.as_str(),
                        "literals": r.literals,
                        "threshold": r.threshold.as_ref().map(|t| serde_json::json!({"count": t.count, "within": t.within})),
                        "runbook": {"steps": r.runbook, "references": r.references},
                        "examples": {
                            "match": r.examples.iter().filter(|e| e.expect_match).count(),
                            "no_match": r.examples.iter().filter(|e| !e.expect_match).count(),
                        },
                        "pack": r.pack,
                        "raised_by": r.raised_by.map(|b| b.as_str()),
                    })
                })
                .collect();
            check_io(
                serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "rules": list }))
                    .map_err(io::Error::from),
            );
            check_io(writeln!(out));
        }
        ListFormat::Human => {
            for r in &rules {
                check_io(writeln!(
                    out,
                    "{:<44} {:<8} {:<10} {:<20} {}",
                    r.id,
                    r.severity.as_str(),
                    r.component,
                    r.layer.as_str(),
                    r.title
                ));
            }
            check_io(writeln!(out, "{} rules", rules.len()));
        }
    }
    EXIT_OK
}

/// Does rule `ri` fire on `text` scanned as a file at `path`?
pub(crate) fn example_fires(matcher: &Matcher, ri: u32, text: &str, path: Option<&str>) -> bool {
    let origin = path
        .map(crate::source::origin::classify)
        .unwrap_or_default();
    // Without a path, the `files` globs are not what is tested: every rule applies.
    let ctx = match path {
        Some(p) => block::StreamContext::new(matcher, p, &origin, None, None),
        None => block::StreamContext::all_rules(matcher, &origin),
    };
    let mut fired = false;
    let mut reader = text.as_bytes();
    block::scan_reader(&mut reader, &ctx, &mut |o| fired |= o.rule == ri);
    fired
}

pub fn rules_test(packs: &PackArgs) -> i32 {
    let matcher = match load_matcher(packs) {
        Ok(m) => m,
        Err(c) => return c,
    };
    let mut out = io::stdout().lock();
    let (mut passed, mut failed) = (0, 0);
    for (ri, rule) in matcher.rules.iter().enumerate() {
        for ex in &rule.examples {
            let fired = example_fires(&matcher, ri as u32, &ex.text, ex.path.as_deref());
            if fired == ex.expect_match {
                passed += 1;
            } else {
                failed += 1;
                let what = if ex.expect_match {
                    "should match but does not"
                } else {
                    "should not match but does"
                };
                check_io(writeln!(
                    out,
                    "FAIL {} ({}:{}): example {what}:",
                    rule.id, rule.pack, ex.line
                ));
                for l in ex.text.lines().take(6) {
                    check_io(writeln!(out, "    {l}"));
                }
            }
        }
    }
    let scenarios = match load_scenarios(packs) {
        Ok(s) => s,
        Err(c) => return c,
    };
    for (i, sc) in scenarios.scenarios.iter().enumerate() {
        let wrong = crate::finding::scenario::check_examples(&scenarios, i);
        failed += wrong.len();
        passed += sc.examples.len() - wrong.len();
        for (line, got) in wrong {
            let what = if got {
                "holds but should not"
            } else {
                "should hold but does not"
            };
            check_io(writeln!(
                out,
                "FAIL scenario {} ({}:{line}): example {what}",
                sc.id, sc.pack
            ));
        }
    }
    let no_examples: Vec<&str> = matcher
        .rules
        .iter()
        .filter(|r| r.examples.is_empty() && r.raised_by.is_none())
        .map(|r| r.id.as_str())
        .collect();
    if !no_examples.is_empty() {
        check_io(writeln!(
            out,
            "rules without examples: {}",
            no_examples.join(", ")
        ));
    }
    check_io(writeln!(out, "{passed} passed, {failed} failed"));
    if failed > 0 { EXIT_FINDINGS } else { EXIT_OK }
}

pub fn explain(rule_id: &str, packs: &PackArgs) -> i32 {
    let rules = match load_rules(packs) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let Some(r) = rules.iter().find(|r| r.id == rule_id) else {
        eprintln!("logtriage: no rule {rule_id:?} (see `logtriage rules list`)");
        let close: Vec<&str> = rules
            .iter()
            .filter(|r| r.id.contains(rule_id) || rule_id.contains(&r.id))
            .map(|r| r.id.as_str())
            .take(5)
            .collect();
        if !close.is_empty() {
            eprintln!("logtriage: did you mean: {}", close.join(", "));
        }
        return EXIT_ERROR;
    };
    let mut o = String::new();
    o.push_str(&format!(
        "{}  [{}]\n{}\n\n",
        r.id,
        r.severity.as_str(),
        r.title
    ));
    o.push_str(&format!(
        "component: {}   layer: {}   pack: {}:{}\n",
        r.component,
        r.layer.as_str(),
        r.pack,
        r.line
    ));
    if let Some(d) = &r.description {
        o.push_str(&format!("\n{d}\n"));
    }
    o.push_str("\nMatches events containing any of:\n");
    for l in &r.literals {
        o.push_str(&format!("  {l:?}\n"));
    }
    if let Some(re) = &r.regex {
        o.push_str(&format!("confirmed by regex: {}\n", re.as_str()));
    }
    if let Some(re) = &r.not_regex {
        o.push_str(&format!("unless: {}\n", re.as_str()));
    }
    if let Some(l) = &r.levels {
        o.push_str(&format!(
            "levels: {}\n",
            l.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(t) = &r.threshold {
        o.push_str(&format!(
            "threshold: {} occurrences within {} (per file and fingerprint)\n",
            t.count, t.within
        ));
    }
    o.push_str("\nRunbook:\n");
    for (i, s) in r.runbook.iter().enumerate() {
        o.push_str(&format!("  {}. {s}\n", i + 1));
    }
    if !r.references.is_empty() {
        o.push_str("\nReferences:\n");
        for s in &r.references {
            o.push_str(&format!("  - {s}\n"));
        }
    }
    if let Some(ex) = r.examples.iter().find(|e| e.expect_match) {
        o.push_str("\nExample:\n");
        for l in ex.text.lines() {
            o.push_str(&format!("  {l}\n"));
        }
    }
    check_io(io::stdout().lock().write_all(o.as_bytes()));
    EXIT_OK
}

/// `logtriage report REPORT.json`: a saved report rendered again, without scanning. HTML and
/// JSON are drawn from the document itself; human, markdown and timeline from the `Summary`
/// it is read back into (`report::saved`), with the rules and scenarios of the given packs.
pub fn report(
    path: &std::path::Path,
    format: crate::cli::Format,
    color: crate::cli::ColorWhen,
    packs: &PackArgs,
) -> i32 {
    use crate::cli::{ColorWhen, Format};
    let doc = match crate::report::baseline::read_report(path, "report") {
        Ok(d) => d,
        Err(e) => {
            eprintln!("logtriage: {e}");
            return EXIT_ERROR;
        }
    };
    let stdout = io::stdout();
    match format {
        Format::Html => {
            let mut out = io::BufWriter::new(stdout.lock());
            check_io(crate::report::html::write_saved(&mut out, &doc));
            check_io(out.flush());
        }
        Format::Json => {
            let mut out = io::BufWriter::new(stdout.lock());
            check_io(serde_json::to_writer_pretty(&mut out, &doc).map_err(io::Error::other));
            check_io(writeln!(out));
            check_io(out.flush());
        }
        Format::Ndjson => {
            eprintln!(
                "logtriage: report --format ndjson: a saved report holds findings, not every occurrence; scan again with --format ndjson"
            );
            return EXIT_ERROR;
        }
        Format::Human | Format::Markdown | Format::Timeline => {
            let rules = match load_rules(packs) {
                Ok(r) => r,
                Err(c) => return c,
            };
            let scenarios = match load_scenarios(packs) {
                Ok(s) => s,
                Err(c) => return c,
            };
            let (summary, notes) =
                match crate::report::saved::summary_and_notes(&doc, &rules, &scenarios) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("logtriage: report {}: {e}", path.display());
                        return EXIT_ERROR;
                    }
                };
            for n in notes {
                eprintln!("logtriage: warning: {n}");
            }
            let choice = match color {
                ColorWhen::Auto => anstream::ColorChoice::Auto,
                ColorWhen::Always => anstream::ColorChoice::Always,
                ColorWhen::Never => anstream::ColorChoice::Never,
            };
            let mut out: Box<dyn Write> = match format {
                Format::Markdown => Box::new(io::BufWriter::new(stdout.lock())),
                _ => Box::new(anstream::AutoStream::new(stdout.lock(), choice)),
            };
            let r = match format {
                Format::Human => crate::report::human::write(&mut out, &summary, &rules),
                Format::Markdown => crate::report::markdown::write(&mut out, &summary, &rules),
                _ => crate::report::incidents::write_timeline(&mut out, &summary, &rules),
            };
            check_io(r);
            check_io(out.flush());
        }
    }
    EXIT_OK
}
