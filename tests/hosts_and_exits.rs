//! One name per host across a sweep, `--host` and `--stdin-name`, and the answers a sweep gives
//! when it could read nothing or only part: never a false all-clear, errors on stderr in every
//! format.

mod common;

use std::io::Write;

use assert_cmd::Command;
use common::{RunExt, gzip, json, tar_of, write};
use serde_json::Value;

fn logtriage() -> Command {
    common::logtriage_scan()
}

const TOO_MANY: &str = "2024-03-11 02:14:31,010 ERROR [pool-3-thread-7] org.apache.hadoop.hdfs.server.datanode.DataNode: IOException\njava.io.IOException: Too many open files\n\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n";
const LOST_LOCK: &str = "2024-03-11 02:15:02,345 [tserver.TabletServer] FATAL: Lost tablet server lock (reason = SESSION_EXPIRED), exiting.\n";

#[test]
fn a_bundle_mixing_short_and_full_names_has_one_name_per_host() {
    let bundle = gzip(&tar_of(&[
        (
            "incident-42/host2/hadoop/hadoop-hdfs-datanode-host2.example.com.log",
            TOO_MANY.as_bytes(),
        ),
        (
            "incident-42/host2/accumulo/tserver_host2.example.com.log",
            LOST_LOCK.as_bytes(),
        ),
        (
            "incident-42/host3.example.com/accumulo/tserver_host3.log",
            LOST_LOCK.as_bytes(),
        ),
    ]));
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "incident-42.tar.gz", &bundle);
    let v = json(&logtriage().arg("--format=json").arg(&p).stdout_for(1));
    let hosts: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts.len(), 3, "{}", v["findings"]);
    assert!(
        hosts.iter().all(|h| *h == "host2" || *h == "host3"),
        "{hosts:?}"
    );
    assert_eq!(
        v["hosts"],
        serde_json::json!([
            {"name": "host2", "seen_as": ["host2.example.com"]},
            {"name": "host3", "seen_as": ["host3"]}
        ])
    );
    // Triage: one group per component and host, never host2 and host2.example.com apart.
    let groups: Vec<String> = v["triage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| format!("{} {}", g["component"], g["host"]))
        .collect();
    assert_eq!(groups.len(), 3, "{groups:?}");
    let sources: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["host"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["host2", "host2", "host3"]);
}

#[test]
fn two_machines_sharing_a_short_name_keep_their_full_names() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "east/hadoop-hdfs-datanode-dn1.east.example.com.log",
        TOO_MANY.as_bytes(),
    );
    write(
        d.path(),
        "west/hadoop-hdfs-datanode-dn1.west.example.com.log",
        TOO_MANY.as_bytes(),
    );
    let v = json(&logtriage().arg("--format=json").arg(d.path()).stdout_for(1));
    let mut hosts: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["host"].as_str().unwrap())
        .collect();
    hosts.sort();
    assert_eq!(hosts, ["dn1.east.example.com", "dn1.west.example.com"]);
}

#[test]
fn a_temporary_folder_is_no_host_and_host_names_the_machine() {
    let d = tempfile::tempdir().unwrap();
    // A folder named like mktemp's: letters, a dot, digits. Nothing says it is a machine.
    let p = write(
        d.path(),
        "tmp.Xk3f9a/koverse-server.log",
        TOO_MANY.replace("DataNode", "KoverseServer").as_bytes(),
    );
    let v = json(&logtriage().arg("--format=json").arg(&p).stdout_for(1));
    assert!(v["findings"][0]["host"].is_null(), "{}", v["findings"][0]);
    assert_eq!(v["hosts"], serde_json::json!([]));
    let v = json(
        &logtriage()
            .args(["--format=json", "--host", "app1.example.com"])
            .arg(&p)
            .stdout_for(1),
    );
    assert_eq!(v["findings"][0]["host"], "app1");
}

#[test]
fn stdin_takes_a_name_that_gives_it_a_service_and_its_rules() {
    let log = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/accumulo/tserver_node3.log"),
    )
    .unwrap();
    let out = logtriage()
        .args(["--format=json", "--stdin-name", "tserver_node3.log", "-"])
        .write_stdin(log.clone())
        .stdout_for(1);
    let v = json(&out);
    assert_eq!(v["sources"][0]["path"], "tserver_node3.log");
    assert_eq!(v["sources"][0]["service"], "tserver");
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"accumulo.tserver-lost-lock"), "{rules:?}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["host"] == "node3")
    );
    // Without the name: shown as <stdin>, no host (its loggers still say it is a tserver's).
    let v = json(
        &logtriage()
            .args(["--format=json", "-"])
            .write_stdin(log)
            .stdout_for(1),
    );
    assert_eq!(v["sources"][0]["path"], "<stdin>");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["host"].is_null())
    );
}

#[test]
fn a_sweep_that_scanned_nothing_exits_2_and_never_says_no_findings() {
    let d = tempfile::tempdir().unwrap();
    let bin = write(d.path(), "core.1234", b"\x7fELF\x00\x00\x01binary");
    for format in ["human", "json", "ndjson"] {
        let out = logtriage()
            .arg(format!("--format={format}"))
            .arg(&bin)
            .arg(d.path().join("missing.log"))
            .assert()
            .code(2);
        let o = out.get_output();
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!stdout.contains("No findings"), "{format}: {stdout}");
        assert!(stderr.contains("nothing was scanned"), "{format}: {stderr}");
        assert!(stderr.contains("missing.log"), "{format}: {stderr}");
        if format == "human" {
            assert!(stdout.contains("Nothing was scanned"), "{stdout}");
        }
    }
}

#[test]
fn unreadable_inputs_are_named_on_stderr_in_the_human_format_too() {
    let d = tempfile::tempdir().unwrap();
    let ok = write(d.path(), "koverse-server.log", TOO_MANY.as_bytes());
    let mut cut = gzip(TOO_MANY.repeat(200).as_bytes());
    cut.truncate(cut.len() / 2);
    let cut = write(d.path(), "koverse-server.log.2.gz", &cut);
    let report = d.path().join("report.txt");
    let o = logtriage()
        .arg(&ok)
        .arg(&cut)
        .arg(d.path().join("missing.log"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&o.get_output().stderr).to_string();
    assert!(stderr.contains("missing.log"), "{stderr}");
    assert!(stderr.contains("koverse-server.log.2.gz"), "{stderr}");
    let mut f = std::fs::File::create(&report).unwrap();
    f.write_all(&o.get_output().stdout).unwrap();
    let stdout = String::from_utf8_lossy(&o.get_output().stdout);
    assert!(stdout.contains("Could not read"), "{stdout}");
}

#[test]
fn a_host_named_only_inside_a_later_archive_is_said_about_plain_files_read_before() {
    let d = tempfile::tempdir().unwrap();
    // A plain file in a folder nothing marks as a machine, then a bundle naming dn7 in full.
    let plain = write(d.path(), "a/dn7/current.log", TOO_MANY.as_bytes());
    let bundle = write(
        d.path(),
        "b/bundle.tar.gz",
        &gzip(&tar_of(&[(
            "hadoop-hdfs-datanode-dn7.example.com.log",
            TOO_MANY.as_bytes(),
        )])),
    );
    let v = json(
        &logtriage()
            .arg("--format=json")
            .arg(&plain)
            .arg(&bundle)
            .stdout_for(1),
    );
    let w = v["warnings"].to_string();
    assert!(w.contains("current.log") && w.contains("dn7"), "{w}");
    // The bundle's member is on dn7; the plain file stays where the paths given put it.
    let hosts: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["host"])
        .collect();
    assert!(hosts.contains(&&Value::from("dn7")), "{hosts:?}");
}

#[test]
fn the_machines_own_logs_are_the_machines_and_a_bundle_never_is() {
    // Run on the machine itself (paths under /var/log), the sweep names this machine.
    let Ok(own) = tempfile::Builder::new()
        .prefix("logtriage-test-")
        .tempdir_in("/var/log")
    else {
        println!("skipped: /var/log is not writable here");
        return;
    };
    let this = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let short = this.split('.').next().unwrap().to_string();
    let log = TOO_MANY.replace("DataNode", "KoverseServer");
    let p = write(own.path(), "koverse-server.log", log.as_bytes());
    let v = json(&logtriage().arg("--format=json").arg(&p).stdout_for(1));
    assert_eq!(
        v["findings"][0]["host"],
        short.as_str(),
        "{}",
        v["findings"][0]
    );
    // --host says otherwise.
    let v = json(
        &logtriage()
            .args(["--format=json", "--host", "app7"])
            .arg(&p)
            .stdout_for(1),
    );
    assert_eq!(v["findings"][0]["host"], "app7");
    // The same log in a bundle unpacked elsewhere, swept in the same run: not this machine's.
    let bundle = tempfile::tempdir().unwrap();
    let q = write(
        bundle.path(),
        "tmp.Xk3f9a/koverse-server.log",
        log.as_bytes(),
    );
    let v = json(
        &logtriage()
            .arg("--format=json")
            .arg(&q)
            .arg(&p)
            .stdout_for(1),
    );
    let hosts: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["host"])
        .collect();
    assert!(hosts.contains(&&Value::Null), "{hosts:?}");
    assert!(hosts.contains(&&Value::from(short.as_str())), "{hosts:?}");
}
