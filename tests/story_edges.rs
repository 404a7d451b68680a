//! The story's edge cases (src/finding/incident.rs, scenario.rs, silence.rs): zones and a
//! skewed clock ordering the chain, unrelated incidents in one sweep, an incident of the
//! application layer alone, a daemon down then restarted (and a clean stop that is not), and
//! the same document whatever the number of threads. Fixtures: tests/common/cluster_logs.rs.

mod common;

use common::cluster_logs::*;
use common::write;

use std::path::Path;

// ----------------------------------------------------------------------------- 5. clocks
/// zk1 and node3 log in Berlin time (no zone in their lines), db1's PostgreSQL in UTC, and
/// node3's clock runs 4 s fast. True order (UTC): node3's lost lock 01:09:59.010, the leader's
/// lost quorum 01:10:00.004, PostgreSQL's killed backend 01:10:01.500.
fn two_zones_and_a_skewed_host(d: &Path) {
    let mut zk1 = zk_benign(1, (2, 0, 0), 20, 30);
    zk1.push_str(&zk(
        1,
        "02:10:00,004",
        "INFO",
        "QuorumPeer[myid=1]/0.0.0.0:2181:Leader@600",
        "Shutdown called\njava.lang.Exception: shutdown Leader! reason: Not sufficient followers synced, only synced with sids: [ 1 ]\n\tat org.apache.zookeeper.server.quorum.Leader.shutdown(Leader.java:600)",
    ));
    zk1.push_str(&zk_benign(1, (2, 10, 30), 20, 30));
    write(d, "zk1/zookeeper/zookeeper.log", zk1.as_bytes());

    let mut ts = tserver_benign((2, 0, 5), 20, 30);
    ts.push_str(&acc(
        "02:10:03,010",
        "tserver.TabletServer",
        "ERROR",
        "Lost tablet server lock (reason = SESSION_EXPIRED), exiting.",
    ));
    write(d, "node3/accumulo/tserver_node3.log", ts.as_bytes());

    let mut pg = pg_benign((1, 0, 0), 3, 300);
    pg.push_str(&format!(
        "{DAY} 01:10:01.500 UTC [1] LOG:  server process (PID 30122) was terminated by signal 9: Killed\n\
         {DAY} 01:10:01.500 UTC [1] DETAIL:  Failed process was running: SELECT * FROM kv_records ORDER BY created_at\n"
    ));
    pg.push_str(&pg_benign((1, 15, 0), 3, 300));
    write(
        d,
        "db1/postgresql/postgresql-2024-03-11_000000.log",
        pg.as_bytes(),
    );
}

#[test]
fn zones_and_a_corrected_clock_decide_the_order_of_the_chain() {
    let d = tempfile::tempdir().unwrap();
    two_zones_and_a_skewed_host(d.path());

    // Read in Berlin, uncorrected: ZooKeeper, PostgreSQL, then the tablet server.
    let v = scan(d.path(), &["--tz=Europe/Berlin"]);
    assert_eq!(v["scan"]["timezone"], "Europe/Berlin");
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let chain = &incs[0]["chain"];
    assert_eq!(
        rules_of(chain),
        [
            "zookeeper.leader-lost-quorum",
            "postgresql.process-crashed",
            "accumulo.tserver-lost-lock"
        ]
    );
    assert_eq!(chain[1]["first"], "2024-03-11T02:10:01.500+01:00");
    assert_eq!(chain[2]["first"], "2024-03-11T02:10:03.010+01:00");
    assert_eq!(incs[0]["origin"]["rule"], "zookeeper.leader-lost-quorum");

    // node3's clock corrected by 4 s: its lost lock comes first; ZooKeeper's layer still
    // starts the story, and the lost lock is not tied to what came after it.
    let v = scan(
        d.path(),
        &["--tz=Europe/Berlin", "--clock-offset", "node3=-4s"],
    );
    let inc = &incidents(&v)[0];
    let chain = &inc["chain"];
    assert_eq!(
        rules_of(chain),
        [
            "accumulo.tserver-lost-lock",
            "zookeeper.leader-lost-quorum",
            "postgresql.process-crashed"
        ]
    );
    assert_eq!(chain[0]["first"], "2024-03-11T02:09:59.010+01:00");
    assert_eq!(chain[0]["host"], "node3");
    assert_ne!(chain[0]["tie"], "declared");
    assert_eq!(inc["origin"]["rule"], "zookeeper.leader-lost-quorum");
    assert_eq!(inc["start"], "2024-03-11T02:09:59.010+01:00");

    // Read in UTC, the zone-less logs are an hour later than PostgreSQL's: two incidents.
    let v = scan(d.path(), &[]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 2, "{incs:#?}");
    assert_eq!(rules_of(&incs[0]["chain"]), ["postgresql.process-crashed"]);
    assert_eq!(incs[0]["start"], "2024-03-11T01:10:01.500+00:00");
}

// ----------------------------------------------------------------------------- 6. layers

#[test]
fn two_unrelated_incidents_get_their_own_scenarios() {
    let d = tempfile::tempdir().unwrap();
    datanode_lost(d.path());
    // Two hours later, the application runs out of file handles and goes on logging.
    let mut app = koverse_benign((2, 0, 0), 240, 30);
    app.push_str(&koverse(
        "04:00:31,010",
        "ERROR",
        "com.koverse.server.ThriftServer",
        "Error accepting connection\njava.io.IOException: Too many open files\n\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n\tat sun.nio.ch.ServerSocketChannelImpl.accept(ServerSocketChannelImpl.java:422)\n\t... 3 more",
    ));
    app.push_str(&koverse_benign((4, 1, 0), 20, 30));
    write(d.path(), "app1/koverse/koverse-server.log", app.as_bytes());

    let v = scan(d.path(), &[]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 2, "{incs:#?}");

    let first = &incs[0];
    assert_eq!(first["origin"]["rule"], "hdfs.datanode-dead");
    assert_eq!(
        scenario_ids(first).0,
        Some("automatic.datanode"),
        "{first:#}"
    );
    // The NameNode that reported it and the DataNode that failed.
    assert_eq!(first["hosts"], serde_json::json!(["dn2", "nn1"]));
    assert!(
        first["failed"]["not_serving"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The second one's only evidence is in the application layer: it starts there, and a
    // process that runs but does not serve is the Run Book's zombie.
    let second = &incs[1];
    assert_eq!(second["start"], "2024-03-11T04:00:31.010+00:00");
    assert_eq!(second["hosts"], serde_json::json!(["app1"]));
    let origin = second["origin"]["rule"].as_str().unwrap();
    assert_eq!(origin, "jvm.too-many-open-files");
    assert!(
        second["origin"]["reason"]
            .as_str()
            .unwrap()
            .contains("(application)"),
        "{}",
        second["origin"]["reason"]
    );
    assert!(
        second["chain"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["layer"] == "application"),
        "{second:#}"
    );
    let (id, also) = scenario_ids(second);
    assert_eq!(id, Some("zombie"), "{second:#}");
    assert_eq!(second["scenario"]["class"], "zombie");
    assert!(also.is_empty(), "{also:?}");
    assert!(
        evidence(second).contains("1 of 1 Koverse Server not serving: app1 at 04:00:31"),
        "{}",
        evidence(second)
    );
    assert!(second["failed"]["down"].as_array().unwrap().is_empty());
    let ns = &second["failed"]["not_serving"][0];
    assert_eq!(ns["role"], "koverse-server");
    assert_eq!(ns["host"], "app1");
}

#[test]
fn an_application_failure_that_takes_no_server_down_has_no_scenario() {
    let d = tempfile::tempdir().unwrap();
    let mut app = koverse_benign((2, 0, 0), 20, 30);
    app.push_str(&koverse(
        "02:10:31,010",
        "ERROR",
        "com.koverse.server.ThriftServer",
        "Import job failed\norg.apache.hadoop.security.AccessControlException: Permission denied: user=koverse, access=WRITE, inode=\"/user\":hdfs:supergroup:drwxr-xr-x",
    ));
    app.push_str(&koverse_benign((2, 11, 0), 20, 30));
    write(d.path(), "app1/koverse/koverse-server.log", app.as_bytes());
    let v = scan(d.path(), &[]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];
    assert_eq!(inc["origin"]["rule"], "app.hdfs-permission-denied");
    assert_eq!(inc["chain"][0]["layer"], "application");
    assert!(inc["scenario"].is_null(), "{inc:#}");
    assert!(inc["also"].as_array().unwrap().is_empty());
    for list in ["down", "not_serving", "disks_lost"] {
        assert!(inc["failed"][list].as_array().unwrap().is_empty(), "{list}");
    }
    // With no scenario, the origin's own steps come first.
    assert!(
        strs(&inc["first_steps"])[0].starts_with("Read the inode"),
        "{}",
        inc["first_steps"]
    );
}

// ----------------------------------------------------------------------------- 7. restarts

/// dn2's DataNode logs every 10 s from 01:00:10 to 01:10:00, nothing for 40 minutes, then its
/// start-up banner at 01:50:00 and steady lines again. With `clean`, it was stopped (SIGTERM,
/// SHUTDOWN_MSG) at 01:10:05, before the gap.
fn datanode_restarted(d: &Path, clean: bool) {
    let mut dn = datanode_banner("01:00:00,100", "dn2", "10.0.0.12");
    dn.push_str(&datanode_benign("10.0.0.12", (1, 0, 10), 60, 10));
    if clean {
        dn.push_str(&hadoop(
            "01:10:05,000",
            "ERROR",
            DATANODE,
            "RECEIVED SIGNAL 15: SIGTERM",
        ));
        dn.push_str(&format!(
            "{DAY} 01:10:05,010 INFO {DATANODE}: SHUTDOWN_MSG: \n\
             /************************************************************\n\
             SHUTDOWN_MSG: Shutting down DataNode at dn2/10.0.0.12\n\
             ************************************************************/\n"
        ));
    }
    dn.push_str(&datanode_banner("01:50:00,100", "dn2", "10.0.0.12"));
    dn.push_str(&datanode_benign("10.0.0.12", (1, 50, 10), 30, 10));
    write(
        d,
        "dn2/hadoop-hdfs/hadoop-hdfs-datanode-dn2.log",
        dn.as_bytes(),
    );
}

#[test]
fn a_gap_ended_by_a_start_up_banner_is_down_then_restarted() {
    let d = tempfile::tempdir().unwrap();
    datanode_restarted(d.path(), false);
    let v = scan(d.path(), &[]);
    let found = findings_of(&v, "jvm.down-then-restarted");
    assert_eq!(found.len(), 1, "{:#}", v["findings"]);
    let f = found[0];
    assert_eq!(f["host"], "dn2");
    assert_eq!(f["service"], "datanode");
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["fields"]["down_from"], "2024-03-11 01:10:00");
    assert_eq!(f["fields"]["down_until"], "2024-03-11 01:50:00");
    assert_eq!(f["fields"]["down_for"], "40m");
    assert_eq!(
        f["summary"],
        "datanode was down from 2024-03-11 01:10:00 to 2024-03-11 01:50:00 (40m), then restarted"
    );
    // The restart's banner is its evidence.
    assert!(
        f["evidence"][0]["text"]
            .as_str()
            .unwrap()
            .contains("STARTUP_MSG")
    );
    let inc = &incidents(&v)[0];
    assert_eq!(down_hosts(inc, "datanode"), ["dn2"]);
}

#[test]
fn a_clean_stop_before_the_gap_is_no_restart_finding() {
    let d = tempfile::tempdir().unwrap();
    datanode_restarted(d.path(), true);
    let v = scan_code(d.path(), &[], 0);
    assert!(
        findings_of(&v, "jvm.down-then-restarted").is_empty(),
        "{:#}",
        v["findings"]
    );
    assert!(incidents(&v).is_empty(), "{:#}", v["incidents"]);
}

/// dn2 as in `datanode_restarted` (no clean stop): it dies without a word after 01:10:00 and
/// is started again at 01:50:00; meanwhile the NameNode declares it dead at 01:20:30 (10.5
/// minutes without a heartbeat); dn1, dn3 and the NameNode log on until 02:00.
fn datanode_restarted_with_peers(d: &Path) {
    datanode_restarted(d, false);
    let mut nn = namenode_benign((1, 0, 0), 41, 30);
    nn.push_str(&hadoop(
        "01:20:30,118",
        "INFO",
        "org.apache.hadoop.hdfs.StateChange",
        "BLOCK* removeDeadDatanode: lost heartbeat from 10.0.0.12:50010",
    ));
    nn.push_str(&namenode_benign((1, 21, 0), 79, 30));
    write(
        d,
        "nn1/hadoop-hdfs/hadoop-hdfs-namenode-nn1.log",
        nn.as_bytes(),
    );
    for (host, ip) in [("dn1", "10.0.0.11"), ("dn3", "10.0.0.13")] {
        let mut dn = datanode_banner("01:00:00,100", host, ip);
        dn.push_str(&datanode_benign(ip, (1, 0, 10), 360, 10));
        write(
            d,
            &format!("{host}/hadoop-hdfs/hadoop-hdfs-datanode-{host}.log"),
            dn.as_bytes(),
        );
    }
}

#[test]
fn a_datanode_down_then_restarted_is_down_from_the_start_of_its_gap() {
    let d = tempfile::tempdir().unwrap();
    datanode_restarted_with_peers(d.path());
    let v = scan(d.path(), &[]);
    assert_eq!(findings_of(&v, "jvm.down-then-restarted").len(), 1);
    // The NameNode's report is right: dn2's own log is silent from 01:10 to 01:50, it does
    // not show dn2 there at 01:20:30. The incident of the NameNode's report counts dn2 down,
    // from when its log stopped.
    let inc = incidents(&v)
        .iter()
        .find(|i| rules_of(&i["chain"]).contains(&"hdfs.datanode-dead"))
        .expect("an incident with the dead DataNode");
    assert_eq!(down_hosts(inc, "datanode"), ["dn2"], "{inc:#}");
    assert_eq!(scenario_ids(inc).0, Some("automatic.datanode"), "{inc:#}");
    assert!(
        evidence(inc).contains("1 of 3 DataNodes down: dn2 at 01:10:00"),
        "{}",
        evidence(inc)
    );
}

// ----------------------------------------------------------------------------- 8. threads

#[test]
fn incidents_and_scenarios_do_not_depend_on_threads() {
    let d = tempfile::tempdir().unwrap();
    zookeeper_quorum_loss(d.path(), false);
    datanode_lost(d.path());
    let one = scan(d.path(), &["-j1", "--silence=10m"]);
    assert!(!incidents(&one).is_empty());
    for extra in [["-j2", "--split-bytes=0"], ["-j2", "--split-bytes=700"]] {
        let args = [extra[0], extra[1], "--silence=10m"];
        let other = scan(d.path(), &args);
        assert_eq!(one["incidents"], other["incidents"], "{extra:?}");
        assert_eq!(one, other, "{extra:?}");
    }
}
