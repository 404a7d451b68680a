//! `logtriage check`: a monitoring plugin (Nagios, Icinga, Zabbix external checks, Ambari SCRIPT
//! alerts). One run resumes from the `--state` checkpoint (the one `tail --state` keeps), reads
//! every followed file to its current end through rotation and truncation (`Follower`), takes the
//! last event of each file as complete at its end (`Follower::finish_run`: a partial last line
//! waits for the next run), saves the state atomically, prints one status line with perfdata and
//! one long-output line per finding, and exits 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::CheckArgs;
use crate::finding::phase;
use crate::follow::checkpoint;
use crate::follow::{Config, Emitted, Follower};
use crate::matching::Matcher;
use crate::report::text::clip;
use crate::rules::Severity;

pub const OK: i32 = 0;
pub const WARNING: i32 = 1;
pub const CRITICAL: i32 = 2;
pub const UNKNOWN: i32 = 3;

/// Characters of findings text on the status line (before the perfdata).
const STATUS_WIDTH: usize = 200;
/// Characters of evidence on a long-output line.
const EVIDENCE_WIDTH: usize = 160;
/// Steps taken to read everything (each reads up to the follower's budget per file).
const MAX_STEPS: usize = 100_000;

/// One finding of this run: the occurrences of one fingerprint.
struct Group<'a> {
    severity: Severity,
    title: &'a str,
    rule: &'a str,
    host: Option<String>,
    service: Option<&'static str>,
    count: u64,
    path: String,
    line: u64,
    evidence: String,
}

/// Prints `UNKNOWN - what` and returns 3.
fn unknown(what: &str) -> i32 {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "UNKNOWN - {what}");
    let _ = out.flush();
    UNKNOWN
}

/// A clap error for `check`: UNKNOWN with what is wrong, the usage on stderr; exit 3.
pub fn check_usage_error(e: &clap::Error) -> i32 {
    let text = e.render().to_string();
    let what: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .map(|l| l.trim().trim_start_matches("error:").trim())
        .filter(|l| !l.is_empty())
        .collect();
    eprint!("{text}");
    unknown(&format!("usage: {}", what.join(" ")))
}

/// Every path must be there and readable: a check that silently reads nothing is worse than
/// one that says it cannot.
fn check_path(p: &Path) -> Result<(), String> {
    let m = fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let r = if m.is_dir() {
        fs::read_dir(p).map(drop)
    } else {
        fs::File::open(p).map(drop)
    };
    r.map_err(|e| format!("{}: cannot read: {e}", p.display()))
}

/// A follower warning that says a file was not (or not all) read, rather than a note (an
/// Accumulo log followed through its debug copy, a compressed file left out).
fn is_problem(w: &str) -> bool {
    [
        "cannot read",
        "cannot open",
        "read error",
        "was not read",
        "ermission denied",
    ]
    .iter()
    .any(|p| w.contains(p))
}

/// Holds `STATE.lock` (an advisory lock, released on exit) for the run: two runs on one
/// state file at once (one left behind by a monitoring timeout) would read and report the same
/// lines. `Ok(None)`: another run holds it.
fn lock(state: &Path) -> Result<Option<fs::File>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut name = state.as_os_str().to_os_string();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot create the lock file {}: {e}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

fn load_matcher(args: &CheckArgs) -> Result<Matcher, String> {
    let rules =
        crate::rules::load(&args.packs.rules, args.packs.no_builtin_rules).map_err(|es| {
            for e in &es {
                eprintln!("logtriage: rule pack error: {e}");
            }
            match es.first() {
                Some(e) => format!("rule pack error: {e}"),
                None => "rule pack error".to_string(),
            }
        })?;
    Matcher::new(rules).map_err(|e| format!("rule pack error: {e}"))
}

/// Resumes, reads every file to its end, completes the last events; the occurrences found,
/// the warnings, and the state to save.
fn run_once(
    matcher: &Matcher,
    args: &CheckArgs,
    state: Option<checkpoint::State>,
) -> (Vec<Emitted>, Vec<String>, checkpoint::State, usize) {
    let mut cfg = Config::new(args.paths.clone());
    cfg.globs = args.globs.clone();
    // The state file (and its lock and temporary files) may be in a followed folder.
    if let Some(name) = args.state.file_name().and_then(|n| n.to_str())
        && !name.contains(['*', '?', '[', ']', '{', '}', '\\', '!'])
    {
        cfg.globs.extend([
            format!("!{name}"),
            format!("!{name}.lock"),
            format!("!{name}.tmp.*"),
        ]);
    }
    cfg.follow_links = args.follow;
    // With a state, a file it does not hold is new since the last run: read it whole.
    cfg.from_start = !args.from_end || state.is_some();
    // Events are completed at the end of the run (`finish_run`), never by time.
    cfg.flush_after = Duration::from_secs(24 * 3600);
    // A file rotated away is read to its end and closed in this run: no writer is waited for.
    cfg.drain_after = Duration::ZERO;
    let mut follower = Follower::new(matcher, cfg, state);
    let mut emitted = Vec::new();
    let mut warnings = Vec::new();
    let mut now = Instant::now();
    emitted.extend(follower.poll_once(now, true));
    for _ in 0..MAX_STEPS {
        warnings.extend(follower.take_warnings());
        now = Instant::now();
        match follower.next_deadline(now) {
            Some(t) if t <= now => emitted.extend(follower.poll_once(now, false)),
            _ => break,
        }
    }
    emitted.extend(follower.finish_run(Instant::now()));
    warnings.extend(follower.take_warnings());
    let files = follower.files_followed().max(follower.files_seen());
    (emitted, warnings, follower.checkpoint(), files)
}

/// The occurrences grouped by fingerprint, worst first (then in the order first seen).
fn group<'a>(matcher: &'a Matcher, emitted: &[Emitted], min: Severity) -> Vec<Group<'a>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    for e in emitted {
        let rule = &matcher.rules[e.occ.rule as usize];
        let severity = phase::severity(rule.severity, e.occ.phase);
        if severity < min {
            continue;
        }
        if let Some(&i) = index.get(&e.occ.fingerprint) {
            groups[i].count += 1;
            continue;
        }
        index.insert(e.occ.fingerprint, groups.len());
        groups.push(Group {
            severity,
            title: &rule.title,
            rule: &rule.id,
            host: e.origin.host.clone(),
            service: e.origin.service,
            count: 1,
            path: e.path.clone(),
            line: e.occ.line,
            evidence: e.occ.text.lines().next().unwrap_or("").to_string(),
        });
    }
    // Stable: the same severity keeps the order of first appearance.
    groups.sort_by_key(|g| std::cmp::Reverse(g.severity));
    groups
}

fn entry(g: &Group) -> String {
    let mut s = g.title.to_string();
    let times = (g.count > 1).then(|| format!("{} times", g.count));
    let inner: Vec<String> = g.host.clone().into_iter().chain(times).collect();
    if !inner.is_empty() {
        s.push_str(&format!(" ({})", inner.join(", ")));
    }
    s
}

/// `CRITICAL - 2 new findings: A (node1), B (node2, 40 times) | critical=0 high=1 ...`
fn status_line(status: &str, groups: &[Group], args: &CheckArgs, files: usize) -> String {
    let mut text = match groups.len() {
        0 => format!(
            "{status} - no new findings in {files} file{}",
            if files == 1 { "" } else { "s" }
        ),
        n => {
            let mut t = format!(
                "{status} - {n} new finding{}",
                if n == 1 { "" } else { "s" }
            );
            if groups[0].severity < args.warning {
                t.push_str(&format!(" below {}", args.warning));
            }
            t.push_str(": ");
            let mut shown = 0;
            for (i, g) in groups.iter().enumerate() {
                let e = entry(g);
                let room = STATUS_WIDTH.saturating_sub(t.chars().count());
                if i > 0 && e.chars().count() + 2 > room {
                    break;
                }
                if i > 0 {
                    t.push_str(", ");
                }
                t.push_str(&clip(&e, STATUS_WIDTH));
                shown += 1;
            }
            if shown < n {
                t.push_str(&format!(", and {} more", n - shown));
            }
            t
        }
    };
    let count = |s: Severity| groups.iter().filter(|g| g.severity == s).count();
    text.push_str(&format!(
        " | critical={} high={} medium={} low={} info={}",
        count(Severity::Critical),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        count(Severity::Info)
    ));
    text
}

/// `high: Process ran out of file handles | host node1 | service koverse-server | 3 times |
/// logs/koverse-server.log:12: 2024-03-11 02:14:01,001 ERROR ...`
fn long_line(g: &Group) -> String {
    let mut parts = vec![format!("{}: {}", g.severity, g.title)];
    if let Some(h) = &g.host {
        parts.push(format!("host {h}"));
    }
    if let Some(s) = g.service {
        parts.push(format!("service {s}"));
    }
    parts.push(if g.count == 1 {
        "once".to_string()
    } else {
        format!("{} times", g.count)
    });
    parts.push(format!(
        "{}:{}: {}",
        g.path,
        g.line,
        clip(&g.evidence, EVIDENCE_WIDTH)
    ));
    parts.push(format!("rule {}", g.rule));
    parts.join(" | ")
}

pub fn check(args: CheckArgs) -> i32 {
    if args.warning > args.critical {
        return unknown(&format!(
            "usage: --warning {} is above --critical {}",
            args.warning, args.critical
        ));
    }
    for g in &args.globs {
        if let Err(e) = ignore::overrides::OverrideBuilder::new("/").add(g) {
            return unknown(&format!("usage: bad --glob {g:?}: {e}"));
        }
    }
    for p in &args.paths {
        if let Err(e) = check_path(p) {
            return unknown(&e);
        }
    }
    let _lock = match lock(&args.state) {
        Ok(Some(l)) => l,
        Ok(None) => {
            return unknown(&format!(
                "another logtriage check is running with the state file {}",
                args.state.display()
            ));
        }
        Err(e) => return unknown(&e),
    };
    let state = match checkpoint::load(&args.state) {
        Ok(s) => s,
        Err(e) => {
            return unknown(&format!(
                "state file {}: {e} (move it away to start afresh)",
                args.state.display()
            ));
        }
    };
    let matcher = match load_matcher(&args) {
        Ok(m) => m,
        Err(e) => return unknown(&e),
    };
    let (emitted, warnings, new_state, files) = run_once(&matcher, &args, state);
    for w in &warnings {
        eprintln!("logtriage: warning: {w}");
    }
    // Files (or parts of files) that could not be read; the rest are notes, on stderr only.
    let problems: Vec<&String> = warnings.iter().filter(|w| is_problem(w)).collect();
    let groups = group(&matcher, &emitted, args.min_severity);
    let worst = groups.first().map(|g| g.severity);
    let (status, code) = match worst {
        Some(s) if s >= args.critical => ("CRITICAL", CRITICAL),
        Some(s) if s >= args.warning => ("WARNING", WARNING),
        _ => ("OK", OK),
    };
    let mut lines = Vec::new();
    let code = match checkpoint::save(&args.state, &new_state) {
        Ok(()) => {
            lines.push(status_line(status, &groups, &args, files));
            code
        }
        Err(e) => {
            // The next run would report these findings again, and could not save either.
            let found = status_line(status, &groups, &args, files);
            lines.push(format!(
                "UNKNOWN - cannot write the state file {}: {e}; {}",
                args.state.display(),
                found.split_once(" - ").map_or(found.as_str(), |(_, t)| t)
            ));
            UNKNOWN
        }
    };
    for g in groups.iter().take(args.max_lines) {
        lines.push(long_line(g));
    }
    if groups.len() > args.max_lines && args.max_lines > 0 {
        lines.push(format!("... and {} more", groups.len() - args.max_lines));
    }
    if let Some(first) = lines.first_mut()
        && !problems.is_empty()
        && let Some((text, perf)) = first.split_once(" | ")
    {
        *first = format!(
            "{text}; {} warning{}: {} | {perf}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            clip(problems[0], 80)
        );
    }
    for w in problems.iter().take(args.max_lines) {
        lines.push(format!("warning: {w}"));
    }
    let mut out = io::stdout().lock();
    for l in &lines {
        if writeln!(out, "{l}").is_err() {
            break;
        }
    }
    let _ = out.flush();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(sev: Severity, title: &'static str, host: Option<&str>, count: u64) -> Group<'static> {
        Group {
            severity: sev,
            title,
            rule: "r",
            host: host.map(String::from),
            service: None,
            count,
            path: "x.log".into(),
            line: 1,
            evidence: "e".into(),
        }
    }

    fn args() -> CheckArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct A {
            #[command(flatten)]
            c: CheckArgs,
        }
        A::parse_from(["x", "--state", "s", "p"]).c
    }

    #[test]
    fn status_line_counts_and_truncates() {
        let a = args();
        let gs = vec![
            g(
                Severity::High,
                "Tablet server lost its lock",
                Some("node1"),
                1,
            ),
            g(Severity::Medium, "No route to host", None, 40),
        ];
        assert_eq!(
            status_line("CRITICAL", &gs, &a, 3),
            "CRITICAL - 2 new findings: Tablet server lost its lock (node1), No route to host (40 times) | critical=0 high=1 medium=1 low=0 info=0"
        );
        let many: Vec<Group> = (0..50)
            .map(|_| {
                g(
                    Severity::Low,
                    "Something rather long went wrong",
                    Some("node7"),
                    2,
                )
            })
            .collect();
        let l = status_line("OK", &many, &a, 3);
        let (text, perf) = l.split_once(" | ").unwrap();
        assert!(text.chars().count() < STATUS_WIDTH + 30, "{l}");
        assert!(
            text.starts_with("OK - 50 new findings below medium: "),
            "{l}"
        );
        assert!(text.ends_with(" more"), "{l}");
        assert_eq!(perf, "critical=0 high=0 medium=0 low=50 info=0");
        assert_eq!(
            status_line("OK", &[], &a, 1),
            "OK - no new findings in 1 file | critical=0 high=0 medium=0 low=0 info=0"
        );
    }
}
