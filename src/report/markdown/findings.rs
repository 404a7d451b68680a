//! The findings in detail (evidence in code blocks, runbook steps as numbered lists), the
//! error templates no rule knows, and what the config suppressed.

use std::io::{self, Write};

use super::text::*;
use super::*;

/// The findings in detail, in report order, while the body stays under `DETAIL_BUDGET` bytes
/// and `DETAIL_MAX` findings: each finding is rendered whole or not at all.
pub(super) fn write_details(out: &mut Vec<u8>, s: &Summary, rules: &[Rule]) -> io::Result<()> {
    writeln!(out, "## Findings")?;
    writeln!(out)?;
    let mut shown = 0;
    for f in s.findings.iter().take(DETAIL_MAX) {
        let mut one = Vec::new();
        write_finding(&mut one, s, rules, f)?;
        if out.len() + one.len() > DETAIL_BUDGET && shown > 0 {
            break;
        }
        out.extend_from_slice(&one);
        shown += 1;
    }
    if s.findings.len() > shown {
        writeln!(
            out,
            "{} more findings are left out of the detail, to keep the ticket body under {} KB \
             (they are in the summary table; `--format json` has them all).",
            s.findings.len() - shown,
            BODY_BYTES / 1000
        )?;
        writeln!(out)?;
    }
    Ok(())
}

pub(super) fn write_finding(
    out: &mut dyn Write,
    s: &Summary,
    rules: &[Rule],
    f: &Finding,
) -> io::Result<()> {
    let rule = &rules[f.rule as usize];
    let sev = f.severity(rules);
    writeln!(
        out,
        "### {} {}",
        sev.as_str().to_uppercase(),
        inline(&rule.title, TITLE_CHARS)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "**Summary:** {}",
        inline(&finding::summary(rule, &f.fields), usize::MAX)
    )?;
    writeln!(out)?;
    let host = f.origin.host.as_deref();
    let at = |x: &Option<(i64, crate::event::Stamp)>| {
        x.as_ref()
            .map(|(_, st)| s.clock.rfc3339(s.clock.instant(st, host)))
    };
    let files = if f.files_total > 1 {
        format!(" in {} files", thousands(f.files_total))
    } else {
        String::new()
    };
    writeln!(out, "- **Count:** {}{files}", thousands(f.count))?;
    match (at(&f.first_seen), at(&f.last_seen)) {
        (Some(a), Some(b)) if a != b => writeln!(out, "- **Seen:** {a} to {b}")?,
        (Some(a), _) => writeln!(out, "- **Seen:** {a}")?,
        _ => writeln!(out, "- **Seen:** no timestamp")?,
    }
    let (component, layer) = finding::attribute(rule, &f.origin);
    let mut where_ = component;
    if let Some(svc) = f.origin.service
        && svc != where_
    {
        where_ = format!("{where_}/{svc}");
    }
    if let Some(h) = host {
        where_.push_str(&format!(" on {h}"));
    }
    if let Some(c) = &f.origin.container {
        if let Some(a) = &f.origin.application {
            where_.push_str(&format!(", {a}"));
        }
        where_.push_str(&format!(", {c}"));
        if f.containers.len() > 1 {
            where_.push_str(&format!(" (+{} more)", f.containers.len() - 1));
        }
    }
    writeln!(
        out,
        "- **Where:** {}, {} layer",
        inline(&where_, usize::MAX),
        layer.as_str()
    )?;
    if let Some(p) = f.phase {
        writeln!(
            out,
            "- **Phase:** {} (a {} failure outside it)",
            p.describe(),
            rule.severity
        )?;
    }
    if let Some(t) = &rule.threshold {
        writeln!(
            out,
            "- **Threshold:** reported because {} or more occurred within {}",
            t.count,
            inline(&t.within, CELL_CHARS)
        )?;
    }
    writeln!(out, "- **Rule:** {}", code(&rule.id))?;
    writeln!(out, "- **Fingerprint:** `{}`", hex(f.fingerprint))?;
    writeln!(out)?;
    if f.evidence.is_empty() {
        writeln!(out, "**Evidence:** no log lines kept for it.")?;
        writeln!(out)?;
    } else {
        let k = f.evidence.len() as u64;
        let of = if f.count > k {
            format!(" (the first {k} of {} occurrences)", thousands(f.count))
        } else {
            String::new()
        };
        writeln!(out, "**Evidence**{of}")?;
        writeln!(out)?;
        for (fi, o) in &f.evidence {
            write_evidence(out, s, *fi, o, host)?;
        }
    }
    if !rule.runbook.is_empty() {
        writeln!(out, "**Runbook**")?;
        writeln!(out)?;
        for (i, step) in rule.runbook.iter().enumerate() {
            writeln!(out, "{}. {}", i + 1, prose(step))?;
        }
        writeln!(out)?;
    }
    if !rule.references.is_empty() {
        writeln!(out, "**References**")?;
        writeln!(out)?;
        for r in &rule.references {
            writeln!(out, "- {}", reference(r))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// One evidence event: `file:line` and its time, then the event in a code block.
pub(super) fn write_evidence(
    out: &mut dyn Write,
    s: &Summary,
    fi: u32,
    o: &Occurrence,
    host: Option<&str>,
) -> io::Result<()> {
    let mut head = code(&format!("{}:{}", s.paths[fi as usize], o.line));
    if let Some(st) = &o.stamp {
        head.push_str(&format!(
            " at {}",
            s.clock.rfc3339(s.clock.instant(st, host))
        ));
    }
    if let Some(c) = &s.containers[fi as usize] {
        head.push_str(&format!(", container {}", code(c)));
    }
    writeln!(out, "{head}")?;
    writeln!(out)?;
    code_block(out, &o.text)
}

pub(super) fn write_unknown(out: &mut Vec<u8>, s: &Summary) -> io::Result<()> {
    let u = &s.unknown;
    if u.templates.is_empty() && u.other_events == 0 {
        return Ok(());
    }
    let events: u64 = u.templates.iter().map(|t| t.count).sum();
    let n = u.templates.len() as u64;
    writeln!(out, "## Not known to any rule")?;
    writeln!(out)?;
    writeln!(
        out,
        "{n} error template{}, {} event{}; `logtriage rules suggest` drafts rules for them.",
        plural(n),
        thousands(events),
        plural(events)
    )?;
    writeln!(out)?;
    for (i, t) in u.templates.iter().take(UNKNOWN_MAX).enumerate() {
        if out.len() > UNKNOWN_BUDGET {
            writeln!(
                out,
                "{} more templates are left out, to keep the ticket body short (`--format json` \
                 has them all).",
                u.templates.len().min(UNKNOWN_MAX) - i
            )?;
            writeln!(out)?;
            break;
        }
        writeln!(
            out,
            "### {} {}",
            t.level.as_str(),
            code(&clip(&t.text, TITLE_CHARS))
        )?;
        writeln!(out)?;
        let host = t.origin.host.as_deref();
        let at = |x: &Option<(i64, crate::event::Stamp)>| {
            x.as_ref()
                .map(|(_, st)| s.clock.rfc3339(s.clock.instant(st, host)))
        };
        let when = match (at(&t.first_seen), at(&t.last_seen)) {
            (Some(a), Some(b)) if a != b => format!(", {a} to {b}"),
            (Some(a), _) => format!(", {a}"),
            _ => String::new(),
        };
        writeln!(out, "- **Count:** {}{when}", thousands(t.count))?;
        if !t.services.is_empty() {
            let sv: Vec<&str> = t.services.iter().copied().collect();
            writeln!(out, "- **Services:** {}", sv.join(", "))?;
        }
        if !t.hosts.is_empty() {
            let h: Vec<String> = t.hosts.iter().map(|h| inline(h, CELL_CHARS)).collect();
            writeln!(out, "- **Hosts:** {}", h.join(", "))?;
        }
        if let Some(e) = &t.exception {
            writeln!(out, "- **Exception:** {}", code(&clip(e, TITLE_CHARS)))?;
        }
        writeln!(out, "- **Template id:** {}", code(&t.id))?;
        writeln!(out)?;
        if let Some((fi, o)) = t.evidence.first() {
            writeln!(out, "First evidence:")?;
            writeln!(out)?;
            write_evidence(out, s, *fi, o, host)?;
        }
    }
    if u.templates.len() > UNKNOWN_MAX {
        writeln!(
            out,
            "And {} more templates (`--format json`: `unknown`).",
            u.templates.len() - UNKNOWN_MAX
        )?;
        writeln!(out)?;
    }
    if u.other_events > 0 {
        writeln!(
            out,
            "And {} more event{} of {} further template{} (past the bound of {}).",
            thousands(u.other_events),
            plural(u.other_events),
            u.other_templates,
            plural(u.other_templates),
            crate::finding::unknown::MAX_TEMPLATES
        )?;
        writeln!(out)?;
    }
    Ok(())
}

pub(super) fn write_suppressed(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    if s.suppressed.is_empty() && s.expired.is_empty() {
        return Ok(());
    }
    let (findings, templates) = s
        .suppressed
        .iter()
        .fold((0, 0), |(f, t), r| (f + r.findings, t + r.templates));
    let file = s.config.as_deref().unwrap_or(crate::config::DEFAULT_FILE);
    writeln!(out, "## Suppressed")?;
    writeln!(out)?;
    writeln!(
        out,
        "{findings} finding{} and {templates} unknown template{} suppressed by {}.",
        plural(findings),
        plural(templates),
        code(file)
    )?;
    writeln!(out)?;
    for r in &s.suppressed {
        let what = if r.entry_is_template() {
            format!("{} template{}", r.templates, plural(r.templates))
        } else {
            format!("{} finding{}", r.findings, plural(r.findings))
        };
        writeln!(
            out,
            "- {}: {} ({what}, {} events): {}",
            code(&r.entry.at),
            inline(&crate::report::target_text(&r.entry.target), usize::MAX),
            thousands(r.events),
            inline(&r.entry.reason, usize::MAX)
        )?;
    }
    for e in &s.expired {
        writeln!(
            out,
            "- {}: {} expired on {}: no longer applied",
            code(&e.at),
            inline(&crate::report::target_text(&e.target), usize::MAX),
            inline(e.until.as_deref().unwrap_or(""), CELL_CHARS)
        )?;
    }
    writeln!(out)
}
