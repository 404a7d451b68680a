//! Logs of a small cluster for the story tests (tests/scenarios.rs, tests/story_edges.rs):
//! each service's real layout and real message texts (../shared/signatures.md, the packs'
//! examples), benign lines around the failures, and the JSON accessors the tests share.

use super::{RunExt, json, logtriage_scan, write};
use serde_json::Value;
use std::path::Path;

pub const DAY: &str = "2024-03-11";

/// Benign lines of a layout, one per `step` seconds from `from` (HH:MM:SS) for `n` lines.
pub fn benign(fmt: impl Fn(&str) -> String, from: (u32, u32, u32), n: u32, step: u32) -> String {
    let mut out = String::new();
    let start = from.0 * 3600 + from.1 * 60 + from.2;
    for i in 0..n {
        let t = start + i * step;
        out.push_str(&fmt(&format!(
            "{:02}:{:02}:{:02}",
            t / 3600,
            t / 60 % 60,
            t % 60
        )));
        out.push('\n');
    }
    out
}

// ----------------------------------------------------------------------------- layouts

/// ZooKeeper 3.4's `%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n`.
pub fn zk(id: u32, t: &str, level: &str, thread: &str, msg: &str) -> String {
    format!("{DAY} {t} [myid:{id}] - {level:<5} [{thread}] - {msg}\n")
}

/// A ZooKeeper server accepting client connections.
pub fn zk_benign(id: u32, from: (u32, u32, u32), n: u32, step: u32) -> String {
    benign(
        |t| {
            zk(
                id,
                &format!("{t},100"),
                "INFO",
                "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197",
                "Accepted socket connection from /10.0.0.21:43278",
            )
            .trim_end()
            .to_string()
        },
        from,
        n,
        step,
    )
}

/// Accumulo 1.x's `%d{ISO8601} [%-8c{2}] %-5p: %m%n` (`INFO :`, `WARN :`, `ERROR:`).
pub fn acc(t: &str, logger: &str, level: &str, msg: &str) -> String {
    format!("{DAY} {t} [{logger}] {level:<5}: {msg}\n")
}

pub fn tserver_benign(from: (u32, u32, u32), n: u32, step: u32) -> String {
    benign(
        |t| {
            acc(
                &format!("{t},010"),
                "tserver.TabletServer",
                "INFO",
                "Adding 1 logs for extent !0;~ as alias 2",
            )
            .trim_end()
            .to_string()
        },
        from,
        n,
        step,
    )
}

pub fn master_benign(from: (u32, u32, u32), n: u32, step: u32) -> String {
    benign(
        |t| {
            acc(
                &format!("{t},608"),
                "master.Master",
                "INFO",
                "Assigning 1 tablets",
            )
            .trim_end()
            .to_string()
        },
        from,
        n,
        step,
    )
}

/// Hadoop's daemon layout `%d{ISO8601} %p %c: %m%n`.
pub fn hadoop(t: &str, level: &str, logger: &str, msg: &str) -> String {
    format!("{DAY} {t} {level} {logger}: {msg}\n")
}

pub const DATANODE: &str = "org.apache.hadoop.hdfs.server.datanode.DataNode";

/// A DataNode's start-up banner, naming its host and address.
pub fn datanode_banner(t: &str, host: &str, ip: &str) -> String {
    format!(
        "{DAY} {t} INFO {DATANODE}: STARTUP_MSG: \n\
         /************************************************************\n\
         STARTUP_MSG: Starting DataNode\n\
         STARTUP_MSG:   host = {host}/{ip}\n\
         STARTUP_MSG:   args = []\n\
         STARTUP_MSG:   version = 2.7.3\n\
         ************************************************************/\n"
    )
}

/// A DataNode receiving blocks from its peers.
pub fn datanode_benign(ip: &str, from: (u32, u32, u32), n: u32, step: u32) -> String {
    benign(
        |t| {
            hadoop(
                &format!("{t},011"),
                "INFO",
                DATANODE,
                &format!(
                    "Receiving BP-1347369012-10.0.0.20-1444972147527:blk_1073743512_2731 src: /10.0.0.5:35692 dest: /{ip}:50010"
                ),
            )
            .trim_end()
            .to_string()
        },
        from,
        n,
        step,
    )
}

pub fn namenode_benign(from: (u32, u32, u32), n: u32, step: u32) -> String {
    benign(
        |t| {
            hadoop(
                &format!("{t},200"),
                "INFO",
                "org.apache.hadoop.hdfs.server.namenode.FSNamesystem",
                "Roll Edit Log from 10.0.0.21",
            )
            .trim_end()
            .to_string()
        },
        from,
        n,
        step,
    )
}

/// The Koverse server's `%d{ISO8601} %-5p [%c] - %m%n`.
pub fn koverse(t: &str, level: &str, logger: &str, msg: &str) -> String {
    format!("{DAY} {t} {level:<5} [{logger}] - {msg}\n")
}

pub fn koverse_benign(from: (u32, u32, u32), n: u32, step: u32) -> String {
    benign(
        |t| {
            koverse(
                &format!("{t},001"),
                "INFO",
                "com.koverse.server.Server",
                "Still serving",
            )
            .trim_end()
            .to_string()
        },
        from,
        n,
        step,
    )
}

/// PostgreSQL's `%m [%p] ` prefix, times in UTC.
pub fn pg_benign(from: (u32, u32, u32), n: u32, step: u32) -> String {
    benign(
        |t| format!("{DAY} {t}.000 UTC [84969] LOG:  checkpoint starting: time"),
        from,
        n,
        step,
    )
}

// ----------------------------------------------------------------------------- running it

/// `logtriage scan --format=json` with `--tz=UTC` and `--silence=24h` unless `extra` gives
/// them, expecting exit code `code`; `duration_ms` blanked.
pub fn scan_code(d: &Path, extra: &[&str], code: i32) -> Value {
    let given = |opt: &str| extra.iter().any(|a| a.starts_with(opt));
    let out = logtriage_scan()
        .args(["--format=json"])
        .args((!given("--tz")).then_some("--tz=UTC"))
        .args((!given("--silence")).then_some("--silence=24h"))
        .args(extra)
        .arg(d)
        .stdout_for(code);
    let mut v = json(&out);
    v["scan"]["duration_ms"] = Value::Null;
    v
}

pub fn scan(d: &Path, extra: &[&str]) -> Value {
    scan_code(d, extra, 1)
}

pub fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap_or_else(|| panic!("not a string: {x}")))
        .collect()
}

pub fn rules_of(chain: &Value) -> Vec<&str> {
    chain
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rule"].as_str().unwrap())
        .collect()
}

pub fn incidents(v: &Value) -> &Vec<Value> {
    v["incidents"].as_array().expect("incidents[]")
}

/// The scenario's id (None when null) and the ids in `also`.
pub fn scenario_ids(inc: &Value) -> (Option<&str>, Vec<&str>) {
    let also = inc["also"]
        .as_array()
        .expect("also[]")
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    (inc["scenario"]["id"].as_str(), also)
}

/// The scenario's evidence in one string.
pub fn evidence(inc: &Value) -> String {
    strs(&inc["scenario"]["evidence"]).join(" | ")
}

/// The hosts `failed.down` lists for a role, in its order.
pub fn down_hosts<'a>(inc: &'a Value, role: &str) -> Vec<&'a str> {
    inc["failed"]["down"]
        .as_array()
        .expect("failed.down")
        .iter()
        .filter(|s| s["role"] == role)
        .map(|s| s["host"].as_str().unwrap_or("?"))
        .collect()
}

pub fn findings_of<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The (host, service) of every "stopped logging" finding, sorted.
pub fn silent(v: &Value) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = findings_of(v, "jvm.stopped-logging")
        .iter()
        .map(|f| {
            (
                f["host"].as_str().unwrap_or("?").to_string(),
                f["service"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    s.sort();
    s
}

pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(h, s)| (h.to_string(), s.to_string()))
        .collect()
}

// ----------------------------------------------------------------------------- fixtures

/// Three ZooKeeper servers, tablet servers on node1..node3, the master on node1 and the Koverse
/// server on app1. zk3 is killed without a word at 02:09:50; zk2 is restarted by its supervisor
/// at 02:10:02, cannot load its database and exits abnormally at 02:10:05; the leader zk1 loses
/// its quorum at 02:10:21. With `all_down` zk1 dies too right after (its log ends at 02:10:21),
/// otherwise it goes on looking for a leader until 02:40. The tablet servers lose their ZooKeeper
/// connection at 02:10:30; node3's loses its lock and exits at 02:12:01; the master loses it at
/// 02:12:30 and goes on; the application's writes are rejected from 02:13 while it goes on
/// logging until 02:45.
pub fn zookeeper_quorum_loss(d: &Path, all_down: bool) {
    let mut zk1 = zk_benign(1, (1, 50, 0), 41, 30);
    zk1.push_str(&zk(
        1,
        "02:10:21,004",
        "INFO",
        "QuorumPeer[myid=1]/0.0.0.0:2181:Leader@600",
        "Shutdown called\njava.lang.Exception: shutdown Leader! reason: Not sufficient followers synced, only synced with sids: [ 1 ]\n\tat org.apache.zookeeper.server.quorum.Leader.shutdown(Leader.java:600)\n\tat org.apache.zookeeper.server.quorum.Leader.lead(Leader.java:574)\n\tat org.apache.zookeeper.server.quorum.QuorumPeer.run(QuorumPeer.java:1092)",
    ));
    zk1.push_str(&zk(
        1,
        "02:10:21,010",
        "INFO",
        "QuorumPeer[myid=1]/0.0.0.0:2181:QuorumPeer@738",
        "LOOKING",
    ));
    if !all_down {
        zk1.push_str(&benign(
            |t| {
                zk(
                    1,
                    &format!("{t},400"),
                    "INFO",
                    "QuorumPeer[myid=1]/0.0.0.0:2181:FastLeaderElection@849",
                    "Notification time out: 60000",
                )
                .trim_end()
                .to_string()
            },
            (2, 11, 21),
            30,
            60,
        ));
    }
    write(d, "zk1/zookeeper/zookeeper.log", zk1.as_bytes());

    let mut zk2 = zk_benign(2, (1, 50, 10), 40, 30);
    zk2.push_str(&zk(
        2,
        "02:10:02,001",
        "INFO",
        "main:QuorumPeerMain@127",
        "Starting quorum peer",
    ));
    zk2.push_str(&zk(
        2,
        "02:10:05,204",
        "ERROR",
        "main:QuorumPeer@453",
        "Unable to load database on disk\njava.io.EOFException\n\tat java.io.DataInputStream.readInt(DataInputStream.java:392)\n\tat org.apache.jute.BinaryInputArchive.readInt(BinaryInputArchive.java:63)",
    ));
    zk2.push_str(&zk(
        2,
        "02:10:05,210",
        "ERROR",
        "main:QuorumPeerMain@114",
        "Unexpected exception, exiting abnormally\njava.lang.RuntimeException: Unable to run quorum server\n\tat org.apache.zookeeper.server.quorum.QuorumPeer.loadDataBase(QuorumPeer.java:1192)\n\tat org.apache.zookeeper.server.quorum.QuorumPeer.start(QuorumPeer.java:1130)\n\tat org.apache.zookeeper.server.quorum.QuorumPeerMain.runFromConfig(QuorumPeerMain.java:229)",
    ));
    write(d, "zk2/zookeeper/zookeeper.log", zk2.as_bytes());

    write(
        d,
        "zk3/zookeeper/zookeeper.log",
        zk_benign(3, (1, 50, 20), 40, 30).as_bytes(),
    );

    for node in ["node1", "node2", "node3"] {
        let mut ts = tserver_benign((1, 50, 5), 40, 30);
        ts.push_str(&acc(
            "02:10:30,112",
            "zookeeper.ZooLock",
            "WARN",
            "lost connection to zookeeper",
        ));
        if node == "node3" {
            ts.push_str(&acc(
                "02:12:01,010",
                "tserver.TabletServer",
                "ERROR",
                "Lost tablet server lock (reason = SESSION_EXPIRED), exiting.",
            ));
        } else {
            ts.push_str(&tserver_benign((2, 11, 5), 30, 60));
        }
        write(
            d,
            &format!("{node}/accumulo/tserver_{node}.log"),
            ts.as_bytes(),
        );
    }

    let mut master = master_benign((1, 50, 15), 40, 30);
    master.push_str(&acc(
        "02:12:30,608",
        "master.Master",
        "WARN",
        "Lost servers [node3:9997[100006d30700006]]",
    ));
    master.push_str(&master_benign((2, 13, 15), 27, 60));
    write(d, "node1/accumulo/master_node1.log", master.as_bytes());

    let mut app = koverse_benign((1, 50, 0), 46, 30);
    for t in ["02:13:00", "02:18:00", "02:23:00", "02:28:00"] {
        app.push_str(&koverse(
            &format!("{t},208"),
            "ERROR",
            "com.koverse.server.ingest.RecordWriter",
            "Failed to flush records\norg.apache.accumulo.core.client.MutationsRejectedException: # constraint violations : 0  security codes: {}  # server errors 0 # exceptions 1\n\tat org.apache.accumulo.core.client.impl.TabletServerBatchWriter.checkForFailures(TabletServerBatchWriter.java:556)",
        ));
    }
    app.push_str(&koverse_benign((2, 30, 0), 31, 30));
    write(d, "app1/koverse/koverse-server.log", app.as_bytes());
}

/// A NameNode on nn1 and DataNodes dn1..dn3 (10.0.0.11..13), each with its start-up banner.
/// dn2's log ends at 02:00:00 without a word; the NameNode declares 10.0.0.12:50010 dead at
/// 02:10:30 and re-replicates; the rest log on until 02:29:30.
pub fn datanode_lost(d: &Path) {
    datanodes_lost(d, 3, &[2], &[]);
}

/// A NameNode on nn1 and DataNodes dn1..dn`n` (10.0.0.11..), each with its start-up banner.
/// The DataNodes in `dead` stop logging at 02:00:00 without a word, and the NameNode declares
/// them dead at 02:10:30, one a second; those in `alive` it declares dead too, but they log on
/// (a long pause, a network partition). The rest log on until 02:29:30.
pub fn datanodes_lost(d: &Path, n: u32, dead: &[u32], alive: &[u32]) {
    let mut nn = namenode_benign((1, 50, 0), 42, 30);
    for (k, i) in dead.iter().chain(alive).enumerate() {
        nn.push_str(&hadoop(
            &format!("02:10:3{k},118"),
            "INFO",
            "org.apache.hadoop.hdfs.StateChange",
            &format!("BLOCK* removeDeadDatanode: lost heartbeat from 10.0.0.1{i}:50010"),
        ));
        nn.push_str(&hadoop(
            &format!("02:10:3{k},119"),
            "INFO",
            "org.apache.hadoop.net.NetworkTopology",
            &format!("Removing a node: /default-rack/10.0.0.1{i}:50010"),
        ));
    }
    nn.push_str(&namenode_benign((2, 11, 0), 38, 30));
    write(
        d,
        "nn1/hadoop-hdfs/hadoop-hdfs-namenode-nn1.log",
        nn.as_bytes(),
    );
    for i in 1..=n {
        let (host, ip) = (format!("dn{i}"), format!("10.0.0.1{i}"));
        let mut dn = datanode_banner("01:45:00,100", &host, &ip);
        dn.push_str(&hadoop(
            "01:45:05,000",
            "INFO",
            DATANODE,
            "Block pool BP-1347369012-10.0.0.20-1444972147527 (Datanode Uuid 0b5b2d9b-6a31-4e5b-9e5f-3c1d2f0a9b11) service to nn1/10.0.0.20:8020 successfully registered with NN",
        ));
        let lines = if dead.contains(&i) { 21 } else { 80 };
        dn.push_str(&datanode_benign(&ip, (1, 50, 0), lines, 30));
        write(
            d,
            &format!("{host}/hadoop-hdfs/hadoop-hdfs-datanode-{host}.log"),
            dn.as_bytes(),
        );
    }
}

/// Tablet servers on node1..node3 and the master on node0; node3's tablet server is killed
/// (kill -9, the OOM killer) at 02:05:00 and writes nothing more; the master sees it gone at
/// 02:05:40; the rest log on until 02:30.
pub fn tserver_killed(d: &Path) {
    for node in ["node1", "node2", "node3"] {
        let n = if node == "node3" { 31 } else { 81 };
        write(
            d,
            &format!("{node}/accumulo/tserver_{node}.log"),
            tserver_benign((1, 50, 0), n, 30).as_bytes(),
        );
    }
    let mut master = master_benign((1, 50, 15), 30, 30);
    master.push_str(&acc(
        "02:05:40,608",
        "master.Master",
        "WARN",
        "Lost servers [node3:9997[100006d30700006]]",
    ));
    master.push_str(&master_benign((2, 6, 15), 48, 30));
    write(d, "node0/accumulo/master_node0.log", master.as_bytes());
}

/// The Koverse server on app1 cannot reach PostgreSQL on db1 from 02:10:02 (three refusals,
/// 30 s apart) and logs on until 02:30; its log is where the Run Book puts it
/// (/var/log/koverse-server/), so `app1/` names its host. With `pg_log`, db1's own log is in
/// the sweep and shows PostgreSQL checkpointing every 5 minutes from 02:00 to 02:30: it was
/// there.
pub fn postgresql_refused(d: &Path, pg_log: bool) {
    postgresql_refused_in(d, "app1/koverse-server/koverse-server.log", pg_log);
}

pub fn postgresql_refused_in(d: &Path, app_log: &str, pg_log: bool) {
    let mut app = koverse_benign((2, 0, 0), 20, 30);
    for t in ["02:10:02", "02:10:32", "02:11:02"] {
        app.push_str(&koverse(
            &format!("{t},331"),
            "ERROR",
            "com.zaxxer.hikari.pool.HikariPool",
            "HikariPool-1 - Exception during pool initialization.\norg.postgresql.util.PSQLException: Connection to db1:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.\n\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:319)\nCaused by: java.net.ConnectException: Connection refused (Connection refused)\n\tat java.net.PlainSocketImpl.socketConnect(Native Method)",
        ));
    }
    app.push_str(&koverse_benign((2, 11, 30), 38, 30));
    write(d, app_log, app.as_bytes());
    if pg_log {
        write(
            d,
            "db1/postgresql/postgresql-2024-03-11_000000.log",
            pg_benign((2, 0, 0), 7, 300).as_bytes(),
        );
    }
}

// ----------------------------------------------------------------------------- 1. ZooKeeper
