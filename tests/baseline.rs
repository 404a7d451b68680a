//! `--baseline OLD.json` (src/report/baseline.rs): a daily sweep says what is new since the last
//! one. Findings are matched by fingerprint; the baseline's findings no longer seen are resolved
//! (their file was scanned again) or not rechecked (it was not); the exit code counts only new
//! findings; a wrong baseline is refused, naming the file.

mod common;

use std::path::Path;

use common::{RunExt, json, logtriage_scan, write};
use serde_json::Value;

const TOO_MANY_FILES: &str = "2024-03-11 02:14:31,010 ERROR [Thread-12] com.koverse.server.ThriftServer - accept failed\njava.io.IOException: Too many open files\n\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n";
const LOST_LOCK: &str = "2024-03-11 02:20:01,010 [tserver.TabletServer] ERROR: Lost tablet server lock (reason = SESSION_EXPIRED), exiting.\n";
const OOM: &str = "2024-03-11 02:30:00,000 ERROR [pool-1-thread-3] com.koverse.server.Jobs - job failed\njava.lang.OutOfMemoryError: Java heap space\n";

fn benign(n: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "2024-03-11 02:{:02}:{:02},000 INFO [main] com.koverse.server.ThriftServer - request served\n",
                i / 60,
                i % 60
            )
        })
        .collect()
}

/// Yesterday: the application ran out of file handles, node3's tablet server lost its lock,
/// node4's application ran out of memory.
fn yesterday(d: &Path) {
    write(
        d,
        "app1/koverse-server/koverse-server.log",
        (benign(20) + TOO_MANY_FILES).as_bytes(),
    );
    write(
        d,
        "node3/accumulo/tserver_node3.log",
        ("2024-03-11 02:00:00,000 [tserver.TabletServer] INFO : Adding 1 logs for extent !0;~ as alias 2\n".to_string() + LOST_LOCK).as_bytes(),
    );
    write(
        d,
        "app2/koverse-server/koverse-server.log",
        (benign(20) + OOM).as_bytes(),
    );
}

fn scan(d: &Path, extra: &[&str], code: i32) -> Value {
    json(
        &logtriage_scan()
            .args(["--format=json", "--tz=UTC", "--silence=24h"])
            .args(extra)
            .arg(d)
            .stdout_for(code),
    )
}

fn status_of<'a>(v: &'a Value, rule: &str) -> Vec<&'a str> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["status"].as_str().unwrap())
        .collect()
}

fn rules_in(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

#[test]
fn a_daily_sweep_reports_what_is_new_resolved_and_not_rechecked() {
    let d = tempfile::tempdir().unwrap();
    let logs = d.path().join("logs");
    yesterday(&logs);
    let old = scan(&logs, &[], 1);
    assert!(
        old["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("status").is_none())
    );
    let baseline = d.path().join("yesterday.json");
    std::fs::write(&baseline, serde_json::to_vec(&old).unwrap()).unwrap();
    let b = baseline.to_str().unwrap();

    // The same logs again: nothing new, so the exit code is 0 although findings are there.
    let same = scan(&logs, &["--baseline", b], 0);
    assert_eq!(same["baseline"]["new"], 0);
    assert_eq!(
        same["baseline"]["ongoing"],
        old["findings"].as_array().unwrap().len()
    );
    assert_eq!(status_of(&same, "jvm.too-many-open-files"), ["ongoing"]);

    // Today: node3's log rotated away without the lost lock (its file is scanned again and no
    // longer shows it: resolved), app2 is not in today's sweep (not rechecked), app1's file
    // handles ran out again and a new failure came on node3.
    std::fs::remove_dir_all(logs.join("app2")).unwrap();
    write(
        &logs,
        "node3/accumulo/tserver_node3.log",
        b"2024-03-12 02:00:00,000 [tserver.TabletServer] INFO : Adding 1 logs for extent !0;~ as alias 2\n\
          2024-03-12 02:10:00,000 [tserver.TabletServer] ERROR: Repeatedly failed to create WAL. Going to exit tabletserver.\n",
    );
    let today = scan(&logs, &["--baseline", b], 1);
    assert_eq!(status_of(&today, "jvm.too-many-open-files"), ["ongoing"]);
    let new: Vec<&str> = today["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "new")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!new.is_empty(), "{today:#}");
    assert!(!new.contains(&"jvm.too-many-open-files"));
    assert_eq!(
        rules_in(&today["baseline"]["resolved"]),
        ["accumulo.tserver-lost-lock"]
    );
    assert_eq!(
        rules_in(&today["baseline"]["not_rechecked"]),
        ["jvm.out-of-memory"]
    );
    assert_eq!(today["baseline"]["resolved"][0]["host"], "node3");

    // The human report marks what is new and says what was resolved.
    let human = logtriage_scan()
        .args([
            "--tz=UTC",
            "--silence=24h",
            "--color=never",
            "--baseline",
            b,
        ])
        .arg(&logs)
        .stdout_for(1);
    // Words as a reader sees them, whatever the terminal's wrapping.
    let human = String::from_utf8(human)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        human.contains(&format!(
            "Since {b}: {} new, 1 ongoing, 1 resolved, 1 not rechecked",
            new.len()
        )),
        "{human}"
    );
    assert!(
        human.contains("resolved: MEDIUM Tablet server lost its ZooKeeper lock"),
        "{human}"
    );
    assert_eq!(
        human.matches("NEW (not in the baseline)").count(),
        new.len(),
        "{human}"
    );
}

#[test]
fn only_new_findings_at_fail_on_fail_the_run() {
    let top = tempfile::tempdir().unwrap();
    let d = &top.path().join("logs");
    yesterday(d);
    // The baseline knows the application hosts, not node3.
    let node3 = std::fs::read(d.join("node3/accumulo/tserver_node3.log")).unwrap();
    std::fs::remove_dir_all(d.join("node3")).unwrap();
    // Outside the folder swept: a report in it would be read as a log.
    let old = top.path().join("old.json");
    std::fs::write(
        &old,
        logtriage_scan()
            .args(["--format=json", "--silence=24h"])
            .arg(d)
            .stdout_for(1),
    )
    .unwrap();
    write(d, "node3/accumulo/tserver_node3.log", &node3);
    // node3's lost lock (medium) is the only new finding: it fails the run at the default
    // --fail-on medium, not at --fail-on high, although known high findings are there.
    let o = old.to_str().unwrap();
    let v = scan(d, &["--baseline", o, "--fail-on", "high"], 0);
    assert_eq!(v["baseline"]["new"], 1, "{:#}", v["baseline"]);
    assert_eq!(status_of(&v, "accumulo.tserver-lost-lock"), ["new"]);
    assert_eq!(status_of(&v, "jvm.out-of-memory"), ["ongoing"]);
    scan(d, &["--baseline", o, "--fail-on", "medium"], 1);
}

#[test]
fn a_cut_or_foreign_baseline_is_refused_naming_it() {
    let d = tempfile::tempdir().unwrap();
    yesterday(d.path());
    let full = logtriage_scan()
        .args(["--format=json", "--silence=24h"])
        .arg(d.path())
        .stdout_for(1);
    let cut = d.path().join("cut.json");
    std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
    let mut v: Value = serde_json::from_slice(&full).unwrap();
    v["version"] = 99.into();
    let other = d.path().join("v99.json");
    std::fs::write(&other, serde_json::to_vec(&v).unwrap()).unwrap();
    for (file, says) in [
        (&cut, "cut or invalid JSON"),
        (&other, "schema version 99"),
        (&d.path().join("missing.json"), "cannot read"),
    ] {
        let out = logtriage_scan()
            .args(["--format=json", "--baseline"])
            .arg(file)
            .arg(d.path())
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(out.stdout.is_empty(), "no report after a refused baseline");
    }
}

#[test]
fn the_markdown_table_has_a_status_column_with_a_baseline() {
    let top = tempfile::tempdir().unwrap();
    let d = &top.path().join("logs");
    yesterday(d);
    let old = top.path().join("old.json");
    std::fs::write(&old, serde_json::to_vec(&scan(d, &[], 1)).unwrap()).unwrap();
    write(d, "node4/accumulo/tserver_node4.log", LOST_LOCK.as_bytes());
    let md = logtriage_scan()
        .args([
            "--format=markdown",
            "--tz=UTC",
            "--silence=24h",
            "--baseline",
        ])
        .arg(&old)
        .arg(d)
        .stdout_for(1);
    let md = String::from_utf8(md).unwrap();
    assert!(md.contains("| Status | Severity | Finding |"), "{md}");
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| **NEW** |"))
        .collect();
    assert_eq!(rows.len(), 1, "{md}");
    assert!(rows[0].contains("node4"), "{}", rows[0]);
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| ongoing |")).count(),
        3
    );
}
