//! contrib/spark/sweep_hdfs.py run by a real local Spark (pyspark, `local[2]`): every file's
//! bytes piped to `logtriage scan --stdin-name PATH -` on the executors, the reports merged on
//! the driver into the report one scan of the folder gives. Needs pyspark and a JRE; `.ci/run`
//! does not install pyspark (about 4 minutes of CI's budget), so where it is missing the test
//! says it was skipped.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn pyspark() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pyspark"])
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("java").arg("-version").output().is_ok();
    if !ok {
        println!("skipped: pyspark or java not installed (pip install pyspark)");
    }
    ok
}

fn comparable(mut v: Value) -> Value {
    let scan = v["scan"].as_object_mut().unwrap();
    scan.remove("duration_ms");
    scan.remove("inputs");
    v.as_object_mut().unwrap().remove("merge");
    v
}

#[test]
fn a_spark_sweep_of_a_folder_is_one_scan_of_it() {
    if !pyspark() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let cluster = root.path().join("cluster");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster");
    assert!(
        Command::new("cp")
            .arg("-r")
            .arg(&from)
            .arg(&cluster)
            .status()
            .unwrap()
            .success()
    );
    // Each file is scanned on its own: Accumulo's X.debug.log, whose events X.log also holds,
    // would count them twice (the merge says so); a sweep of one file per task leaves it out.
    std::fs::remove_file(cluster.join("app1/accumulo/master_app1.debug.log")).unwrap();
    let out = root.path().join("out");
    let run = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/spark/sweep_hdfs.py"))
        .args([
            "--master",
            "local[2]",
            "--partitions",
            "4",
            "--scan-arg=--tz=UTC",
        ])
        .arg("--logtriage")
        .arg(env!("CARGO_BIN_EXE_logtriage"))
        .arg("--out")
        .arg(&out)
        .arg(format!("file://{}", cluster.display()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(matches!(run.status.code(), Some(0..=2)), "{said}");
    let merged: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("merged.json")).unwrap()).unwrap();
    assert!(out.join("report.html").is_file() && out.join("report.md").is_file());
    let one = Command::new(env!("CARGO_BIN_EXE_logtriage"))
        .args(["scan", "-q", "--tz=UTC", "--format=json"])
        .arg(&cluster)
        .output()
        .unwrap();
    let one: Value = serde_json::from_slice(&one.stdout).unwrap();
    assert!(one["findings"].as_array().unwrap().len() > 20);
    assert_eq!(comparable(one), comparable(merged));
}
