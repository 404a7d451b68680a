//! `yarn logs -applicationId ...` output, saved to a file, gzipped, or inside a bundle: each
//! container's each log section is a stream of its own, on the host of its banner, with the
//! file's physical line numbers. Fixtures: tests/fixtures/yarn/README.md.

mod common;

use std::path::{Path, PathBuf};

use common::{RunExt, gzip, json, ndjson, write};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/yarn")
        .join(name)
}

fn scan(args: &[&std::ffi::OsStr], code: i32) -> Vec<u8> {
    let mut c = assert_cmd::Command::cargo_bin("logtriage").unwrap();
    c.arg("scan")
        .env("NO_COLOR", "1")
        .args(args)
        .stdout_for(code)
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().unwrap()
}

fn find<'v>(v: &'v Value, rule: &str, host: &str) -> &'v Value {
    findings(v)
        .iter()
        .find(|f| f["rule"] == rule && f["host"] == host)
        .unwrap_or_else(|| panic!("no {rule} on {host}: {}", v["findings"]))
}

/// Every evidence event starts with the physical line of the file it names.
fn assert_lines_are_physical(v: &Value, file: &Path) {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for f in findings(v) {
        for e in f["evidence"].as_array().unwrap() {
            let n = e["line"].as_u64().unwrap() as usize;
            let header = e["text"].as_str().unwrap().lines().next().unwrap();
            assert_eq!(lines[n - 1], header, "line {n} of {}", file.display());
        }
    }
}

#[test]
fn hadoop2_form_sections_hosts_containers_and_lines() {
    let file = fixture("hadoop2-spark.log");
    let v = json(&scan(&["--format=json".as_ref(), file.as_os_str()], 1));
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 4, "{}", v["sources"]);
    let stderr = &sources[0];
    assert_eq!(stderr["log_type"], "stderr");
    assert_eq!(
        stderr["container"],
        "container_1710122400000_0042_01_000001"
    );
    assert_eq!(stderr["application"], "application_1710122400000_0042");
    assert_eq!(stderr["layout"], "hadoop-console");
    assert_eq!(stderr["service"], "spark-driver");
    assert_eq!(sources[2]["service"], "spark-executor");
    // The executor's OutOfMemoryError is on worker2, in its container; the driver's on worker1.
    let oom = find(&v, "jvm.out-of-memory", "worker2");
    assert_eq!(oom["container"], "container_1710122400000_0042_01_000002");
    assert_eq!(oom["application"], "application_1710122400000_0042");
    let lines: Vec<u64> = oom["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [125, 142]);
    assert_eq!(
        find(&v, "spark.task-failed-max-times", "worker1")["evidence"][0]["line"],
        50
    );
    assert_lines_are_physical(&v, &file);
    // One name per machine: the banner's worker1.example.com_45454 is worker1.
    assert_eq!(
        v["hosts"],
        serde_json::json!([
            {"name": "worker1", "seen_as": ["worker1.example.com"]},
            {"name": "worker2", "seen_as": ["worker2.example.com"]}
        ])
    );
}

#[test]
fn hadoop3_form_sections_hosts_containers_and_lines() {
    let file = fixture("hadoop3-spark.log");
    let v = json(&scan(&["--format=json".as_ref(), file.as_os_str()], 1));
    let types: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["log_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "launch_container.sh",
            "prelaunch.err",
            "prelaunch.out",
            "stderr",
            "stdout",
            "prelaunch.err",
            "prelaunch.out",
            "stderr",
            "stdout",
            "syslog"
        ]
    );
    let aborted = find(&v, "spark.task-failed-max-times", "worker1");
    assert_eq!(aborted["evidence"][0]["line"], 87);
    assert_eq!(
        aborted["container"],
        "container_e17_1710115201234_0007_01_000001"
    );
    assert_eq!(aborted["application"], "application_1710115201234_0007");
    assert_eq!(aborted["service"], "spark-driver");
    assert_lines_are_physical(&v, &file);
}

#[test]
fn the_same_output_gzipped_or_inside_a_bundle_gives_the_same_findings() {
    let file = fixture("hadoop2-spark.log");
    let bytes = std::fs::read(&file).unwrap();
    let key = |v: &Value| -> Vec<String> {
        findings(v)
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {} {} {}",
                    f["rule"],
                    f["count"],
                    f["host"],
                    f["container"],
                    f["fingerprint"],
                    f["evidence"][0]["line"]
                )
            })
            .collect()
    };
    let want = key(&json(&scan(
        &["--format=json".as_ref(), file.as_os_str()],
        1,
    )));
    let d = tempfile::tempdir().unwrap();
    let gz = write(
        d.path(),
        "application_1710122400000_0042.log.gz",
        &gzip(&bytes),
    );
    let v = json(&scan(&["--format=json".as_ref(), gz.as_os_str()], 1));
    assert_eq!(key(&v), want);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(
        &mut h,
        "yarn/application_1710122400000_0042.log",
        bytes.as_slice(),
    )
    .unwrap();
    let tgz = write(d.path(), "bundle.tgz", &gzip(&b.into_inner().unwrap()));
    let v = json(&scan(&["--format=json".as_ref(), tgz.as_os_str()], 1));
    assert_eq!(key(&v), want);
}

#[test]
fn human_and_ndjson_reports_show_the_container_and_application() {
    let file = fixture("hadoop2-spark.log");
    let text = String::from_utf8(scan(&[file.as_os_str()], 1)).unwrap();
    assert!(
        text.contains("on worker2 | application_1710122400000_0042 |")
            && text.contains("container_1710122400000_0042_01_000002"),
        "{text}"
    );
    let lines = ndjson(&scan(&["--format=ndjson".as_ref(), file.as_os_str()], 1));
    let oom = lines
        .iter()
        .find(|l| l["rule"] == "jvm.out-of-memory" && l["host"] == "worker2")
        .unwrap();
    assert_eq!(oom["container"], "container_1710122400000_0042_01_000002");
    assert_eq!(oom["application"], "application_1710122400000_0042");
    assert_eq!(oom["line"], 125);
}
