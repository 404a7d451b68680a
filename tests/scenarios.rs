//! The Run Book's recovery scenarios on whole sweeps of several hosts (src/finding/scenario.rs,
//! rules/scenarios.toml): which servers each incident counts down, against how many of their
//! role the sweep holds logs of, and the scenario an operator is pointed to, with its evidence.
//! Silences (a log that ends), gaps ended by a restart, other logs' reports of a server down and
//! their refutation by its own log, zones and skewed clocks. Message texts are the packs' real
//! examples (../shared/signatures.md), in their real layouts, among benign lines.

mod common;

use common::cluster_logs::*;
use common::{RunExt, logtriage_scan};

#[test]
fn two_zookeepers_down_is_an_intervention_and_the_cascade_follows_them() {
    let d = tempfile::tempdir().unwrap();
    zookeeper_quorum_loss(d.path(), false);
    let v = scan(d.path(), &["--silence=10m"]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];

    // The silences: zk3 killed without a word. zk2 ("exiting abnormally") and node3's tablet
    // server (its lost lock, "exiting") said why they stopped: no "stopped logging" on top.
    assert_eq!(silent(&v), pairs(&[("zk3", "zookeeper")]));
    let zk3 = findings_of(&v, "jvm.stopped-logging")
        .into_iter()
        .find(|f| f["host"] == "zk3")
        .unwrap();
    assert_eq!(
        zk3["summary"],
        "zookeeper stopped logging at 2024-03-11 02:09:50, 35m 9s before the sweep's last event"
    );

    // It started in ZooKeeper (storage and coordination): zk3 went first.
    assert_eq!(inc["origin"]["rule"], "jvm.stopped-logging");
    assert!(
        inc["origin"]["reason"]
            .as_str()
            .unwrap()
            .contains("storage-coordination")
    );
    let chain = &inc["chain"];
    assert_eq!(chain[0]["host"], "zk3");
    assert_eq!(chain[0]["tie"], "origin");
    assert_eq!(inc["start"], "2024-03-11T02:09:50.100+00:00");
    let order = rules_of(chain);
    let pos = |rule: &str| {
        order
            .iter()
            .position(|r| *r == rule)
            .unwrap_or_else(|| panic!("{rule} not in {order:?}"))
    };
    // zk2's failure, the leader's lost quorum, the clients' lost connections, the lost lock,
    // the master's lost servers, the application's rejected writes: in this order.
    assert!(pos("zookeeper.load-database-failed") < pos("zookeeper.leader-lost-quorum"));
    assert!(pos("zookeeper.server-exited-quorum-member") < pos("zookeeper.leader-lost-quorum"));
    assert!(pos("zookeeper.leader-lost-quorum") < pos("accumulo.zookeeper-connection-lost"));
    assert!(pos("accumulo.zookeeper-connection-lost") < pos("accumulo.tserver-lost-lock"));
    assert!(pos("accumulo.tserver-lost-lock") < pos("accumulo.lost-servers"));
    assert!(pos("accumulo.lost-servers") < pos("accumulo.mutations-rejected"));
    assert_eq!(chain[pos("accumulo.tserver-lost-lock")]["tie"], "declared");
    assert_eq!(chain[pos("accumulo.lost-servers")]["tie"], "declared");
    assert_eq!(
        inc["hosts"],
        serde_json::json!(["app1", "node1", "node2", "node3", "zk1", "zk2", "zk3"])
    );

    // The Run Book: more than one ZooKeeper server down, not all of them.
    let (id, also) = scenario_ids(inc);
    assert_eq!(id, Some("intervention.zookeepers"), "{inc:#}");
    assert_eq!(inc["scenario"]["class"], "intervention");
    assert_eq!(
        inc["scenario"]["section"],
        "Recoverable Failures Requiring Intervention"
    );
    let ev = evidence(inc);
    assert!(ev.contains("2 of 3 ZooKeeper servers down"), "{ev}");
    assert!(ev.contains("zk3 at 02:09:50"), "{ev}");
    assert!(ev.contains("zk2 at 02:10:05"), "{ev}");
    assert!(!ev.contains("zk1"), "{ev}");
    assert!(!also.contains(&"data-loss.all-zookeepers"), "{also:?}");
    assert!(also.contains(&"intervention.several-servers"), "{also:?}");
    assert!(also.contains(&"automatic.tserver"), "{also:?}");
    assert_eq!(down_hosts(inc, "zookeeper"), ["zk3", "zk2"]);
    assert_eq!(down_hosts(inc, "tserver"), ["node3"]);
    assert!(down_hosts(inc, "accumulo-master").is_empty());
    assert!(down_hosts(inc, "koverse-server").is_empty());
    assert!(
        strs(&inc["first_steps"])[0].starts_with("Start the stopped ZooKeeper servers"),
        "{}",
        inc["first_steps"]
    );

    // The human report says the same.
    let out = logtriage_scan()
        .args(["--color=never", "--tz=UTC", "--silence=10m"])
        .arg(d.path())
        .stdout_for(1);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("Run Book scenario: Recoverable Failures Requiring Intervention"),
        "{text}"
    );
    assert!(text.contains("2 of 3 ZooKeeper servers down"), "{text}");
}

#[test]
fn all_zookeepers_down_while_accumulo_and_the_application_go_on_is_potential_data_loss() {
    let d = tempfile::tempdir().unwrap();
    zookeeper_quorum_loss(d.path(), true);
    let v = scan(d.path(), &["--silence=10m"]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];
    // zk1 and zk3 stopped without a word; zk2 and node3's tablet server said they exited.
    assert_eq!(
        silent(&v),
        pairs(&[("zk1", "zookeeper"), ("zk3", "zookeeper")])
    );
    let (id, also) = scenario_ids(inc);
    assert_eq!(id, Some("data-loss.all-zookeepers"), "{inc:#}");
    assert_eq!(inc["scenario"]["class"], "data-loss");
    let ev = evidence(inc);
    assert!(ev.contains("3 of 3 ZooKeeper servers down"), "{ev}");
    assert!(ev.contains("zk1 at 02:10:21"), "{ev}");
    // The dependent systems went on: the application logged last.
    assert!(
        ev.contains("koverse-server on app1 went on logging until 2024-03-11 02:45:00"),
        "{ev}"
    );
    // More than one down holds too; the worst case comes first.
    assert!(also.contains(&"intervention.zookeepers"), "{also:?}");
    assert!(also.contains(&"intervention.several-servers"), "{also:?}");
    assert_eq!(down_hosts(inc, "zookeeper"), ["zk3", "zk2", "zk1"]);
    assert!(
        strs(&inc["first_steps"])[0].starts_with("Start the ZooKeeper servers first"),
        "{}",
        inc["first_steps"]
    );
}

// ----------------------------------------------------------------------------- 2. one DataNode

#[test]
fn one_datanode_lost_heals_by_itself_and_its_address_is_its_host() {
    let d = tempfile::tempdir().unwrap();
    datanode_lost(d.path());
    let v = scan(d.path(), &["--silence=10m"]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];
    assert_eq!(silent(&v), pairs(&[("dn2", "datanode")]));
    assert_eq!(
        rules_of(&inc["chain"]),
        ["jvm.stopped-logging", "hdfs.datanode-dead"]
    );
    assert_eq!(inc["origin"]["rule"], "jvm.stopped-logging");
    assert_eq!(inc["chain"][0]["host"], "dn2");
    assert_eq!(inc["chain"][1]["host"], "nn1");

    let (id, also) = scenario_ids(inc);
    assert_eq!(id, Some("automatic.datanode"), "{inc:#}");
    assert_eq!(inc["scenario"]["class"], "automatic");
    let ev = evidence(inc);
    // The NameNode's 10.0.0.12 is dn2 (its banner says so): one server, not two.
    assert!(ev.contains("1 of 3 DataNodes down"), "{ev}");
    assert!(ev.contains("dn2 at 02:00:00"), "{ev}");
    assert!(!ev.contains("10.0.0.12"), "{ev}");
    assert!(also.contains(&"single-worker"), "{also:?}");
    assert!(
        !id.into_iter()
            .chain(also.iter().copied())
            .any(|s| s.starts_with("intervention.") || s.starts_with("data-loss.")),
        "{also:?}"
    );
    assert_eq!(down_hosts(inc, "datanode"), ["dn2"]);
    assert_eq!(inc["failed"]["down"].as_array().unwrap().len(), 1);
    assert!(
        strs(&inc["first_steps"])[0].starts_with("No intervention is needed"),
        "{}",
        inc["first_steps"]
    );
}

#[test]
fn a_dead_datanode_alone_is_counted_by_its_banner_host() {
    let d = tempfile::tempdir().unwrap();
    datanode_lost(d.path());
    // Without the silence (a wide --silence), the NameNode's report alone says dn2 is down.
    let v = scan(d.path(), &[]);
    let inc = &incidents(&v)[0];
    assert_eq!(rules_of(&inc["chain"]), ["hdfs.datanode-dead"]);
    assert_eq!(scenario_ids(inc).0, Some("automatic.datanode"), "{inc:#}");
    assert!(evidence(inc).contains("1 of 3 DataNodes down: dn2 at 02:10:30"));
    assert_eq!(down_hosts(inc, "datanode"), ["dn2"]);
}

#[test]
fn three_datanodes_of_four_lost_need_intervention() {
    let d = tempfile::tempdir().unwrap();
    datanodes_lost(d.path(), 4, &[1, 2, 3], &[]);
    let v = scan(d.path(), &["--silence=10m"]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];
    assert_eq!(
        silent(&v),
        pairs(&[
            ("dn1", "datanode"),
            ("dn2", "datanode"),
            ("dn3", "datanode")
        ])
    );
    assert!(rules_of(&inc["chain"]).contains(&"hdfs.multiple-datanodes-dead"));
    let (id, also) = scenario_ids(inc);
    assert_eq!(id, Some("intervention.datanodes"), "{inc:#}");
    assert!(
        evidence(inc).contains("3 of 4 DataNodes down"),
        "{}",
        evidence(inc)
    );
    assert!(also.contains(&"intervention.several-servers"), "{also:?}");
    assert!(!also.contains(&"automatic.datanode"), "{also:?}");
    assert_eq!(down_hosts(inc, "datanode"), ["dn1", "dn2", "dn3"]);
}

#[test]
fn a_dead_datanode_whose_own_log_goes_on_is_not_counted() {
    let d = tempfile::tempdir().unwrap();
    // The NameNode declares dn2 dead at 02:10:30, but dn2 logs on until 02:29:30.
    datanodes_lost(d.path(), 3, &[], &[2]);
    let v = scan(d.path(), &["--silence=10m"]);
    assert!(silent(&v).is_empty());
    let inc = &incidents(&v)[0];
    assert_eq!(rules_of(&inc["chain"]), ["hdfs.datanode-dead"]);
    assert!(down_hosts(inc, "datanode").is_empty(), "{inc:#}");
    assert!(inc["scenario"].is_null(), "{inc:#}");
}

// ----------------------------------------------------------------------------- 3. tserver

#[test]
fn a_tablet_server_killed_without_a_word_is_found_by_its_silence() {
    let d = tempfile::tempdir().unwrap();
    tserver_killed(d.path());
    let v = scan(d.path(), &["--silence=10m"]);
    assert_eq!(silent(&v), pairs(&[("node3", "tserver")]));
    let f = findings_of(&v, "jvm.stopped-logging")[0];
    assert_eq!(
        f["summary"],
        "tserver stopped logging at 2024-03-11 02:05:00, 25m before the sweep's last event"
    );
    assert_eq!(f["evidence"][0]["line"], 31);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];
    assert_eq!(
        rules_of(&inc["chain"]),
        ["jvm.stopped-logging", "accumulo.lost-servers"]
    );
    let (id, also) = scenario_ids(inc);
    assert_eq!(id, Some("automatic.tserver"), "{inc:#}");
    assert_eq!(inc["scenario"]["class"], "automatic");
    let ev = evidence(inc);
    assert!(
        ev.contains("1 of 3 tablet servers down: node3 at 02:05:00"),
        "{ev}"
    );
    assert!(also.contains(&"single-worker"), "{also:?}");
    assert!(
        !also
            .iter()
            .any(|s| s.starts_with("intervention.") || s.starts_with("data-loss.")),
        "{also:?}"
    );
    // The master's report and the silence are one server.
    assert_eq!(down_hosts(inc, "tserver"), ["node3"]);
    assert_eq!(inc["failed"]["down"].as_array().unwrap().len(), 1);

    // A wider --silence hides the silence; the master's report alone still counts node3.
    let v = scan(d.path(), &["--silence=1h"]);
    assert!(silent(&v).is_empty());
    let inc = &incidents(&v)[0];
    assert_eq!(scenario_ids(inc).0, Some("automatic.tserver"), "{inc:#}");
    assert!(evidence(inc).contains("1 of 3 tablet servers down: node3 at 02:05:40"));
}

// ----------------------------------------------------------------------------- 4. PostgreSQL

#[test]
fn postgresql_gone_while_the_application_runs_is_potential_data_loss() {
    let d = tempfile::tempdir().unwrap();
    postgresql_refused(d.path(), false);
    let v = scan(d.path(), &[]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];
    assert_eq!(
        rules_of(&inc["chain"]),
        ["postgresql.jdbc-connection-refused"]
    );
    assert_eq!(inc["origin"]["rule"], "postgresql.jdbc-connection-refused");
    assert_eq!(inc["chain"][0]["host"], "app1");
    assert_eq!(inc["chain"][0]["count"], 3);
    let (id, _) = scenario_ids(inc);
    assert_eq!(id, Some("data-loss.postgresql"), "{inc:#}");
    assert_eq!(inc["scenario"]["class"], "data-loss");
    let ev = evidence(inc);
    assert!(
        ev.contains("1 of 1 PostgreSQL server down: db1 at 02:10:02"),
        "{ev}"
    );
    assert!(
        ev.contains("koverse-server on app1 went on logging until 2024-03-11 02:30:00"),
        "{ev}"
    );
    assert_eq!(down_hosts(inc, "postgresql"), ["db1"]);
    assert!(
        strs(&inc["first_steps"])[0].starts_with("Bring PostgreSQL back first"),
        "{}",
        inc["first_steps"]
    );
}

#[test]
fn a_refusal_the_databases_own_log_refutes_is_not_counted() {
    let d = tempfile::tempdir().unwrap();
    postgresql_refused(d.path(), true);
    let v = scan(d.path(), &[]);
    let incs = incidents(&v);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];
    // The refusals are still a finding (the application could not connect) ...
    assert_eq!(
        rules_of(&inc["chain"]),
        ["postgresql.jdbc-connection-refused"]
    );
    // ... but db1's own log went on checkpointing until 02:30: it was not down.
    let (id, also) = scenario_ids(inc);
    assert_ne!(id, Some("data-loss.postgresql"), "{inc:#}");
    assert!(!also.contains(&"data-loss.postgresql"), "{also:?}");
    assert!(down_hosts(inc, "postgresql").is_empty(), "{inc:#}");
    assert!(inc["scenario"].is_null(), "{inc:#}");
}

#[test]
fn the_applications_log_goes_on_whether_or_not_its_folder_names_its_host() {
    // The same outage, the application's log collected alone as app1/koverse/koverse-server.log:
    // `koverse` is no service folder and app1 has no sibling, so the log has no host.
    let d = tempfile::tempdir().unwrap();
    postgresql_refused_in(d.path(), "app1/koverse/koverse-server.log", false);
    let v = scan(d.path(), &[]);
    let inc = &incidents(&v)[0];
    // PostgreSQL is counted down (1 of 1) and the application logged for 19 minutes after
    // the first refusal: the Run Book's "while systems that depend on them are running".
    assert_eq!(down_hosts(inc, "postgresql"), ["db1"]);
    assert_eq!(scenario_ids(inc).0, Some("data-loss.postgresql"), "{inc:#}");
}
