//! A sweep over the logs of a whole cluster during one incident (`tests/fixtures/cluster`, every
//! layout of the stack, none of it from `samples/`), checked against the table of planted
//! failures in `tests/fixtures/EXPECTED-cluster.md`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster")
}

/// Rows of one section of EXPECTED-cluster.md as (file, line).
fn rows(section: char) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(fixture().with_file_name("EXPECTED-cluster.md")).unwrap();
    let mut cur = ' ';
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            cur = h.chars().next().unwrap_or(' ');
            continue;
        }
        if cur != section || !line.starts_with("| ") {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || cells[1].parse::<u32>().is_err() {
            continue;
        }
        // The first `code` span of the cell: `file` or `file:line`.
        let file = cells[2].split('`').nth(1).unwrap_or(cells[2]);
        match file.rsplit_once(':') {
            // `file:line` (sections C and D)
            Some((f, l)) if l.parse::<u64>().is_ok() => {
                out.push((f.to_string(), l.parse().unwrap()))
            }
            // `file` | line (sections A and B)
            _ => out.push((file.to_string(), cells[3].parse().unwrap())),
        }
    }
    assert!(!out.is_empty(), "no rows in section {section}");
    out
}

/// Reported occurrences: (file, line) -> [(rule, severity)].
type Seen = BTreeMap<(String, u64), Vec<(String, String)>>;

fn sweep() -> (Seen, serde_json::Value) {
    let root = fixture();
    let ndjson_out = assert_cmd::Command::cargo_bin("logtriage")
        .unwrap()
        .args(["scan", "--format=ndjson"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(ndjson_out.status.code(), Some(1));
    let mut seen: Seen = BTreeMap::new();
    for o in ndjson(&ndjson_out.stdout) {
        let path = o["path"].as_str().unwrap();
        let rel = Path::new(path)
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        seen.entry((rel, o["line"].as_u64().unwrap()))
            .or_default()
            .push((
                o["rule"].as_str().unwrap().to_string(),
                o["severity"].as_str().unwrap().to_string(),
            ));
    }
    let json_out = assert_cmd::Command::cargo_bin("logtriage")
        .unwrap()
        .args(["scan", "--format=json"])
        .arg(&root)
        .output()
        .unwrap();
    (seen, json(&json_out.stdout))
}

/// Planted rows the scanner does not report, on purpose.
const NOT_REPORTED: &[(&str, u64, &str)] = &[
    // ZooKeeper 3.4's ClientCnxn logs each of these at WARN, then again at INFO with
    // ", closing socket connection ..." appended; the WARN line just above is reported.
    (
        "app1/kafka/server.log",
        9,
        "INFO twin of the WARN at line 8",
    ),
    (
        "app1/kafka/server.log",
        23,
        "INFO twin of the WARN at line 22",
    ),
    (
        "app1/koverse-server/koverse-server.log",
        58,
        "INFO twin of the WARN at line 57",
    ),
    // Accumulo 1.x writes these to master_app1.debug.log too: counted once, from there (the
    // debug log's rows 1, 6, 9, 17, 18 and 23 of this table).
    (
        "app1/accumulo/master_app1.log",
        1,
        "counted from master_app1.debug.log",
    ),
    (
        "app1/accumulo/master_app1.log",
        8,
        "counted from master_app1.debug.log",
    ),
    (
        "app1/accumulo/master_app1.log",
        9,
        "counted from master_app1.debug.log",
    ),
    (
        "app1/accumulo/master_app1.log",
        10,
        "counted from master_app1.debug.log",
    ),
    (
        "app1/accumulo/master_app1.log",
        12,
        "counted from master_app1.debug.log",
    ),
    (
        "app1/accumulo/master_app1.log",
        17,
        "counted from master_app1.debug.log",
    ),
    // `shutdown called` / `java.lang.Exception: shutdown Follower` is also logged on every clean
    // stop; the failure is reported at line 16 ("Exception when following the leader").
    (
        "nn1/zookeeper/zookeeper.log",
        25,
        "also logged on clean shutdown",
    ),
];

#[test]
fn every_planted_failure_is_reported_at_its_header_line() {
    let (seen, _) = sweep();
    let skip: BTreeSet<(String, u64)> = NOT_REPORTED
        .iter()
        .map(|(f, l, _)| (f.to_string(), *l))
        .collect();
    let planted = rows('A');
    assert!(planted.len() >= 150, "{} rows", planted.len());
    let missed: Vec<_> = planted
        .iter()
        .filter(|r| !skip.contains(r) && !seen.contains_key(r))
        .collect();
    assert!(
        missed.is_empty(),
        "planted failures not reported: {missed:?}"
    );
}

#[test]
fn benign_lines_and_continuation_lines_are_never_reported() {
    let (seen, _) = sweep();
    for r in rows('C') {
        if let Some(found) = seen.get(&r) {
            assert!(
                found.iter().all(|(_, sev)| sev == "low" || sev == "info"),
                "benign line {r:?} reported as {found:?}"
            );
        }
    }
}

/// The lines of a fixture file (gunzipped when it is gzip, whatever its name).
fn file_lines(rel: &str) -> Vec<String> {
    use std::io::Read;
    let raw = std::fs::read(fixture().join(rel)).unwrap();
    let mut text = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut text)
            .unwrap();
    } else {
        text = raw;
    }
    String::from_utf8_lossy(&text)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

#[test]
fn every_occurrence_is_anchored_at_the_header_line_of_its_event() {
    let root = fixture();
    let out = assert_cmd::Command::cargo_bin("logtriage")
        .unwrap()
        .args(["scan", "--format=ndjson"])
        .arg(&root)
        .output()
        .unwrap();
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let occurrences = ndjson(&out.stdout);
    assert!(occurrences.len() >= 150);
    for o in occurrences {
        let rel = Path::new(o["path"].as_str().unwrap())
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let lines = files.entry(rel.clone()).or_insert_with(|| file_lines(&rel));
        let n = o["line"].as_u64().unwrap() as usize;
        let header = o["text"].as_str().unwrap().lines().next().unwrap();
        assert_eq!(
            lines[n - 1],
            header,
            "{rel}:{n} is not where the event's text starts"
        );
        assert!(
            !header.starts_with('\t') && !header.starts_with("Caused by:"),
            "{rel}:{n} is a continuation line"
        );
    }
}

#[test]
fn triage_starts_in_the_storage_layer_and_every_layout_is_recognised() {
    let (_, v) = sweep();
    assert_eq!(
        v["triage"][0]["layer"], "storage-coordination",
        "{}",
        v["triage"]
    );
    let layers: Vec<&str> = v["triage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["layer"].as_str().unwrap())
        .collect();
    let mut sorted = layers.clone();
    sorted.sort_by_key(|l| {
        ["storage-coordination", "data-services", "application"]
            .iter()
            .position(|x| x == l)
    });
    assert_eq!(layers, sorted, "triage is lowest layer first");
    for layout in [
        "accumulo",
        "hadoop",
        "hadoop-mapreduce",
        "hadoop-console",
        "zookeeper",
        "kafka",
        "postgresql",
        "log4j",
        "console",
    ] {
        assert!(
            v["scan"]["layouts"][layout].as_u64().unwrap_or(0) >= 1,
            "layout {layout} not seen: {}",
            v["scan"]["layouts"]
        );
    }
    let sources = v["sources"].as_array().unwrap();
    let gz = sources
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("zookeeper.log.2"))
        .unwrap();
    assert_eq!(gz["compressed"], true);
    assert_eq!(gz["host"], "zk2");
    assert_eq!(v["errors"], serde_json::Value::Array(vec![]));
    // Findings name the service and host they came from.
    for f in v["findings"].as_array().unwrap() {
        assert!(f["host"].is_string(), "no host for {}", f["rule"]);
    }
}

#[test]
fn an_event_accumulo_writes_to_both_of_its_files_counts_once() {
    let (seen, v) = sweep();
    let lost: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "accumulo.lost-servers" && f["host"] == "app1")
        .collect();
    // "Lost servers" twice (dn3, then dn1), each in master_app1.log and its debug log.
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0]["count"], 2);
    assert_eq!(
        lost[0]["files"],
        serde_json::json!([fixture()
            .join("app1/accumulo/master_app1.debug.log")
            .to_string_lossy()])
    );
    assert!(
        !seen
            .keys()
            .any(|(f, _)| f == "app1/accumulo/master_app1.log")
    );
    let source = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["path"]
                .as_str()
                .unwrap()
                .ends_with("app1/accumulo/master_app1.log")
        })
        .unwrap();
    let note = source["note"].as_str().unwrap();
    assert!(
        note.starts_with("events from 2024-06-18T03:30:07.118 on are counted from ")
            && note.contains("master_app1.debug.log"),
        "{note}"
    );
}
