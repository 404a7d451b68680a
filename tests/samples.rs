//! The README's first command: `scan samples/` on the bundled demo logs.

mod common;

use common::RunExt;

use assert_cmd::Command;
use common::json;

fn samples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

#[test]
fn samples_exit_1_and_show_each_failure_with_steps() {
    let out = Command::cargo_bin("logtriage")
        .unwrap()
        .arg("scan")
        .arg(samples())
        .env("NO_COLOR", "1")
        .stdout_for(1);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("START HERE"), "{text}");
    for title in [
        "Too many open files",
        "lost its ZooKeeper lock",
        "maximum hold time",
        "aborted",
    ] {
        assert!(text.contains(title), "no '{title}' in:\n{text}");
    }
    // Every finding block ends with its numbered runbook steps.
    assert_eq!(
        text.matches("  Runbook\n    1. ").count(),
        text.matches("\n  rule ").count()
    );
}

#[test]
fn samples_json_names_the_expected_failures() {
    let out = Command::cargo_bin("logtriage")
        .unwrap()
        .args(["scan", "--format=json"])
        .arg(samples())
        .stdout_for(1);
    let v = json(&out);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for r in [
        "jvm.too-many-open-files",
        "jvm.native-thread-exhausted",
        "jvm.out-of-memory",
        "spark.task-failed-max-times",
        "spark.job-aborted",
        "spark.yarn-memory-kill",
        "spark.lost-executor",
        "accumulo.tserver-lost-lock",
        "accumulo.hold-time-exceeded",
        "accumulo.dead-server-assignments",
        "accumulo.unhosted-tablets",
        "accumulo.balancer-failed-assign",
        "zookeeper.server-closed-socket",
    ] {
        assert!(rules.contains(&r), "{r} not in {rules:?}");
    }
    // The README describes the samples without quoting them: it is not a finding's source.
    for f in v["findings"].as_array().unwrap() {
        for p in f["files"].as_array().unwrap() {
            assert!(
                !p.as_str().unwrap().ends_with("README.md"),
                "{} found in README",
                f["rule"]
            );
        }
    }
    let gz = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with(".gz"))
        .unwrap();
    assert_eq!(gz["compressed"], true);
}
