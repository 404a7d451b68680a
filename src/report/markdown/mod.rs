//! `--format markdown`: a ticket body that renders in GitHub, GitLab and Jira Markdown. A title
//! line (the worst severity, the first incident's origin), what was scanned, a summary table of
//! every finding, the incidents (origin, Run Book scenario, chain, first steps), each finding in
//! detail (its evidence in a fenced code block, its runbook steps as a numbered list), then the
//! error templates no rule knows.
//!
//! Text from logs never leaves its place: in prose and table cells it is one line with Markdown's
//! punctuation escaped (`|` included, so a cell never splits), in code spans and code blocks it
//! is fenced by more backticks than it holds. Bounded (evidence as in JSON, each block at most
//! 60 lines / 8 KiB, at most `DETAIL_MAX` findings in detail) and deterministic: it is written
//! from the sorted summary only, never from times of the run.

mod findings;
mod text;

use std::io::{self, Write};

use findings::{write_details, write_suppressed, write_unknown};
use text::*;

use super::Summary;
use super::incidents::place;
use super::text::{human_bytes, thousands};
use crate::finding::fingerprint::hex;
use crate::finding::incident::{Incident, Link, Tie};
use crate::finding::{self, Finding};
use crate::matching::Occurrence;
use crate::rules::{Rule, Severity};

/// Findings given in full detail; the others are in the summary table only.
pub const DETAIL_MAX: usize = 200;
/// Incidents told; the others are counted.
const INCIDENTS_MAX: usize = 20;
/// Chain entries listed per incident.
const CHAIN_MAX: usize = 20;
/// Unknown templates given with their evidence.
const UNKNOWN_MAX: usize = 50;
/// Entries of a list of inputs or of unreadable paths.
const LIST_MAX: usize = 100;
/// A code block holds at most this much of an event (as the JSON evidence `text`).
const BLOCK_LINES: usize = 60;
const BLOCK_BYTES: usize = 8 * 1024;
/// Text from logs in a table cell or a heading is cut here.
const CELL_CHARS: usize = 160;
const TITLE_CHARS: usize = 200;
/// A scenario's evidence clause is cut here.
const CLAUSE_CHARS: usize = 400;

/// The body a ticket takes: GitHub's issue bodies hold 65,536 characters; the detail stops
/// before this many bytes, the summary table at `TABLE_BUDGET`.
pub const BODY_BYTES: usize = 60_000;
const TABLE_BUDGET: usize = 16_000;
const DETAIL_BUDGET: usize = 54_000;
const UNKNOWN_BUDGET: usize = 57_000;

pub fn write(out: &mut dyn Write, s: &Summary, rules: &[Rule]) -> io::Result<()> {
    // Written to memory first: the sections see how long the body already is.
    let mut body: Vec<u8> = Vec::new();
    writeln!(body, "# {}", title(s, rules))?;
    writeln!(body)?;
    writeln!(body, "{}", overview(s, rules))?;
    writeln!(body)?;
    write_scanned(&mut body, s)?;
    if !s.findings.is_empty() {
        write_table(&mut body, s, rules)?;
        write_incidents(&mut body, s, rules)?;
        write_details(&mut body, s, rules)?;
    }
    write_unknown(&mut body, s)?;
    write_suppressed(&mut body, s)?;
    out.write_all(&body)?;
    out.flush()
}

/// `HIGH: <the first incident's origin> (<who>)`, or what stands in for it.
fn title(s: &Summary, rules: &[Rule]) -> String {
    if s.nothing_scanned() {
        return "Nothing was scanned: every input was skipped or could not be read".to_string();
    }
    let worst = s
        .max_severity
        .map(|v| v.as_str().to_uppercase())
        .unwrap_or_default();
    let named = |f: &Finding| {
        let summary = finding::summary(&rules[f.rule as usize], &f.fields);
        match super::text::who(&f.origin) {
            Some(w) => format!("{summary} ({w})"),
            None => summary,
        }
    };
    // The incident that holds the worst finding (the first such), else the first.
    let holds_worst = |inc: &&Incident| {
        inc.chain
            .iter()
            .any(|l| Some(s.findings[l.finding].severity(rules)) == s.max_severity)
    };
    if let Some(inc) = s.incidents.iter().find(holds_worst).or(s.incidents.first()) {
        let f = &s.findings[inc.chain[inc.origin].finding];
        return format!("{worst}: {}", inline(&named(f), TITLE_CHARS));
    }
    if let Some(f) = s.findings.first() {
        let more = match s.findings.len() - 1 {
            0 => String::new(),
            n => format!(" and {n} more finding{}", plural(n as u64)),
        };
        return format!("{worst}: {}{more}", inline(&named(f), TITLE_CHARS));
    }
    let n = s.unknown.templates.len() as u64;
    if n > 0 {
        return format!(
            "{worst}: {n} error template{} no rule knows, no findings",
            plural(n)
        );
    }
    let files = s.paths.len() as u64;
    let unread = s.errors.len() as u64;
    let unread = if unread > 0 {
        format!(" ({unread} input{} could not be read)", plural(unread))
    } else {
        String::new()
    };
    format!("No findings in {files} file{}{unread}", plural(files))
}

/// The counts under the title: findings by severity, incidents, unknown templates.
fn overview(s: &Summary, rules: &[Rule]) -> String {
    if s.nothing_scanned() {
        return "**Nothing was scanned**: every input was skipped or could not be read (see \
                below). This is not a clean bill of health."
            .to_string();
    }
    let mut parts = Vec::new();
    let n = s.findings.len() as u64;
    if n == 0 {
        parts.push("**No findings**".to_string());
    } else {
        let by_sev: Vec<String> = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ]
        .iter()
        .filter_map(|&sev| {
            let c = s
                .findings
                .iter()
                .filter(|f| f.severity(rules) == sev)
                .count();
            (c > 0).then(|| format!("{c} {sev}"))
        })
        .collect();
        parts.push(format!(
            "**{n} finding{}**: {}",
            plural(n),
            by_sev.join(", ")
        ));
    }
    let k = s.incidents.len() as u64;
    if k > 0 {
        parts.push(format!("{k} incident{}", plural(k)));
    }
    let u = s.unknown.templates.len() as u64;
    if u > 0 {
        parts.push(format!("{u} error template{} no rule knows", plural(u)));
    }
    let e = s.errors.len() as u64;
    if e > 0 {
        parts.push(format!("{e} input{} could not be read", plural(e)));
    }
    format!("{}.", parts.join("; "))
}

fn write_scanned(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    writeln!(out, "## What was scanned")?;
    writeln!(out)?;
    let mut inputs: Vec<String> = s.inputs.iter().take(LIST_MAX).map(|i| code(i)).collect();
    if s.inputs.len() > LIST_MAX {
        inputs.push(format!("and {} more", s.inputs.len() - LIST_MAX));
    }
    if inputs.is_empty() {
        inputs.push("standard input".to_string());
    }
    writeln!(out, "- **Inputs:** {}", inputs.join(", "))?;
    let n = s.paths.len() as u64;
    let compressed = s.sources.iter().filter(|r| r.compression.is_some()).count();
    let members = s
        .paths
        .iter()
        .filter(|p| p.contains(crate::source::archive::MEMBER_SEPARATOR))
        .count();
    let sections = s.sources.iter().filter(|r| r.log_type.is_some()).count();
    let kinds: Vec<String> = [
        (compressed, "compressed"),
        (members, "archive members"),
        (sections, "yarn log sections"),
    ]
    .iter()
    .filter(|(c, _)| *c > 0)
    .map(|(c, what)| format!("{c} {what}"))
    .collect();
    let kinds = if kinds.is_empty() {
        String::new()
    } else {
        format!(" ({})", kinds.join(", "))
    };
    writeln!(out, "- **Files:** {}{kinds}", thousands(n))?;
    writeln!(
        out,
        "- **Bytes:** {} ({} bytes)",
        human_bytes(s.bytes),
        thousands(s.bytes)
    )?;
    writeln!(
        out,
        "- **Lines:** {} ({} candidate event{} checked against {} rule{})",
        thousands(s.lines),
        thousands(s.events),
        plural(s.events),
        s.rules,
        plural(s.rules as u64)
    )?;
    if !s.layouts.is_empty() {
        let l: Vec<String> = s.layouts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(out, "- **Layouts:** {}", l.join(", "))?;
    }
    if s.hosts.is_empty() {
        writeln!(out, "- **Hosts:** none named")?;
    } else {
        let hosts: Vec<String> = s
            .hosts
            .iter()
            .map(|h| {
                let other: Vec<String> = h
                    .seen_as
                    .iter()
                    .filter(|a| **a != h.name)
                    .map(|a| inline(a, CELL_CHARS))
                    .collect();
                if other.is_empty() {
                    inline(&h.name, CELL_CHARS)
                } else {
                    format!(
                        "{} (seen as {})",
                        inline(&h.name, CELL_CHARS),
                        other.join(", ")
                    )
                }
            })
            .collect();
        writeln!(out, "- **Hosts:** {}", hosts.join(", "))?;
    }
    match span(s) {
        Some((a, b)) => writeln!(
            out,
            "- **Time span of the findings:** {} to {}",
            s.clock.rfc3339(a),
            s.clock.rfc3339(b)
        )?,
        None if !s.findings.is_empty() => {
            writeln!(out, "- **Time span of the findings:** no timed findings")?
        }
        None => {}
    }
    writeln!(out, "- **Times in:** {}", inline(&s.clock.name, CELL_CHARS))?;
    let problems = [
        ("Could not read", &s.errors),
        ("Skipped", &s.skipped),
        ("Warnings", &s.warnings),
    ];
    for (what, list) in problems {
        if !list.is_empty() {
            writeln!(out, "- **{what}:** {} (below)", list.len())?;
        }
    }
    if s.errors.is_empty() {
        writeln!(out, "- **Could not read:** nothing")?;
    }
    let notes = s.sources.iter().filter(|r| r.note.is_some()).count();
    if notes > 0 {
        writeln!(
            out,
            "- **Counted once:** {notes} Accumulo log{} also written to a `.debug.log` (below)",
            plural(notes as u64)
        )?;
    }
    if s.cut_lines > 0 {
        writeln!(
            out,
            "- **Over-long lines:** {} cut at 1 MiB",
            thousands(s.cut_lines)
        )?;
    }
    writeln!(out)?;
    for (what, list) in problems {
        if list.is_empty() {
            continue;
        }
        writeln!(out, "### {what}")?;
        writeln!(out)?;
        for p in list.iter().take(LIST_MAX) {
            writeln!(
                out,
                "- {}: {}",
                code(&p.path),
                inline(&p.message, usize::MAX)
            )?;
        }
        if list.len() > LIST_MAX {
            writeln!(
                out,
                "- and {} more (`--format json` lists them all)",
                list.len() - LIST_MAX
            )?;
        }
        writeln!(out)?;
    }
    if notes > 0 {
        writeln!(out, "### Counted once")?;
        writeln!(out)?;
        for r in s.sources.iter().filter(|r| r.note.is_some()) {
            writeln!(
                out,
                "- {}: {}",
                code(&r.path),
                inline(r.note.as_deref().unwrap_or_default(), usize::MAX)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The earliest first and latest last occurrence of the findings, as instants.
fn span(s: &Summary) -> Option<(i64, i64)> {
    s.findings
        .iter()
        .flat_map(|f| {
            let host = f.origin.host.as_deref();
            [f.first_seen.as_ref(), f.last_seen.as_ref()]
                .into_iter()
                .flatten()
                .map(move |x| s.clock.instant(&x.1, host))
        })
        .fold(None, |acc, t| match acc {
            None => Some((t, t)),
            Some((a, b)) => Some((a.min(t), b.max(t))),
        })
}

fn write_table(out: &mut Vec<u8>, s: &Summary, rules: &[Rule]) -> io::Result<()> {
    writeln!(out, "## Summary")?;
    writeln!(out)?;
    // With --baseline, a first column says what is new since it.
    let (status_head, status_rule) = match s.baseline {
        Some(_) => ("| Status ", "|---"),
        None => ("", ""),
    };
    writeln!(
        out,
        "{status_head}| Severity | Finding | Host / service | Count | First seen | Last seen | Fingerprint |"
    )?;
    writeln!(out, "{status_rule}|---|---|---|---:|---|---|---|")?;
    let mut rows = 0;
    for (i, f) in s.findings.iter().enumerate() {
        if out.len() > TABLE_BUDGET {
            break;
        }
        rows += 1;
        if let Some(b) = &s.baseline {
            let status = match b.status(i) {
                "new" => "**NEW**",
                other => other,
            };
            write!(out, "| {status} ")?;
        }
        let rule = &rules[f.rule as usize];
        let host = f.origin.host.as_deref();
        let time = |x: &Option<(i64, crate::event::Stamp)>| match x {
            Some((_, st)) => s.clock.short(s.clock.instant(st, host)),
            None => "-".to_string(),
        };
        writeln!(
            out,
            "| {} | {} | {} / {} | {} | {} | {} | `{}` |",
            f.severity(rules).as_str().to_uppercase(),
            inline(&finding::summary(rule, &f.fields), CELL_CHARS),
            inline(host.unwrap_or("-"), CELL_CHARS),
            inline(f.origin.service.unwrap_or("-"), CELL_CHARS),
            thousands(f.count),
            time(&f.first_seen),
            time(&f.last_seen),
            hex(f.fingerprint)
        )?;
    }
    writeln!(out)?;
    if rows < s.findings.len() {
        writeln!(
            out,
            "The table shows the first {rows} of {} findings, to keep the ticket body short \
             (`--format json` has them all).",
            s.findings.len()
        )?;
        writeln!(out)?;
    }
    writeln!(out, "Times in {}.", inline(&s.clock.name, CELL_CHARS))?;
    writeln!(out)
}

fn write_incidents(out: &mut dyn Write, s: &Summary, rules: &[Rule]) -> io::Result<()> {
    if s.incidents.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Incidents")?;
    writeln!(out)?;
    writeln!(
        out,
        "Split by {} of quiet; times in {}.",
        finding::clock::duration(s.incident_gap_ms),
        inline(&s.clock.name, CELL_CHARS)
    )?;
    writeln!(out)?;
    for (n, inc) in s.incidents.iter().take(INCIDENTS_MAX).enumerate() {
        write_incident(out, s, rules, n + 1, inc)?;
    }
    if s.incidents.len() > INCIDENTS_MAX {
        writeln!(
            out,
            "And {} more incidents (`--format json`: `incidents`).",
            s.incidents.len() - INCIDENTS_MAX
        )?;
        writeln!(out)?;
    }
    Ok(())
}

fn write_incident(
    out: &mut dyn Write,
    s: &Summary,
    rules: &[Rule],
    n: usize,
    inc: &Incident,
) -> io::Result<()> {
    let k = inc.chain.len() as u64;
    writeln!(
        out,
        "### Incident {n}: {} to {} ({k} finding{})",
        s.clock.short(inc.start),
        s.clock.short(inc.end),
        plural(k)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "- **Window:** {} to {}",
        s.clock.rfc3339(inc.start),
        s.clock.rfc3339(inc.end)
    )?;
    if !inc.hosts.is_empty() {
        let hosts: Vec<String> = inc.hosts.iter().map(|h| inline(h, CELL_CHARS)).collect();
        writeln!(out, "- **Hosts:** {}", hosts.join(", "))?;
    }
    if !inc.services.is_empty() {
        writeln!(out, "- **Services:** {}", inc.services.join(", "))?;
    }
    let origin = &inc.chain[inc.origin];
    let f = &s.findings[origin.finding];
    let rule = &rules[f.rule as usize];
    writeln!(
        out,
        "- **Started with:** **{}** {} ({}, {} layer) at {}, {}, fingerprint `{}`",
        f.severity(rules).as_str().to_uppercase(),
        inline(&finding::summary(rule, &f.fields), usize::MAX),
        inline(&who(f), CELL_CHARS),
        origin.layer.as_str(),
        s.clock.short(origin.first),
        code(&place(s, origin.at)),
        hex(f.fingerprint)
    )?;
    writeln!(out, "- **Why:** {}", inline(&inc.origin_reason, usize::MAX))?;
    write_scenario(out, s, inc)?;
    writeln!(out)?;
    writeln!(out, "**Chain** (in order of first occurrence)")?;
    writeln!(out)?;
    for (i, l) in inc.chain.iter().take(CHAIN_MAX).enumerate() {
        write_link(out, s, rules, inc, i + 1, l)?;
    }
    if inc.chain.len() > CHAIN_MAX {
        writeln!(out)?;
        writeln!(
            out,
            "And {} more findings (`--format json`: `incidents[].chain`).",
            inc.chain.len() - CHAIN_MAX
        )?;
    }
    writeln!(out)?;
    writeln!(out, "**First steps**")?;
    writeln!(out)?;
    for (i, step) in super::story_json::first_steps(s, inc, rule)
        .into_iter()
        .enumerate()
    {
        writeln!(out, "{}. {}", i + 1, prose(step))?;
    }
    writeln!(out)
}

/// The incident's Run Book scenario and its evidence, the others that hold, or (none holding)
/// the servers that failed.
fn write_scenario(out: &mut dyn Write, s: &Summary, inc: &Incident) -> io::Result<()> {
    let Some(first) = inc.scenarios.first() else {
        let failed = inc
            .situation
            .describe_failed(|x| inline(&format!("{} {}", x.role, x.unit), CELL_CHARS));
        if !failed.is_empty() {
            writeln!(
                out,
                "- **Run Book scenario:** none of the recovery scenarios holds; {}",
                failed.join("; ")
            )?;
        }
        return Ok(());
    };
    let sc = &s.scenarios.scenarios[first.scenario];
    writeln!(
        out,
        "- **Run Book scenario:** {}: {} ({})",
        prose(&sc.section),
        prose(&sc.title),
        sc.class.as_str()
    )?;
    for e in &first.evidence {
        writeln!(out, "  - {}", inline(e, CLAUSE_CHARS))?;
    }
    let also: Vec<String> = inc
        .scenarios
        .iter()
        .skip(1)
        .map(|v| prose(&s.scenarios.scenarios[v.scenario].title))
        .collect();
    if !also.is_empty() {
        writeln!(out, "- **Also holds:** {}", also.join("; "))?;
    }
    Ok(())
}

fn write_link(
    out: &mut dyn Write,
    s: &Summary,
    rules: &[Rule],
    inc: &Incident,
    n: usize,
    l: &Link,
) -> io::Result<()> {
    let f = &s.findings[l.finding];
    let rule = &rules[f.rule as usize];
    let id_of = |j: usize| {
        let g = &s.findings[inc.chain[j].finding];
        code(&rules[g.rule as usize].id)
    };
    let tie = match l.tie {
        Tie::Origin => "the origin".to_string(),
        Tie::Declared { after } => format!(
            "follows no. {} {} (declared by its rule)",
            after + 1,
            id_of(after)
        ),
        Tie::LowerLayer { after } => {
            format!("after no. {} {} in a lower layer", after + 1, id_of(after))
        }
        Tie::None => "no tie to what came before".to_string(),
    };
    writeln!(
        out,
        "{n}. {} **{}** {}; {}, {}x; {tie}; `{}`",
        s.clock.short(l.first),
        f.severity(rules).as_str().to_uppercase(),
        inline(&rule.title, TITLE_CHARS),
        inline(&who(f), CELL_CHARS),
        thousands(l.count),
        hex(f.fingerprint)
    )
}
