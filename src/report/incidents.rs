//! The story of a sweep for a terminal: the INCIDENTS section that opens the human report
//! (window, hosts, what started it, what followed and why, first steps) and `--format timeline`
//! (every finding's bursts on one time axis, repeats folded).

use std::io::{self, Write};

use super::text::{BOLD, DIM, WIDTH, clip, clip_left, sev_style, wrap};
use super::{Summary, ndjson};
use crate::finding::fingerprint::hex;
use crate::finding::incident::{Incident, Link, Tie};
use crate::finding::unknown::Unknown;
use crate::finding::{self, Finding};
use crate::rules::{Rule, Severity};

/// Chain entries shown per incident before the rest are folded into one line.
const CHAIN_SHOWN: usize = 4;

/// A first step is cut here in the INCIDENTS section (the finding shows it whole).
const STEP_CHARS: usize = 130;

/// Timeline entries `--format timeline` and the JSON `timeline` array hold at most.
pub const TIMELINE_CAP: usize = 2000;

/// What a timeline row is a burst of: a finding, or an error event no rule knows.
#[derive(Clone, Copy)]
pub enum Of<'a> {
    Finding(&'a Finding),
    Unknown(&'a Unknown),
}

/// One timeline row: a burst of one finding (or unknown template), its times as instants
/// (`finding::clock`).
pub struct Entry<'a> {
    pub of: Of<'a>,
    pub burst: &'a finding::timeline::Burst,
    pub time: i64,
    pub until: i64,
}

impl<'a> Entry<'a> {
    pub fn origin(&self) -> &'a crate::source::Origin {
        match self.of {
            Of::Finding(f) => &f.origin,
            Of::Unknown(u) => &u.origin,
        }
    }

    pub fn severity(&self, rules: &[Rule]) -> Severity {
        match self.of {
            Of::Finding(f) => f.severity(rules),
            Of::Unknown(u) => u.severity(),
        }
    }

    /// The rule's id, or "unknown".
    pub fn rule(&self, rules: &'a [Rule]) -> &'a str {
        match self.of {
            Of::Finding(f) => &rules[f.rule as usize].id,
            Of::Unknown(_) => "unknown",
        }
    }

    /// The rule's title, or the unknown event's template.
    pub fn title(&self, rules: &'a [Rule]) -> &'a str {
        match self.of {
            Of::Finding(f) => &rules[f.rule as usize].title,
            Of::Unknown(u) => &u.text,
        }
    }

    /// The finding's fingerprint, or the template id.
    pub fn fingerprint(&self) -> String {
        match self.of {
            Of::Finding(f) => hex(f.fingerprint),
            Of::Unknown(u) => u.id.clone(),
        }
    }
}

/// Every reported finding's (and unknown template's) bursts in time order (then file order),
/// at most `TIMELINE_CAP`, and how many there are in all.
pub fn timeline(s: &Summary) -> (Vec<Entry<'_>>, usize) {
    let of_findings = s.findings.iter().map(|f| (Of::Finding(f), &f.bursts));
    let of_unknown = s
        .unknown
        .templates
        .iter()
        .map(|u| (Of::Unknown(u), &u.bursts));
    let mut all: Vec<Entry> = of_findings
        .chain(of_unknown)
        .flat_map(|(of, bursts)| {
            bursts.0.iter().map(move |b| {
                let host = match of {
                    Of::Finding(f) => f.origin.host.as_deref(),
                    Of::Unknown(u) => u.origin.host.as_deref(),
                };
                let time = s.clock.instant(&b.first.1, host);
                Entry {
                    of,
                    burst: b,
                    time,
                    until: s.clock.instant(&b.last.1, host).max(time),
                }
            })
        })
        .collect();
    all.sort_by_cached_key(|e| (e.time, e.burst.at, e.fingerprint()));
    let total = all.len();
    all.truncate(TIMELINE_CAP);
    (all, total)
}

/// `file:line` of a stream index and line.
pub fn place(s: &Summary, at: (u32, u64)) -> String {
    format!("{}:{}", s.paths[at.0 as usize], at.1)
}

fn who(f: &Finding) -> String {
    super::text::who(&f.origin).unwrap_or_else(|| "-".to_string())
}

/// The INCIDENTS section (nothing when no incident).
pub fn write_incidents(out: &mut dyn Write, s: &Summary, rules: &[Rule]) -> io::Result<()> {
    if s.incidents.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{BOLD}INCIDENTS{BOLD:#} {DIM}(split by {} of quiet; times in {}){DIM:#}",
        finding::clock::duration(s.incident_gap_ms),
        s.clock.name
    )?;
    for (n, inc) in s.incidents.iter().enumerate() {
        write_incident(out, s, rules, n + 1, inc)?;
    }
    writeln!(out)
}

fn write_incident(
    out: &mut dyn Write,
    s: &Summary,
    rules: &[Rule],
    n: usize,
    inc: &Incident,
) -> io::Result<()> {
    let (a, b) = (s.clock.short(inc.start), s.clock.short(inc.end));
    let b = if a.get(..10) == b.get(..10) {
        b[11..].to_string()
    } else {
        b
    };
    let hosts = if inc.hosts.is_empty() {
        String::new()
    } else {
        format!(" | hosts {}", inc.hosts.join(", "))
    };
    let k = inc.chain.len();
    let head = format!(
        "{n}. {a} -> {b}{hosts} | {k} finding{}",
        if k == 1 { "" } else { "s" }
    );
    writeln!(out, "  {BOLD}{}{BOLD:#}", wrap(&head, WIDTH - 2, "     "))?;
    let origin = &inc.chain[inc.origin];
    let f = &s.findings[origin.finding];
    let rule = &rules[f.rule as usize];
    let st = sev_style(f.severity(rules));
    let text = format!(
        "{} ({}, {}) at {}",
        finding::summary(rule, &f.fields),
        who(f),
        origin.layer.as_str(),
        s.clock.short(origin.first)
    );
    writeln!(
        out,
        "     Started with: {st}{}{st:#}",
        wrap(&text, WIDTH - 19, "                   ")
    )?;
    writeln!(
        out,
        "     {DIM}{}{DIM:#}",
        clip_left(&place(s, origin.at), WIDTH - 5)
    )?;
    writeln!(
        out,
        "     {DIM}why: {}{DIM:#}",
        wrap(&inc.origin_reason, WIDTH - 10, "          ")
    )?;
    write_scenario(out, s, inc)?;
    writeln!(out, "     Then:")?;
    let rest: Vec<(usize, &Link)> = inc
        .chain
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != inc.origin)
        .collect();
    for (_, l) in rest.iter().take(CHAIN_SHOWN) {
        write_link(out, s, rules, inc, l)?;
    }
    if rest.len() > CHAIN_SHOWN {
        writeln!(
            out,
            "       {DIM}... and {} more findings (--format json: incidents[].chain){DIM:#}",
            rest.len() - CHAIN_SHOWN
        )?;
    }
    if rest.is_empty() {
        writeln!(out, "       {DIM}nothing else{DIM:#}")?;
    }
    writeln!(out, "     First steps:")?;
    // The scenario's steps first (what the Run Book says to do for this case), then the
    // origin's own.
    let steps = super::story_json::first_steps(s, inc, rule);
    for (i, step) in steps.into_iter().enumerate() {
        // The finding below gives the steps whole.
        writeln!(
            out,
            "       {}. {}",
            i + 1,
            wrap(&clip(step, STEP_CHARS), WIDTH - 10, "          ")
        )?;
    }
    Ok(())
}

/// The incident's Run Book scenario with its evidence, the others that hold, or (when none
/// does) the servers that failed.
fn write_scenario(out: &mut dyn Write, s: &Summary, inc: &Incident) -> io::Result<()> {
    let Some(first) = inc.scenarios.first() else {
        let failed = inc
            .situation
            .describe_failed(|x| format!("{} {}", x.role, x.unit));
        if !failed.is_empty() {
            writeln!(
                out,
                "     Run Book scenario: {DIM}none of the recovery scenarios holds; {}{DIM:#}",
                wrap(&failed.join("; "), WIDTH - 50, "       ")
            )?;
        }
        return Ok(());
    };
    let sc = &s.scenarios.scenarios[first.scenario];
    let st = scenario_style(sc.class);
    writeln!(
        out,
        "     Run Book scenario: {st}{}{st:#}",
        wrap(
            &format!("{}: {}", sc.section, sc.title),
            WIDTH - 24,
            "       "
        )
    )?;
    // At most two clauses of evidence here; the JSON has them all.
    for e in first.evidence.iter().take(2) {
        writeln!(
            out,
            "       {}",
            wrap(&clip(e, 160), WIDTH - 7, "         ")
        )?;
    }
    let also: Vec<&str> = inc
        .scenarios
        .iter()
        .skip(1)
        .map(|v| s.scenarios.scenarios[v.scenario].title.as_str())
        .collect();
    if !also.is_empty() {
        // One line: the JSON's `also` has them whole.
        writeln!(
            out,
            "       {DIM}also: {}{DIM:#}",
            clip(&also.join("; "), WIDTH - 13)
        )?;
    }
    Ok(())
}

fn scenario_style(c: crate::rules::scenario::Class) -> anstyle::Style {
    use crate::rules::scenario::Class;
    match c {
        Class::DataLoss => sev_style(crate::rules::Severity::Critical),
        Class::Intervention | Class::Zombie => sev_style(crate::rules::Severity::High),
        Class::Automatic | Class::SingleWorker => sev_style(crate::rules::Severity::Medium),
    }
}

fn write_link(
    out: &mut dyn Write,
    s: &Summary,
    rules: &[Rule],
    inc: &Incident,
    l: &Link,
) -> io::Result<()> {
    let f = &s.findings[l.finding];
    let rule = &rules[f.rule as usize];
    let sev = f.severity(rules);
    let st = sev_style(sev);
    let title_of = |j: usize| {
        let g = &s.findings[inc.chain[j].finding];
        rules[g.rule as usize].id.clone()
    };
    let tie = match l.tie {
        Tie::Declared { after } => format!("follows {} (declared by its rule)", title_of(after)),
        Tie::LowerLayer { after } => format!("after {} in a lower layer", title_of(after)),
        Tie::None | Tie::Origin => "no tie to what came before".to_string(),
    };
    let time = s.clock.short(l.first);
    writeln!(
        out,
        "       {} {st}{:<8}{st:#} {}",
        &time[11.min(time.len())..],
        sev.as_str().to_uppercase(),
        clip(&rule.title, WIDTH - 25),
    )?;
    let indent = " ".repeat(16);
    writeln!(
        out,
        "{indent}{DIM}{}{DIM:#}",
        wrap(
            &format!("{}, {}x; {tie}", who(f), l.count),
            WIDTH - 16,
            &indent
        )
    )
}

/// `--format timeline`: one line per burst: time (and until), host, service, severity, title,
/// `file:line`, the count of a fold.
pub fn write_timeline(out: &mut dyn Write, s: &Summary, rules: &[Rule]) -> io::Result<()> {
    let (entries, total) = timeline(s);
    if s.nothing_scanned() {
        writeln!(
            out,
            "Nothing was scanned: every input was skipped or could not be read."
        )?;
        return out.flush();
    }
    if entries.is_empty() {
        writeln!(out, "No timed findings.")?;
        return out.flush();
    }
    for e in &entries {
        let origin = e.origin();
        let sev = e.severity(rules);
        let st = sev_style(sev);
        let first = s.clock.short(e.time);
        let fold = if e.burst.count > 1 {
            let last = s.clock.short(e.until);
            format!(" x{} until {}", e.burst.count, &last[11.min(last.len())..])
        } else {
            String::new()
        };
        let title = match e.of {
            Of::Finding(_) => e.title(rules).to_string(),
            Of::Unknown(u) => format!("{}: {}", ndjson::UNKNOWN_TITLE, clip(&u.text, 80)),
        };
        writeln!(
            out,
            "{first}  {:<12} {:<16} {st}{:<8}{st:#} {title}{fold}  {DIM}{}{DIM:#}",
            origin.host.as_deref().unwrap_or("-"),
            origin.service.unwrap_or("-"),
            sev.as_str().to_uppercase(),
            place(s, e.burst.at)
        )?;
    }
    if total > entries.len() {
        writeln!(
            out,
            "{DIM}... {} more entries: the timeline holds the first {TIMELINE_CAP}{DIM:#}",
            total - entries.len()
        )?;
    }
    out.flush()
}
