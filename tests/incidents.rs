//! Incidents across hosts (src/finding/incident.rs): the origin in the lowest Run Book layer,
//! the chain in order with its ties, quiet gaps between incidents, the timeline, and the same
//! document whatever the number of threads. Message texts are the packs' real examples
//! (../shared/signatures.md), in their real layouts, among benign lines.

mod common;

use common::cluster_logs::{benign, rules_of};
use common::{RunExt, json, logtriage_scan, write};
use serde_json::Value;

/// A ZooKeeper quorum loss on zk1 at 02:10, a tablet server on node3 losing its lock at
/// 02:12 (a declared consequence), the master losing it at 02:12:30, the application's JDBC
/// pool failing at 02:14 (a higher layer after lower ones); then, after an hour of quiet, a
/// lone application failure at 03:30.
fn cluster(d: &std::path::Path) {
    let mut zk = benign(
        |t| {
            format!(
                "2024-03-11 {t},100 [myid:1] - INFO  [NIOServerCxnFactory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197] - Accepted socket connection from /10.0.0.13:40112"
            )
        },
        (2, 0, 0),
        20,
        30,
    );
    zk.push_str("2024-03-11 02:10:21,004 [myid:1] - INFO  [QuorumPeer[myid=1]/0.0.0.0:2181:Leader@600] - Shutdown called\njava.lang.Exception: shutdown Leader! reason: Not sufficient followers synced, only synced with sids: [ 1 ]\n\tat org.apache.zookeeper.server.quorum.Leader.shutdown(Leader.java:600)\n");
    write(d, "zk1/zookeeper/zookeeper.log", zk.as_bytes());

    let mut ts = benign(
        |t| {
            format!(
                "2024-03-11 {t},010 [tserver.TabletServer] INFO : Adding 1 logs for extent !0;~ as alias 2"
            )
        },
        (2, 0, 5),
        20,
        30,
    );
    ts.push_str("2024-03-11 02:12:01,010 [tserver.TabletServer] ERROR: Lost tablet server lock (reason = SESSION_EXPIRED), exiting.\n");
    write(d, "node3/accumulo/tserver_node3.log", ts.as_bytes());

    let mut master = benign(
        |t| {
            format!("2024-03-11 {t},608 [master.Master] INFO : Master: 1 tablet servers, 3 tablets")
        },
        (2, 0, 10),
        20,
        30,
    );
    master.push_str(
        "2024-03-11 02:12:30,608 [master.Master] WARN : Lost servers [node3:9997[100006d30700006]]\n",
    );
    write(d, "node1/accumulo/master_node1.log", master.as_bytes());

    let mut app = benign(
        |t| {
            format!(
                "2024-03-11 {t},331 INFO [main] com.koverse.server.ThriftServer: request served"
            )
        },
        (2, 0, 15),
        20,
        30,
    );
    let jdbc = |t: &str| {
        format!(
            "2024-03-11 {t},331 ERROR [main] com.zaxxer.hikari.pool.HikariPool: HikariPool-1 - Exception during pool initialization.\norg.postgresql.util.PSQLException: Connection to localhost:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.\n\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:319)\n"
        )
    };
    app.push_str(&jdbc("02:14:02"));
    app.push_str(&benign(
        |t| {
            format!(
                "2024-03-11 {t},331 INFO [main] com.koverse.server.ThriftServer: request served"
            )
        },
        (2, 20, 0),
        10,
        300,
    ));
    app.push_str(&jdbc("03:30:00"));
    write(d, "app1/koverse/koverse-server.log", app.as_bytes());
}

fn scan(d: &std::path::Path, extra: &[&str]) -> Value {
    let out = logtriage_scan()
        .args(["--format=json"])
        .args(if extra.contains(&"--tz") {
            None
        } else {
            Some("--tz=UTC")
        })
        // The fixture's logs end at different times on purpose; silences have their own test.
        .args(if extra.contains(&"--silence") {
            None
        } else {
            Some("--silence=24h")
        })
        .args(extra)
        .arg(d)
        .stdout_for(1);
    let mut v = json(&out);
    v["scan"]["duration_ms"] = Value::Null;
    v
}

#[test]
fn a_quorum_loss_starts_the_incident_and_the_rest_follows_it() {
    let d = tempfile::tempdir().unwrap();
    cluster(d.path());
    let v = scan(d.path(), &[]);
    let incidents = v["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2, "{incidents:#?}");
    let first = &incidents[0];
    assert_eq!(first["origin"]["rule"], "zookeeper.leader-lost-quorum");
    assert!(
        first["origin"]["reason"]
            .as_str()
            .unwrap()
            .contains("storage-coordination")
    );
    assert_eq!(first["start"], "2024-03-11T02:10:21.004+00:00");
    assert_eq!(v["scan"]["timezone"], "UTC");
    assert_eq!(
        first["hosts"],
        serde_json::json!(["app1", "node1", "node3", "zk1"])
    );
    let chain = &first["chain"];
    assert_eq!(
        rules_of(chain),
        [
            "zookeeper.leader-lost-quorum",
            "accumulo.tserver-lost-lock",
            "accumulo.lost-servers",
            "postgresql.jdbc-connection-refused"
        ]
    );
    let fp = |i: usize| chain[i]["fingerprint"].clone();
    assert_eq!(chain[0]["tie"], "origin");
    // The tablet server's lost lock is declared a consequence of ZooKeeper trouble; the lost
    // servers, of the lost lock.
    assert_eq!(chain[1]["tie"], "declared");
    assert_eq!(chain[1]["after"], fp(0));
    assert_eq!(chain[2]["tie"], "declared");
    assert_eq!(chain[2]["after"], fp(1));
    // PostgreSQL trouble seen by the application: a lower layer's finding before it (the
    // application's is attributed to PostgreSQL's storage layer) or none; never declared.
    assert_ne!(chain[3]["tie"], "declared");
    assert_eq!(
        chain[3]["at"].as_str().unwrap().rsplit(':').next(),
        Some("21")
    );

    // An hour of quiet: the lone application failure is an incident of its own.
    let second = &incidents[1];
    assert_eq!(second["start"], "2024-03-11T03:30:00.331+00:00");
    assert_eq!(
        rules_of(&second["chain"]),
        ["postgresql.jdbc-connection-refused"]
    );

    // The timeline holds every burst in time order.
    let entries = v["timeline"]["entries"].as_array().unwrap();
    assert_eq!(v["timeline"]["count"], entries.len());
    let times: Vec<&str> = entries
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert!(entries.iter().any(|e| e["rule"] == "accumulo.lost-servers"
        && e["host"] == "node1"
        && e["at"].as_str().unwrap().ends_with("master_node1.log:21")));

    // The human report opens with the story.
    let out = logtriage_scan()
        .args(["--color=never", "--tz=UTC", "--silence=24h"])
        .arg(d.path())
        .stdout_for(1);
    let text = String::from_utf8(out).unwrap();
    let incidents_at = text.find("INCIDENTS").expect("an INCIDENTS section");
    assert!(incidents_at < text.find("START HERE").unwrap());
    assert!(text.contains("Started with: ZooKeeper"), "{text}");
    assert!(
        text.contains("follows zookeeper.leader-lost-quorum"),
        "{text}"
    );
}

#[test]
fn a_wider_gap_joins_what_a_narrow_one_separates() {
    let d = tempfile::tempdir().unwrap();
    cluster(d.path());
    let v = scan(d.path(), &["--incident-gap", "2h"]);
    assert_eq!(v["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(v["incident_gap_ms"], 7_200_000);
    let v = scan(d.path(), &["--incident-gap", "30s"]);
    assert!(v["incidents"].as_array().unwrap().len() > 2);
}

#[test]
fn incidents_and_timeline_do_not_depend_on_threads() {
    let d = tempfile::tempdir().unwrap();
    cluster(d.path());
    let one = scan(d.path(), &["-j1"]);
    for extra in [["-j2", "--split-bytes=500"], ["-j4", "--split-bytes=3000"]] {
        // (This found a split range starting on the last event's final stack-trace line.)
        assert_eq!(one, scan(d.path(), &extra), "{extra:?}");
    }
}

#[test]
fn format_timeline_prints_one_line_per_burst_with_its_place() {
    let d = tempfile::tempdir().unwrap();
    cluster(d.path());
    let out = logtriage_scan()
        .args([
            "--format=timeline",
            "--color=never",
            "--tz=UTC",
            "--silence=24h",
        ])
        .arg(d.path())
        .stdout_for(1);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("2024-03-11 02:10:21"), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("node3") && l.contains("tserver_node3.log:21"))
    );
    assert!(lines.last().unwrap().starts_with("2024-03-11 03:30:00"));
}

#[test]
fn the_origin_is_the_lowest_layer_even_when_a_skewed_clock_puts_another_first() {
    let d = tempfile::tempdir().unwrap();
    cluster(d.path());
    // node3's clock runs 3 minutes fast: corrected, its lost lock (02:12:01) comes at 02:09:01,
    // before the quorum loss, and opens the chain; ZooKeeper's layer still starts the story.
    let v = scan(d.path(), &["--clock-offset", "node3=-3m"]);
    let first = &v["incidents"][0];
    assert_eq!(rules_of(&first["chain"])[0], "accumulo.tserver-lost-lock");
    assert_eq!(first["chain"][0]["first"], "2024-03-11T02:09:01.010+00:00");
    assert_eq!(first["origin"]["rule"], "zookeeper.leader-lost-quorum");
    assert_eq!(first["start"], "2024-03-11T02:09:01.010+00:00");
}

#[test]
fn times_that_state_their_zone_are_converted_and_the_rest_read_in_tz() {
    let d = tempfile::tempdir().unwrap();
    cluster(d.path());
    // PostgreSQL writes UTC; the other logs state no zone.
    write(
        d.path(),
        "db1/postgresql/postgresql-2024-03-11.log",
        b"2024-03-11 01:00:00.000 UTC [84969] LOG:  checkpoint starting: time\n\
          2024-03-11 01:11:00.000 UTC [84969] FATAL:  database files are incompatible with server\n\
          2024-03-11 01:11:00.000 UTC [84969] DETAIL:  The data directory was initialized by PostgreSQL version 14, which is not compatible with this version 12.10.\n",
    );
    // In Berlin (UTC+1 in March) the zone-less logs' 02:10 is PostgreSQL's 01:10 UTC: one
    // incident, PostgreSQL's failure between the quorum loss and the lost lock.
    let berlin = scan(d.path(), &["--tz", "Europe/Berlin"]);
    let chain = rules_of(&berlin["incidents"][0]["chain"]);
    assert_eq!(
        &chain[..3],
        [
            "zookeeper.leader-lost-quorum",
            "postgresql.server-failed-to-start",
            "accumulo.tserver-lost-lock"
        ]
    );
    assert_eq!(
        berlin["incidents"][0]["chain"][1]["first"],
        "2024-03-11T02:11:00.000+01:00"
    );
    // Read as UTC, the zone-less logs are an hour later: PostgreSQL's failure is alone.
    let utc = scan(d.path(), &[]);
    assert_eq!(
        rules_of(&utc["incidents"][0]["chain"]),
        ["postgresql.server-failed-to-start"]
    );
}

#[test]
fn a_daemon_log_that_ends_while_the_others_go_on_stopped_logging() {
    let d = tempfile::tempdir().unwrap();
    cluster(d.path());
    // A DataNode stopped cleanly at 02:05 (SIGTERM, SHUTDOWN_MSG): no silence for it.
    write(
        d.path(),
        "node3/hadoop-hdfs/hadoop-hdfs-datanode-node3.log",
        b"2024-03-11 02:00:00,100 INFO org.apache.hadoop.hdfs.server.datanode.DataNode: Receiving BP-1:blk_1 src: /10.0.0.12:5000 dest: /10.0.0.13:9866\n\
          2024-03-11 02:05:00,000 ERROR org.apache.hadoop.hdfs.server.datanode.DataNode: RECEIVED SIGNAL 15: SIGTERM\n\
          2024-03-11 02:05:00,010 INFO org.apache.hadoop.hdfs.server.datanode.DataNode: SHUTDOWN_MSG: \n\
          /************************************************************\n\
          SHUTDOWN_MSG: Shutting down DataNode at node3/10.0.0.13\n\
          ************************************************************/\n",
    );
    let v = scan(d.path(), &["--silence", "30m"]);
    let silent: Vec<(&str, &str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "jvm.stopped-logging")
        .map(|f| {
            (
                f["host"].as_str().unwrap(),
                f["service"].as_str().unwrap(),
                f["summary"].as_str().unwrap(),
            )
        })
        .collect();
    // The application logs on to 03:30; ZooKeeper and the master stop after 02:10 without a
    // word; the tablet server's last words said it exited (its lost lock: no silence on top);
    // the DataNode said goodbye.
    assert_eq!(silent.len(), 2, "{silent:#?}");
    assert!(silent.contains(&(
        "node1",
        "accumulo-master",
        "accumulo-master stopped logging at 2024-03-11 02:12:30, 1h 17m before the sweep's last event"
    )));
    assert!(silent.iter().any(|s| s.0 == "zk1" && s.1 == "zookeeper"));
    assert!(!silent.iter().any(|s| s.1 == "tserver"));
    assert!(!silent.iter().any(|s| s.1 == "datanode"));
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "jvm.stopped-logging" && f["host"] == "node1")
        .unwrap();
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["evidence"][0]["line"], 21);
    assert!(
        f["evidence"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Lost servers [node3:9997")
    );
    // A wider --silence: the gaps are within it.
    let v = scan(d.path(), &["--silence", "2h"]);
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "jvm.stopped-logging")
    );
}

#[test]
fn a_restart_on_the_first_line_of_a_split_range_is_still_a_restart() {
    // The bundled cluster's dn3 DataNode was down 25 minutes, then restarted. Read in ranges
    // of 500 bytes on two threads, its start-up line began a range: the line before it (the
    // outage's start) is in the range before, and must still be found.
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster");
    let restarts = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "jvm.down-then-restarted")
            .map(|f| f["summary"].as_str().unwrap().to_string())
            .collect()
    };
    let one = scan(&d, &["-j1"]);
    assert!(
        restarts(&one)
            .iter()
            .any(|s| s.starts_with("datanode was down from 2024-06-18 03:35:41")),
        "{:?}",
        restarts(&one)
    );
    for extra in [["-j2", "--split-bytes=500"], ["-j2", "--split-bytes=200"]] {
        let other = scan(&d, &extra);
        assert_eq!(restarts(&one), restarts(&other), "{extra:?}");
        assert_eq!(one, other, "{extra:?}");
    }
}
