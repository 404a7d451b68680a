//! Sweeps of the real public logs in `../shared/corpus` (loghub samples; see its SOURCES.md for
//! what each holds). Skipped, with a message, when the corpus is not beside this checkout.

mod common;

use common::*;
use serde_json::Value;

fn scan_json(file: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let out = assert_cmd::Command::cargo_bin("logtriage")
        .unwrap()
        .args(["scan", "--format=json"])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json(&out.stdout))
}

fn rules_of(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn hadoop_network_disconnection_is_found() {
    let Some(c) = corpus() else { return };
    let file = c.join("Hadoop/Hadoop_2k.log");
    // The two FATAL NoRouteToHostException events, at their own lines.
    let out = assert_cmd::Command::cargo_bin("logtriage")
        .unwrap()
        .args(["scan", "--format=ndjson"])
        .arg(&file)
        .output()
        .unwrap();
    let lines = ndjson(&out.stdout);
    for at in [1020, 1053] {
        let ev = lines
            .iter()
            .find(|l| l["line"] == at && l["rule"] == "network.no-route-to-host")
            .unwrap_or_else(|| panic!("no NoRouteToHost finding at line {at}"));
        assert_eq!(ev["level"], "FATAL");
        assert!(
            ev["text"]
                .as_str()
                .unwrap()
                .contains("java.net.NoRouteToHostException")
        );
    }
    let (code, v) = scan_json(&file, &[]);
    assert_eq!(code, 1);
    let rules = rules_of(&v);
    for r in [
        "network.no-route-to-host",
        "yarn.rm-contact-error",
        "hdfs.lease-renew-failed",
    ] {
        assert!(rules.contains(&r.to_string()), "{r} missing from {rules:?}");
    }
    let lease = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "hdfs.lease-renew-failed")
        .unwrap();
    assert!(
        !lease["threshold"].is_null(),
        "lease renewal failures are a threshold finding"
    );
    assert_eq!(lease["count"], 326, "SOURCES.md: 326 lease lines");
    assert_eq!(v["scan"]["layouts"]["hadoop-mapreduce"], 1);
    assert_eq!(v["scan"]["lines"], 2000);
    // Normal cleanup after success is not a failure (SOURCES.md lines 801, 828).
    assert!(
        !lines.iter().any(|l| l["line"] == 801 || l["line"] == 828),
        "benign KILLING lines reported"
    );
}

#[test]
fn zookeeper_election_channel_failures_are_found() {
    let Some(c) = corpus() else { return };
    let (_, v) = scan_json(&c.join("Zookeeper/Zookeeper_2k.log"), &[]);
    // One finding per unreachable peer (grouped by sid), each medium: one server that cannot
    // reach a peer is a single ZooKeeper node's trouble (rules/README.md, Severity policy).
    let mut per_peer: Vec<(String, &Value)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "zookeeper.election-channel-failure")
        .map(|f| (f["fields"]["sid"].as_str().unwrap_or("?").to_string(), f))
        .collect();
    per_peer.sort_by(|a, b| a.0.cmp(&b.0));
    let sids: Vec<&str> = per_peer.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sids, ["2", "3"], "no per-peer findings: {:?}", rules_of(&v));
    // SOURCES.md: 86 'Cannot open channel' lines (48 to peer 2, 38 to peer 3); three of them
    // (567-569: peers 2, 3, 2) come within a minute of the LOOKING at 566, expected during an
    // election and too few to report.
    let counts: Vec<u64> = per_peer
        .iter()
        .map(|(_, f)| f["count"].as_u64().unwrap())
        .collect();
    assert_eq!(
        counts,
        [46, 37],
        "SOURCES.md: 86 'Cannot open channel' lines, 3 in an election"
    );
    for (_, f) in &per_peer {
        assert_eq!(f["severity"], "medium");
        assert_eq!(f["layer"], "storage-coordination");
    }
    assert_eq!(v["scan"]["layouts"]["zookeeper"], 1);
    // Server-side session expiry at INFO is normal operation.
    assert!(
        !rules_of(&v).iter().any(|r| r.contains("session-expired")),
        "{:?}",
        rules_of(&v)
    );
}

#[test]
fn all_info_spark_and_hdfs_samples_stay_quiet() {
    let Some(c) = corpus() else { return };
    for f in ["Spark/Spark_2k.log", "HDFS/HDFS_2k.log"] {
        let (code, v) = scan_json(&c.join(f), &["--min-severity=medium"]);
        assert_eq!(code, 0, "{f}: {:?}", rules_of(&v));
        assert_eq!(v["findings"], Value::Array(vec![]), "{f}");
    }
}
