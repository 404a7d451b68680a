//! `logtriage merge`: the merged report of per-part sweeps is the report one sweep of all the
//! parts gives (apart from the sweep's duration), however the logs are split: by host, by
//! file, by time (a log and its rotated part in two sweeps), and merged again; a sweep given
//! twice counts once; reports that cannot be merged are errors naming them, the rest is merged.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn cluster() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster")
}

fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::cargo_bin("logtriage")
        .unwrap()
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn os<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &std::ffi::OsStr {
    p.as_ref()
}

/// `scan --tz=UTC --format=FORMAT PATHS...`'s stdout.
fn scan(format: &str, paths: &[PathBuf]) -> String {
    let mut args = vec![os("scan"), os("--tz=UTC"), os("-q")];
    let f = format!("--format={format}");
    args.push(os(&f));
    args.extend(paths.iter().map(|p| p.as_os_str()));
    let (code, out, err) = run(&args);
    assert!(matches!(code, 0 | 1), "scan exited {code}: {err}");
    out
}

/// Writes `scan --format json PATHS` to `dir/name`.
fn saved(dir: &Path, name: &str, paths: &[PathBuf]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, scan("json", paths)).unwrap();
    p
}

/// `merge --tz=UTC --format=FORMAT REPORTS... EXTRA...`: (exit code, stdout, stderr).
fn merge(format: &str, reports: &[PathBuf], extra: &[&str]) -> (i32, String, String) {
    let f = format!("--format={format}");
    let mut args = vec![os("merge"), os("--tz=UTC"), os(&f)];
    args.extend(extra.iter().map(os));
    args.extend(reports.iter().map(|p| p.as_os_str()));
    run(&args)
}

/// The document without what differs between two runs: the sweep's duration.
fn comparable(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["scan"].as_object_mut().unwrap().remove("duration_ms");
    v
}

/// The first place two documents differ, for a readable failure.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (u, v) = (&x.get(k), &y.get(k));
                match (u, v) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_difference(u, v, &format!("{at}/{k}")) {
                            return Some(d);
                        }
                    }
                    _ => return Some(format!("{at}/{k}: only in one")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(u, v, &format!("{at}/{i}")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| format!("{at}: {} against {} items", x.len(), y.len()))
        }
        _ => (a != b).then(|| format!("{at}: {a} against {b}")),
    }
}

fn assert_same(one_sweep: &str, merged: &str, what: &str) {
    let (a, b) = (comparable(one_sweep), comparable(merged));
    if let Some(d) = first_difference(&a, &b, "") {
        panic!("{what}: the merged report differs from one sweep at {d}");
    }
    // A real comparison: the documents hold the story, not an empty report.
    assert!(a["findings"].as_array().unwrap().len() > 20, "{what}");
    assert!(!a["incidents"].as_array().unwrap().is_empty(), "{what}");
}

fn hosts_of_cluster() -> Vec<PathBuf> {
    let mut hosts: Vec<PathBuf> = std::fs::read_dir(cluster())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    hosts.sort();
    hosts
}

/// Every file under `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn merged_per_host_sweeps_are_one_sweep_of_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = hosts_of_cluster();
    let reports: Vec<PathBuf> = hosts
        .iter()
        .map(|h| {
            let name = format!("{}.json", h.file_name().unwrap().to_string_lossy());
            saved(dir.path(), &name, std::slice::from_ref(h))
        })
        .collect();
    let (code, merged, err) = merge("json", &reports, &[]);
    assert_eq!(code, 1, "findings at medium and above: exit 1 ({err})");
    assert_same(&scan("json", &hosts), &merged, "split by host");
    // The people's formats come from the same Summary: the Markdown ticket is the same too.
    let (_, md, _) = merge("markdown", &reports, &[]);
    assert_eq!(md, scan("markdown", &hosts));
}

#[test]
fn merged_per_file_sweeps_are_one_sweep_of_the_files() {
    // Files split in two sweeps, every other one. Accumulo's X.log and X.debug.log count their
    // shared events once only when swept together, so a family stays in one part.
    let files = files_under(&cluster());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut i = 0;
    for f in &files {
        let name = f.to_string_lossy();
        if name.ends_with(".debug.log") || name.contains("master_app1.log") {
            a.push(f.clone());
            continue;
        }
        if i % 2 == 0 {
            a.push(f.clone())
        } else {
            b.push(f.clone())
        }
        i += 1;
    }
    let dir = tempfile::tempdir().unwrap();
    let reports = [
        saved(dir.path(), "a.json", &a),
        saved(dir.path(), "b.json", &b),
    ];
    let (_, merged, err) = merge("json", &reports, &[]);
    assert!(err.is_empty(), "{err}");
    let all: Vec<PathBuf> = a.iter().chain(&b).cloned().collect();
    assert_same(&scan("json", &all), &merged, "split by file");
}

/// Copies `from` to `to`, each file cut at its middle line: the first half in `early` as the
/// rotated `NAME.1`, the second in `late` as `NAME`.
fn split_by_time(from: &Path, early: &Path, late: &Path) {
    for f in files_under(from) {
        let rel = f.strip_prefix(from).unwrap();
        let Ok(text) = std::fs::read_to_string(&f) else {
            // Compressed: a rotated part already; it goes to the earlier sweep whole.
            let out = early.join(rel);
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            std::fs::copy(&f, out).unwrap();
            continue;
        };
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        // Cut where a new event starts (a line with a date), so that no stack trace is split.
        let mut cut = lines.len() / 2;
        while cut < lines.len() && !lines[cut].starts_with("20") {
            cut += 1;
        }
        let (first, second) = lines.split_at(cut);
        let name = rel.file_name().unwrap().to_string_lossy();
        for (root, part, file) in [
            (early, first, format!("{name}.1")),
            (late, second, name.to_string()),
        ] {
            let out = root.join(rel.parent().unwrap()).join(file);
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            std::fs::write(out, part.concat()).unwrap();
        }
    }
}

#[test]
fn merged_sweeps_of_earlier_and_later_logs_are_one_sweep_of_both() {
    let dir = tempfile::tempdir().unwrap();
    let (early, late) = (dir.path().join("early"), dir.path().join("late"));
    split_by_time(&cluster(), &early, &late);
    let reports = [
        saved(dir.path(), "early.json", std::slice::from_ref(&early)),
        saved(dir.path(), "late.json", std::slice::from_ref(&late)),
    ];
    let (_, merged, err) = merge("json", &reports, &[]);
    assert!(err.is_empty(), "{err}");
    assert_same(&scan("json", &[early, late]), &merged, "split by time");
}

#[test]
fn a_merged_report_merges_again() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = hosts_of_cluster();
    let (first, rest) = hosts.split_at(3);
    let one = saved(dir.path(), "first.json", first);
    let (last, middle) = rest.split_last().unwrap();
    let two = saved(dir.path(), "middle.json", middle);
    let (_, merged, _) = merge("json", &[one, two], &[]);
    let both = dir.path().join("both.json");
    std::fs::write(&both, merged).unwrap();
    let three = saved(dir.path(), "last.json", std::slice::from_ref(last));
    let (_, again, err) = merge("json", &[both, three], &[]);
    assert!(err.is_empty(), "{err}");
    assert_same(&scan("json", &hosts), &again, "merged in two steps");
}

#[test]
fn a_sweep_given_twice_counts_once_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = hosts_of_cluster();
    let once = saved(dir.path(), "once.json", &hosts);
    let again = saved(dir.path(), "again.json", &hosts);
    let (_, merged, _) = merge("json", &[once.clone(), again], &[]);
    let mut merged = comparable(&merged);
    let warnings = merged["warnings"].as_array().unwrap().clone();
    assert!(!warnings.is_empty());
    for w in &warnings {
        let m = w["message"].as_str().unwrap();
        assert!(m.contains("counted once"), "{m}");
    }
    merged["warnings"] = Value::Array(Vec::new());
    let mut one = comparable(&std::fs::read_to_string(&once).unwrap());
    one["warnings"] = Value::Array(Vec::new());
    // Both reports' inputs are listed; everything else is the one sweep's.
    merged["scan"]["inputs"] = one["scan"]["inputs"].clone();
    merged["merge"] = one["merge"].clone();
    if let Some(d) = first_difference(&one, &merged, "") {
        panic!("a sweep merged with itself differs at {d}");
    }
}

#[test]
fn reports_that_cannot_be_merged_are_errors_naming_them_and_the_rest_is_merged() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = hosts_of_cluster();
    let good = saved(dir.path(), "dn1.json", &hosts[1..2]);
    let text = std::fs::read_to_string(&good).unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["version"] = Value::from(99);
    let other = dir.path().join("other-version.json");
    std::fs::write(&other, doc.to_string()).unwrap();
    doc["version"] = Value::from(1);
    doc.as_object_mut().unwrap().remove("merge");
    let bare = dir.path().join("no-merge-section.json");
    std::fs::write(&bare, doc.to_string()).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["merge"]["streams"] = Value::from("bm90IHpzdGQ=");
    let damaged = dir.path().join("damaged-streams.json");
    std::fs::write(&damaged, doc.to_string()).unwrap();
    let missing = dir.path().join("missing.json");
    let (code, merged, err) = merge(
        "json",
        &[
            cut.clone(),
            good,
            other.clone(),
            bare.clone(),
            damaged.clone(),
            missing.clone(),
        ],
        &[
            "--failed",
            "zk9=UNREACHABLE: ssh: connect to host zk9 port 22: No route to host",
        ],
    );
    assert_eq!(code, 2, "{err}");
    let merged: Value = serde_json::from_str(&merged).unwrap();
    let errors: Vec<(String, String)> = merged["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let said = |p: &Path, what: &str| {
        let p = p.display().to_string();
        assert!(
            errors
                .iter()
                .any(|(path, m)| *path == p && m.contains(what)),
            "{p}: {what} not in {errors:?}"
        );
        assert!(err.contains(&p), "stderr names {p}: {err}");
    };
    said(&cut, "cut or invalid JSON");
    said(&other, "schema version 99");
    said(&bare, "no merge section");
    said(&missing, "cannot read");
    said(&damaged, "its merge section cannot be read");
    assert!(
        errors
            .iter()
            .any(|(p, m)| p == "zk9" && m.contains("No route to host"))
    );
    // dn1's findings are there.
    let findings = merged["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["host"] == "dn1"), "{findings:?}");
}

#[test]
fn an_accumulo_debug_log_swept_apart_from_its_log_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let acc = cluster().join("app1/accumulo");
    let reports = [
        saved(dir.path(), "plain.json", &[acc.join("master_app1.log")]),
        saved(
            dir.path(),
            "debug.json",
            &[acc.join("master_app1.debug.log")],
        ),
    ];
    let (_, merged, _) = merge("json", &reports, &[]);
    let merged: Value = serde_json::from_str(&merged).unwrap();
    let warnings = merged["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["path"].as_str().unwrap().ends_with("master_app1.log")
                && w["message"].as_str().unwrap().contains("counted twice")),
        "{warnings:?}"
    );
}

#[test]
fn output_goes_to_the_file_given_and_ndjson_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = hosts_of_cluster();
    let r = saved(dir.path(), "all.json", &hosts);
    let out = dir.path().join("report.html");
    let o = out.display().to_string();
    let (code, stdout, err) = merge("html", std::slice::from_ref(&r), &["-o", &o]);
    assert_eq!(code, 1, "{err}");
    assert!(stdout.is_empty());
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    let (code, _, err) = merge("ndjson", &[r], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("ndjson"), "{err}");
}
