//! Scores logtriage on the real logs of `tests/real/` against their labels (the format and the
//! scoring are in `tests/real/LABELS.md`): failures found, under-rated and missed, false alarms
//! (medium or above on a line that is no failure) and split continuations (an event reported on
//! a line that belongs to the event above it). Prints the table per component; fails on any
//! false alarm, any split continuation, any failure of `tests/real/expected-found.txt` that is
//! no longer found, and a found share under 95%.
//!
//! `benches/real-logs.sh` runs this test in release mode and prints the same table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Labels {
    component: String,
    #[allow(dead_code)]
    summary: String,
    #[serde(default)]
    failure: Vec<Failure>,
    #[serde(default)]
    normal: Vec<Normal>,
    #[serde(default)]
    continuation: Option<Continuation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Failure {
    lines: Vec<LineSpec>,
    min_severity: String,
    what: String,
    #[allow(dead_code)]
    #[serde(default)]
    why: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Normal {
    lines: Vec<LineSpec>,
    #[allow(dead_code)]
    what: String,
    #[allow(dead_code)]
    #[serde(default)]
    why: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Continuation {
    lines: Vec<LineSpec>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LineSpec {
    One(u64),
    Range(String),
}

/// The line numbers a list of specs names; a malformed range is a test failure naming it.
fn expand(specs: &[LineSpec], file: &Path) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for s in specs {
        match s {
            LineSpec::One(n) => {
                out.insert(*n);
            }
            LineSpec::Range(r) => {
                let (a, b): (u64, u64) = r
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
                    .unwrap_or_else(|| panic!("{}: bad line range {r:?}", file.display()));
                assert!(a <= b, "{}: range {r:?} runs backwards", file.display());
                out.extend(a..=b);
            }
        }
    }
    out
}

fn rank(severity: &str) -> u8 {
    match severity {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        "info" => 0,
        other => panic!("unknown severity {other:?}"),
    }
}

/// One reported event: its header line, severity and rule.
struct Reported {
    line: u64,
    severity: u8,
    rule: String,
}

fn scan(log: &Path) -> Vec<Reported> {
    let work = tempfile::tempdir().unwrap(); // no logtriage.toml of ours applies
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logtriage"))
        .current_dir(work.path())
        .args(["scan", "--format", "ndjson", "--max-evidence", "0"])
        .args(["--unknown", "error", "-q"])
        .arg(log)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}: exit {:?}: {}",
        log.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Reported {
                line: v["line"].as_u64().unwrap(),
                severity: rank(v["severity"].as_str().unwrap()),
                rule: v["rule"].as_str().unwrap().to_string(),
            }
        })
        .collect()
}

#[derive(Default)]
struct Score {
    files: usize,
    failures: usize,
    found: usize,
    under_rated: usize,
    missed: usize,
    false_alarms: usize,
    split: usize,
}

impl Score {
    fn add(&mut self, o: &Score) {
        self.files += o.files;
        self.failures += o.failures;
        self.found += o.found;
        self.under_rated += o.under_rated;
        self.missed += o.missed;
        self.false_alarms += o.false_alarms;
        self.split += o.split;
    }
}

/// What went wrong in one file, for the failure message.
struct FileResult {
    component: String,
    score: Score,
    /// `path:first-line` of each failure entry found.
    found_keys: BTreeSet<String>,
    problems: Vec<String>,
}

fn score_file(root: &Path, log: &Path, labels_path: &Path) -> FileResult {
    let text = std::fs::read_to_string(labels_path).unwrap();
    let labels: Labels =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", labels_path.display()));
    let rel = log.strip_prefix(root).unwrap().display().to_string();
    let reported = scan(log);
    let mut score = Score {
        files: 1,
        ..Score::default()
    };
    let mut problems = Vec::new();
    let mut found_keys = BTreeSet::new();

    let continuation = labels
        .continuation
        .as_ref()
        .map(|c| expand(&c.lines, labels_path))
        .unwrap_or_default();
    let normal: BTreeSet<u64> = labels
        .normal
        .iter()
        .flat_map(|n| expand(&n.lines, labels_path))
        .collect();
    let mut failure_lines = BTreeSet::new();
    for f in &labels.failure {
        // A range names the header lines in it: its continuation lines are not among them.
        let lines: BTreeSet<u64> = expand(&f.lines, labels_path)
            .difference(&continuation)
            .copied()
            .collect();
        let min = rank(&f.min_severity);
        let first = *lines.first().unwrap_or_else(|| {
            panic!(
                "{}: failure {:?} names no header line",
                labels_path.display(),
                f.what
            )
        });
        score.failures += 1;
        let best = reported
            .iter()
            .filter(|r| lines.contains(&r.line))
            .max_by_key(|r| r.severity);
        match best {
            Some(r) if r.severity >= min => {
                score.found += 1;
                found_keys.insert(format!("{rel}:{first}"));
            }
            Some(r) => {
                score.under_rated += 1;
                problems.push(format!(
                    "{rel}:{}: under-rated ({} at {}, wants {}): {}",
                    r.line,
                    r.rule,
                    name(r.severity),
                    f.min_severity,
                    f.what
                ));
            }
            None => {
                score.missed += 1;
                problems.push(format!(
                    "{rel}:{first}: missed ({}): {}",
                    f.min_severity, f.what
                ));
            }
        }
        failure_lines.extend(lines);
    }
    for r in &reported {
        if continuation.contains(&r.line) {
            score.split += 1;
            problems.push(format!(
                "{rel}:{}: split continuation ({} at {})",
                r.line,
                r.rule,
                name(r.severity)
            ));
        } else if r.severity >= rank("medium") && !failure_lines.contains(&r.line) {
            score.false_alarms += 1;
            let why = if normal.contains(&r.line) {
                "labelled normal"
            } else {
                "not labelled a failure"
            };
            problems.push(format!(
                "{rel}:{}: false alarm ({} at {}, {why})",
                r.line,
                r.rule,
                name(r.severity)
            ));
        }
    }
    FileResult {
        component: labels.component,
        score,
        found_keys,
        problems,
    }
}

fn name(rank: u8) -> &'static str {
    ["info", "low", "medium", "high", "critical"][rank as usize]
}

/// Every log of the corpus that has a labels file, in path order.
fn labelled_logs(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() || dir.ends_with("LICENSES") {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let labels = f.unwrap().path();
            let Some(log_name) = labels
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".labels.toml"))
            else {
                continue;
            };
            let log = dir.join(log_name);
            assert!(log.is_file(), "{}: no log beside it", labels.display());
            out.push((log, labels));
        }
    }
    out.sort();
    out
}

fn table(rows: &BTreeMap<String, Score>) -> String {
    let mut out = String::from(
        "| component | files | failures | found | under-rated | missed | false alarms | split continuations |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut total = Score::default();
    let mut line = |name: &str, s: &Score| {
        out.push_str(&format!(
            "| {name} | {} | {} | {} ({:.0}%) | {} | {} | {} | {} |\n",
            s.files,
            s.failures,
            s.found,
            percent(s.found, s.failures),
            s.under_rated,
            s.missed,
            s.false_alarms,
            s.split
        ));
    };
    for (c, s) in rows {
        line(c, s);
        total.add(s);
    }
    line("**all**", &total);
    out
}

fn percent(a: usize, b: usize) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

#[test]
fn real_logs_are_reported_as_their_labels_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real");
    let logs = labelled_logs(&root);
    assert!(!logs.is_empty(), "no labelled log in {}", root.display());
    let mut rows: BTreeMap<String, Score> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut found = BTreeSet::new();
    for (log, labels) in &logs {
        let r = score_file(&root, log, labels);
        rows.entry(r.component).or_default().add(&r.score);
        problems.extend(r.problems);
        found.extend(r.found_keys);
    }
    println!("{}", table(&rows));
    for p in &problems {
        println!("{p}");
    }

    let expected_path = root.join("expected-found.txt");
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    let lost: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !found.contains(*l))
        .collect();
    let new: Vec<&String> = found
        .iter()
        .filter(|k| !expected.lines().any(|l| l.trim() == k.as_str()))
        .collect();
    if !new.is_empty() {
        println!(
            "\nfound now, not yet in {} (add them):",
            expected_path.display()
        );
        for k in &new {
            println!("{k}");
        }
    }

    let mut total = Score::default();
    for s in rows.values() {
        total.add(s);
    }
    assert_eq!(total.false_alarms, 0, "false alarms: see the list above");
    assert_eq!(total.split, 0, "split continuations: see the list above");
    assert!(lost.is_empty(), "no longer found: {lost:?}");
    assert!(
        percent(total.found, total.failures) >= 95.0,
        "found {} of {} failures, under 95%",
        total.found,
        total.failures
    );
}
