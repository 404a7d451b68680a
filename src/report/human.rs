//! The terminal report, for an operator at 3 a.m.: a one-line header of what was read, "Start
//! here" (the Run Book's layer order), then each finding — severity, title, summary, how often
//! and when, where, one or two evidence lines, and numbered runbook steps — in 80 columns.
//! Colour comes from `anstyle`; `anstream` strips it when stdout is not a terminal, with
//! `NO_COLOR`, or with `--color never`.

use std::io::{self, Write};

use super::text::{
    BOLD, DIM, WIDTH, clip, clip_left, human_bytes, sev_style, short_time, thousands, wrap,
};
use super::{SourceRow, Summary};
use crate::finding::phase::Phase;
use crate::finding::{self, fingerprint::hex};
use crate::matching::Occurrence;
use crate::rules::{Rule, Severity};

pub fn write(out: &mut dyn Write, s: &Summary, rules: &[Rule]) -> io::Result<()> {
    // Header.
    let n = s.paths.len() as u64;
    let compressed = s.sources.iter().filter(|r| r.compression.is_some()).count();
    let members = s.paths.iter().filter(|p| p.contains("!/")).count();
    let sections = s.sources.iter().filter(|r| r.log_type.is_some()).count();
    // Archive members and `yarn logs` sections are streams of their own.
    let unit = if members + sections > 0 {
        "stream"
    } else {
        "file"
    };
    let mut files = format!("{} {unit}{}", thousands(n), if n == 1 { "" } else { "s" });
    let mut kinds = Vec::new();
    if compressed > 0 {
        kinds.push(format!("{compressed} compressed"));
    }
    if members > 0 {
        kinds.push(format!("{members} archive members"));
    }
    if sections > 0 {
        kinds.push(format!("{sections} yarn log sections"));
    }
    if !kinds.is_empty() {
        files.push_str(&format!(" ({})", kinds.join(", ")));
    }
    let line = format!(
        "scanned {files}, {}, {} lines in {:.2} s; {} rules, {} candidate events",
        human_bytes(s.bytes),
        thousands(s.lines),
        s.duration_ms as f64 / 1000.0,
        s.rules,
        thousands(s.events),
    );
    writeln!(
        out,
        "{BOLD}logtriage{BOLD:#} {DIM}{}{DIM:#}",
        wrap(&line, WIDTH - 10, "          ")
    )?;
    if !s.layouts.is_empty() {
        let l: Vec<String> = s.layouts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(
            out,
            "{DIM}layouts: {}{DIM:#}",
            wrap(&l.join(", "), WIDTH - 9, "         ")
        )?;
    }
    writeln!(out)?;

    if s.nothing_scanned() {
        let st = sev_style(Severity::High);
        writeln!(
            out,
            "{st}Nothing was scanned{st:#}: every input was skipped or could not be read (below)."
        )?;
        writeln!(out)?;
    } else if s.findings.is_empty() {
        writeln!(out, "No findings.")?;
        writeln!(out)?;
    } else {
        let n = s.findings.len();
        let mut by_sev = Vec::new();
        for sev in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let c = s
                .findings
                .iter()
                .filter(|f| f.severity(rules) == sev)
                .count();
            if c > 0 {
                let st = sev_style(sev);
                by_sev.push(format!("{st}{c} {sev}{st:#}"));
            }
        }
        writeln!(
            out,
            "{BOLD}{n} finding{}{BOLD:#}: {}",
            if n == 1 { "" } else { "s" },
            by_sev.join(", ")
        )?;
        if let Some(b) = &s.baseline {
            let ongoing = b.ongoing.iter().filter(|&&o| o).count();
            let line = format!(
                "Since {}: {} new, {ongoing} ongoing, {} resolved, {} not rechecked (their files were not scanned)",
                b.path,
                s.findings.len() - ongoing,
                b.resolved.len(),
                b.not_rechecked.len()
            );
            writeln!(out, "{}", wrap(&line, WIDTH, "  "))?;
            for r in b.resolved.iter().take(10) {
                let who = [r.service.as_deref(), r.host.as_deref()]
                    .iter()
                    .flatten()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" on ");
                let text = format!(
                    "resolved: {} {} ({who})",
                    r.severity.to_uppercase(),
                    r.title
                );
                writeln!(out, "  {DIM}{}{DIM:#}", wrap(&text, WIDTH - 2, "    "))?;
            }
            if b.resolved.len() > 10 {
                writeln!(
                    out,
                    "  {DIM}... and {} more resolved (--format json: baseline.resolved){DIM:#}",
                    b.resolved.len() - 10
                )?;
            }
        }
        writeln!(out)?;
        super::incidents::write_incidents(out, s, rules)?;
        // Start here.
        writeln!(
            out,
            "{BOLD}START HERE{BOLD:#} {DIM}(Run Book: lower layers must be healthy before fixing higher ones){DIM:#}"
        )?;
        let mut layer = None;
        for (i, g) in s.triage.iter().enumerate() {
            if layer != Some(g.layer) {
                writeln!(out, "  {}", g.layer.as_str())?;
                layer = Some(g.layer);
            }
            let st = sev_style(g.severity);
            let where_ = match (&g.host, g.seen_by) {
                (Some(h), Some(by)) => format!("{}, seen by {by} on {h}", g.component),
                (Some(h), None) => format!("{} on {h}", g.component),
                (None, Some(by)) => format!("{}, seen by {by}", g.component),
                (None, None) => g.component.clone(),
            };
            let k = g.findings.len();
            let text = format!("{where_} ({k} finding{})", if k == 1 { "" } else { "s" });
            let prefix = format!("   {:>2}. ", i + 1);
            let indent = " ".repeat(prefix.len() + 9);
            let sev = g.severity.as_str().to_uppercase();
            writeln!(
                out,
                "{prefix}{st}{sev:<8}{st:#} {}",
                wrap(&text, WIDTH - indent.len(), &indent)
            )?;
        }
        writeln!(out)?;
        for (i, f) in s.findings.iter().enumerate() {
            if s.baseline.as_ref().is_some_and(|b| b.status(i) == "new") {
                writeln!(out, "{BOLD}NEW{BOLD:#} {DIM}(not in the baseline){DIM:#}")?;
            }
            write_finding(out, s, rules, f)?;
        }
    }

    write_unknown(out, s)?;
    write_suppressed(out, s)?;
    if !s.skipped.is_empty() {
        writeln!(out, "{BOLD}Skipped{BOLD:#}")?;
        for p in &s.skipped {
            writeln!(out, "  {}: {}", p.path, p.message)?;
        }
        writeln!(out)?;
    }
    let notes: Vec<&SourceRow> = s.sources.iter().filter(|r| r.note.is_some()).collect();
    if !notes.is_empty() {
        writeln!(out, "{BOLD}Counted once{BOLD:#}")?;
        for r in notes {
            writeln!(
                out,
                "  {}: {}",
                r.path,
                r.note.as_deref().unwrap_or_default()
            )?;
        }
        writeln!(out)?;
    }
    if !s.warnings.is_empty() {
        writeln!(out, "{BOLD}Warnings{BOLD:#}")?;
        for p in &s.warnings {
            writeln!(out, "  {}: {}", p.path, p.message)?;
        }
        writeln!(out)?;
    }
    if s.cut_lines > 0 {
        writeln!(
            out,
            "{DIM}{} over-long lines were cut at 1 MiB.{DIM:#}",
            thousands(s.cut_lines)
        )?;
    }
    if !s.errors.is_empty() {
        let st = sev_style(Severity::High);
        writeln!(out, "{st}Could not read{st:#}")?;
        for p in &s.errors {
            writeln!(out, "  {}: {}", p.path, p.message)?;
        }
    }
    out.flush()
}

/// "Not known to any rule": each template folded to one line (level, count, time span, hosts)
/// and one example line; most severe level first, then by count.
fn write_unknown(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let u = &s.unknown;
    if u.templates.is_empty() && u.other_events == 0 {
        return Ok(());
    }
    let events: u64 = u.templates.iter().map(|t| t.count).sum();
    writeln!(
        out,
        "{BOLD}Not known to any rule{BOLD:#} {DIM}({} template{}, {} event{}; `logtriage rules suggest` drafts rules for them){DIM:#}",
        u.templates.len(),
        if u.templates.len() == 1 { "" } else { "s" },
        thousands(events),
        if events == 1 { "" } else { "s" },
    )?;
    for t in &u.templates {
        let mut meta = format!("{:<5} {:>6}x", t.level.as_str(), thousands(t.count));
        match (&t.first_seen, &t.last_seen) {
            (Some(a), Some(b)) if a.0 != b.0 => {
                let (a, b) = (short_time(&a.1.iso()), short_time(&b.1.iso()));
                let b = if a.get(..10) == b.get(..10) {
                    b[11..].to_string()
                } else {
                    b
                };
                meta.push_str(&format!(" {a} -> {b}"));
            }
            (Some(a), _) => meta.push_str(&format!(" {}", short_time(&a.1.iso()))),
            _ => {}
        }
        let who: Vec<String> = t
            .services
            .iter()
            .map(|s| s.to_string())
            .chain(t.hosts.iter().map(|h| format!("on {h}")))
            .collect();
        if !who.is_empty() {
            meta.push_str(&format!(" | {}", who.join(", ")));
        }
        let st = if t.level >= crate::event::Level::Error {
            sev_style(Severity::Low)
        } else {
            sev_style(Severity::Info)
        };
        writeln!(out, "  {st}{}{st:#}", clip(&meta, WIDTH - 2))?;
        let mut text = t.text.clone();
        if let Some(e) = &t.exception {
            text.push_str(&format!(" [{e}]"));
        }
        writeln!(out, "    {}", clip(&text, WIDTH - 4))?;
        if let Some((fi, o)) = t.evidence.first() {
            writeln!(
                out,
                "    {DIM}{}{DIM:#}",
                clip_left(&format!("{}:{}", s.paths[*fi as usize], o.line), WIDTH - 4)
            )?;
        }
        writeln!(out, "    {DIM}template {}{DIM:#}", t.id)?;
    }
    if u.other_events > 0 {
        writeln!(
            out,
            "  {DIM}and {} more event{} of {} further template{} (past the bound of {}){DIM:#}",
            thousands(u.other_events),
            if u.other_events == 1 { "" } else { "s" },
            u.other_templates,
            if u.other_templates == 1 { "" } else { "s" },
            crate::finding::unknown::MAX_TEMPLATES
        )?;
    }
    writeln!(out)
}

/// "4 findings and 2 unknown templates suppressed by logtriage.toml", and each entry.
fn write_suppressed(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let (findings, templates): (u64, u64) = s
        .suppressed
        .iter()
        .fold((0, 0), |(f, t), r| (f + r.findings, t + r.templates));
    if s.suppressed.is_empty() && s.expired.is_empty() {
        return Ok(());
    }
    let file = s.config.as_deref().unwrap_or(crate::config::DEFAULT_FILE);
    writeln!(
        out,
        "{BOLD}Suppressed{BOLD:#} {DIM}{findings} finding{} and {templates} unknown template{} suppressed by {file}{DIM:#}",
        if findings == 1 { "" } else { "s" },
        if templates == 1 { "" } else { "s" },
    )?;
    for r in &s.suppressed {
        let what = if r.entry_is_template() {
            format!(
                "{} template{}",
                r.templates,
                if r.templates == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{} finding{}",
                r.findings,
                if r.findings == 1 { "" } else { "s" }
            )
        };
        let line = format!(
            "{}: {} ({what}, {} events): {}",
            r.entry.at,
            super::target_text(&r.entry.target),
            thousands(r.events),
            r.entry.reason
        );
        writeln!(out, "  {}", wrap(&line, WIDTH - 2, "    "))?;
    }
    for e in &s.expired {
        let line = format!(
            "{}: {} expired on {}: no longer applied",
            e.at,
            super::target_text(&e.target),
            e.until.as_deref().unwrap_or("")
        );
        writeln!(out, "  {}", wrap(&line, WIDTH - 2, "    "))?;
    }
    writeln!(out)
}

fn write_finding(
    out: &mut dyn Write,
    s: &Summary,
    rules: &[Rule],
    f: &finding::Finding,
) -> io::Result<()> {
    let rule = &rules[f.rule as usize];
    write_title(out, rule, f.severity(rules), f.phase, &f.fields)?;
    let (component, layer) = finding::attribute(rule, &f.origin);
    let mut meta = format!("{}x", thousands(f.count));
    match (&f.first_seen, &f.last_seen) {
        (Some(a), Some(b)) if a.0 != b.0 => {
            let (a, b) = (short_time(&a.1.iso()), short_time(&b.1.iso()));
            // Same day: the end shows only its time.
            let b = if a.get(..10) == b.get(..10) {
                b[11..].to_string()
            } else {
                b
            };
            meta.push_str(&format!(" | {a} -> {b}"));
        }
        (Some(a), _) => meta.push_str(&format!(" | {}", short_time(&a.1.iso()))),
        _ => {}
    }
    writeln!(out, "  {DIM}{}{DIM:#}", wrap(&meta, WIDTH - 2, "  "))?;
    let mut who = component;
    if let Some(svc) = f.origin.service
        && svc != who
    {
        who = format!("{who}/{svc}");
    }
    if let Some(h) = &f.origin.host {
        who.push_str(&format!(" on {h}"));
    }
    if let Some(c) = &f.origin.container {
        if let Some(a) = &f.origin.application {
            who.push_str(&format!(" | {a}"));
        }
        who.push_str(&format!(" | {c}"));
        if f.containers.len() > 1 {
            who.push_str(&format!(" (+{} more)", f.containers.len() - 1));
        }
    }
    let whole = format!("{who} | {} layer", layer.as_str());
    writeln!(out, "  {DIM}{}{DIM:#}", wrap(&whole, WIDTH - 2, "  "))?;
    if let Some(t) = &rule.threshold {
        writeln!(
            out,
            "  {DIM}(reported because {} or more occurred within {}){DIM:#}",
            t.count, t.within
        )?;
    }
    for (fi, o) in &f.evidence {
        write_evidence(out, &s.paths[*fi as usize], o)?;
    }
    if f.files_total
        > f.evidence
            .iter()
            .map(|e| e.0)
            .collect::<std::collections::BTreeSet<_>>()
            .len() as u64
    {
        writeln!(out, "  {DIM}(in {} files){DIM:#}", f.files_total)?;
    }
    write_runbook(out, rule, f.fingerprint)?;
    writeln!(out)
}

/// One evidence event: where it is, its header line, and the line holding the hit.
pub fn write_evidence(out: &mut dyn Write, path: &str, o: &Occurrence) -> io::Result<()> {
    writeln!(
        out,
        "  {}",
        clip_left(&format!("{path}:{}", o.line), WIDTH - 2)
    )?;
    let header = o.text.lines().next().unwrap_or("");
    writeln!(out, "    {DIM}|{DIM:#} {}", clip(header, WIDTH - 6))?;
    if let Some(h) = &o.hit_line {
        writeln!(out, "    {DIM}|{DIM:#} {}", clip(h.trim_start(), WIDTH - 6))?;
    }
    Ok(())
}

/// The numbered runbook steps, then the rule id and the fingerprint.
pub fn write_runbook(out: &mut dyn Write, rule: &Rule, fingerprint: u64) -> io::Result<()> {
    writeln!(out, "  {BOLD}Runbook{BOLD:#}")?;
    for (i, step) in rule.runbook.iter().enumerate() {
        let prefix = format!("    {}. ", i + 1);
        writeln!(
            out,
            "{prefix}{}",
            wrap(step, WIDTH - prefix.len(), &" ".repeat(prefix.len()))
        )?;
    }
    writeln!(
        out,
        "  {DIM}rule {} | fingerprint {}{DIM:#}",
        rule.id,
        hex(fingerprint)
    )
}

/// The severity and title of a finding, and its summary when it says more than the title.
pub fn write_title(
    out: &mut dyn Write,
    rule: &Rule,
    severity: Severity,
    phase: Option<Phase>,
    fields: &[(String, String)],
) -> io::Result<()> {
    let st = sev_style(severity);
    let sev = severity.as_str().to_uppercase();
    let indent = " ".repeat(sev.len() + 2);
    writeln!(
        out,
        "{st}{sev}{st:#}  {BOLD}{}{BOLD:#}",
        wrap(&rule.title, WIDTH - indent.len(), &indent)
    )?;
    let summary = finding::summary(rule, fields);
    if summary != rule.title {
        writeln!(out, "  {}", wrap(&summary, WIDTH - 2, "  "))?;
    }
    if let Some(p) = phase {
        // Why it is not at its rule's severity.
        let note = format!("{} (a {} failure outside it)", p.describe(), rule.severity);
        writeln!(out, "  {DIM}{}{DIM:#}", wrap(&note, WIDTH - 2, "  "))?;
    }
    Ok(())
}
