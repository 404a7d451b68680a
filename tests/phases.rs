//! Phases of a daemon's life (src/finding/phase.rs): failures expected while a daemon starts or
//! stops are reported at low and say so; a start-up that lasts past its grace is judged at full
//! severity; parallel chunks agree with one pass.

mod common;

use common::cluster_logs::findings_of;
use common::{RunExt, gzip, json, logtriage_scan, write};
use serde_json::Value;

/// A DataNode that starts before its NameNode: `minutes` of "Problem connecting" every 5 s
/// after its STARTUP_MSG, then (when `registers`) it registers, then a SIGTERM and two more
/// failed connections while it stops.
fn datanode_log(minutes: u32, registers: bool) -> String {
    let mut log = String::from(
        "2018-11-14 08:44:00,100 INFO org.apache.hadoop.hdfs.server.datanode.DataNode: STARTUP_MSG: \n\
         /************************************************************\n\
         STARTUP_MSG: Starting DataNode\n\
         ************************************************************/\n",
    );
    for i in 0..minutes * 12 {
        let t = 5 * i + 4;
        log.push_str(&format!(
            "2018-11-14 {:02}:{:02}:{:02},381 WARN org.apache.hadoop.hdfs.server.datanode.DataNode: Problem connecting to server: Master:9000\n",
            8 + (44 * 60 + t) / 3600,
            (44 * 60 + t) / 60 % 60,
            t % 60
        ));
    }
    let end = 8 * 60 + 44 + minutes;
    let (h, m) = (end / 60, end % 60);
    if registers {
        log.push_str(&format!("2018-11-14 {h:02}:{m:02}:30,000 INFO org.apache.hadoop.hdfs.server.datanode.DataNode: Block pool BP-1 (Datanode Uuid 7) service to Master/172.31.2.135:9000 successfully registered with NN\n"));
    }
    log.push_str(&format!("2018-11-14 {h:02}:{m:02}:40,000 ERROR org.apache.hadoop.hdfs.server.datanode.DataNode: RECEIVED SIGNAL 15: SIGTERM\n"));
    for s in [41, 46] {
        log.push_str(&format!("2018-11-14 {h:02}:{m:02}:{s},000 WARN org.apache.hadoop.hdfs.server.datanode.DataNode: Problem connecting to server: Master:9000\n"));
    }
    log
}

fn scan_json(path: &std::path::Path, extra: &[&str], code: i32) -> Value {
    let out = logtriage_scan()
        .args(["--format=json", "--max-evidence=0"])
        .args(extra)
        .arg(path)
        .stdout_for(code);
    let mut v = json(&out);
    v["scan"]["duration_ms"] = Value::Null;
    v
}

#[test]
fn a_peer_not_up_yet_during_start_up_is_low_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let log = write(
        d.path(),
        "hadoop-hdfs-datanode-dn1.log",
        datanode_log(3, true).as_bytes(),
    );
    // Nothing at medium or above: exit 0 with the default --fail-on medium.
    let v = scan_json(&log, &[], 0);
    let f = findings_of(&v, "hdfs.datanode-cannot-reach-namenode");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["severity"], "low");
    assert_eq!(f[0]["phase"], "startup");
    assert_eq!(f[0]["count"], 36);
    // The two while it stops are below the rule's threshold; the start and stop are context.
    assert_eq!(
        findings_of(&v, "jvm.daemon-starting")[0]["severity"],
        "info"
    );
    assert_eq!(
        findings_of(&v, "jvm.daemon-stopping")[0]["severity"],
        "info"
    );

    let out = logtriage_scan()
        .args(["--color=never"])
        .arg(&log)
        .stdout_for(0);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("during start-up: expected while its peers come up"),
        "{text}"
    );
}

#[test]
fn a_start_up_that_never_completes_is_judged_at_full_severity_after_its_grace() {
    let d = tempfile::tempdir().unwrap();
    let log = write(
        d.path(),
        "hadoop-hdfs-datanode-dn1.log",
        datanode_log(30, false).as_bytes(),
    );
    let v = scan_json(&log, &[], 1);
    let f = findings_of(&v, "hdfs.datanode-cannot-reach-namenode");
    // (one DataNode down is medium: the Run Book's automatic recovery)
    let by_phase = |p: Value| f.iter().find(|x| x["phase"] == p).copied().unwrap();
    // 10 minutes of grace at 12 a minute, the rest (and the two after SIGTERM, a shutdown
    // that is itself within its grace) at the rule's own severity or low.
    assert_eq!(by_phase(Value::from("startup"))["count"], 120);
    assert_eq!(by_phase(Value::from("startup"))["severity"], "low");
    let full = by_phase(Value::Null);
    assert_eq!(full["severity"], "medium");
    assert_eq!(full["count"], 30 * 12 - 120);
    assert_ne!(
        full["fingerprint"],
        by_phase(Value::from("startup"))["fingerprint"]
    );
}

#[test]
fn phases_are_the_same_in_parallel_chunks_as_in_one_pass() {
    // Many runs of the daemon, so chunk cuts fall inside start-ups, between a marker and the
    // failures it judges, and inside shutdowns.
    let mut log = String::new();
    for run in 0..6 {
        log.push_str(&datanode_log(4 + run * 3, run % 2 == 0));
    }
    let d = tempfile::tempdir().unwrap();
    let path = write(d.path(), "hadoop-hdfs-datanode-dn1.log", log.as_bytes());
    let gz = write(
        d.path(),
        "hadoop-hdfs-datanode-dn1.log.1.gz",
        &gzip(log.as_bytes()),
    );
    let whole = scan_json(&path, &["-j1"], 1);
    let phased = findings_of(&whole, "hdfs.datanode-cannot-reach-namenode");
    assert!(
        phased.iter().any(|f| f["phase"] == "startup")
            && phased.iter().any(|f| f["phase"].is_null()),
        "{phased:#?}"
    );
    for size in ["700", "4096", "30000"] {
        let split = scan_json(&path, &["-j2", "--split-bytes", size], 1);
        assert_eq!(
            whole["findings"], split["findings"],
            "split at {size} bytes"
        );
    }
    let strip = |mut v: Value| {
        for f in v["findings"].as_array_mut().unwrap() {
            f["files"] = Value::Null;
        }
        v["findings"].take()
    };
    let one = strip(scan_json(&gz, &["-j1"], 1));
    for size in ["700", "4096", "30000"] {
        let chunked = strip(scan_json(&gz, &["-j2", "--split-bytes", size], 1));
        assert_eq!(one, chunked, "gzip in chunks of {size}");
    }
}
