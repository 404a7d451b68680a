//! Unknown errors: error events no rule matched, grouped by template, counted exactly, with
//! their stack traces, on the right hosts; never a rule's event, never a stack line of its own.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use common::{RunExt, json, ndjson, write};
use serde_json::Value;

fn logtriage() -> Command {
    common::logtriage_scan()
}

/// A Koverse-style application log with planted unknown errors of known counts: three
/// templates (one with a stack trace whose root cause varies), ids and numbers varying, a
/// known failure (too many open files) that must stay a finding, and WARN noise.
fn planted(host_seed: u32) -> (String, BTreeMap<&'static str, u64>) {
    let mut log = String::new();
    let mut want = BTreeMap::new();
    for i in 0..120u32 {
        let (m, s) = (i / 60, i % 60);
        let ts = format!(
            "2024-03-11 03:{m:02}:{s:02},{:03}",
            (i * 7 + host_seed) % 1000
        );
        match i % 6 {
            0 => {
                log.push_str(&format!(
                    "{ts} ERROR [pool-{}-thread-{}] com.koverse.ingest.Normalizer - Cannot normalize record {} of dataset ds_{}: field 'ts' missing\n",
                    i % 4,
                    i % 9,
                    1000 + i * 13,
                    i % 5
                ));
                *want.entry("normalize").or_default() += 1;
            }
            1 => {
                log.push_str(&format!(
                    "{ts} ERROR [pool-1-thread-2] com.koverse.jobs.Scheduler - Job {} for dataset {} failed after {} ms\n",
                    7000 + i,
                    i % 3,
                    i * 11
                ));
                let cause = if i % 12 == 1 {
                    "java.lang.IllegalStateException: queue closed"
                } else {
                    "java.util.concurrent.TimeoutException: no answer in 30000 ms"
                };
                log.push_str(&format!(
                    "com.koverse.jobs.JobException: job failed\n\tat com.koverse.jobs.Scheduler.run(Scheduler.java:{})\n\tat java.lang.Thread.run(Thread.java:748)\nCaused by: {cause}\n\t... 2 more\n",
                    100 + i
                ));
                *want
                    .entry(if i % 12 == 1 {
                        "job-illegal"
                    } else {
                        "job-timeout"
                    })
                    .or_default() += 1;
            }
            2 => {
                log.push_str(&format!(
                    "{ts} WARN [main] com.koverse.web.Sessions - Session {} idle for {} s\n",
                    i * 31,
                    i
                ));
                *want.entry("warn-idle").or_default() += 1;
            }
            3 => {
                // A known failure at ERROR: a finding, never an unknown error.
                log.push_str(&format!(
                    "{ts} ERROR [com.koverse.server.ThriftServer] - Error accepting connection\njava.io.IOException: Too many open files\n\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n"
                ));
                *want.entry("known").or_default() += 1;
            }
            _ => {
                log.push_str(&format!(
                    "{ts} INFO [main] com.koverse.ingest.Normalizer - Normalized {} records\n",
                    i * 100
                ));
            }
        }
    }
    (log, want)
}

fn templates(v: &Value) -> &Vec<Value> {
    v["unknown"].as_array().unwrap()
}

#[test]
fn planted_unknown_errors_are_counted_exactly_by_template_on_both_hosts() {
    let d = tempfile::tempdir().unwrap();
    let (a, want) = planted(1);
    let (b, _) = planted(5);
    write(
        d.path(),
        "app1/koverse-server/koverse-server.log",
        a.as_bytes(),
    );
    write(
        d.path(),
        "app2/koverse-server/koverse-server.log",
        b.as_bytes(),
    );
    let v = json(&logtriage().arg("--format=json").arg(d.path()).stdout_for(1));
    let t = templates(&v);
    let counts: Vec<(String, u64, Vec<String>)> = t
        .iter()
        .map(|u| {
            (
                u["template"].as_str().unwrap().to_string(),
                u["count"].as_u64().unwrap(),
                u["hosts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    // Three templates: ids, numbers and threads masked; the job's two root causes apart.
    assert_eq!(t.len(), 3, "{counts:#?}");
    let find = |needle: &str, exception: Option<&str>| {
        t.iter()
            .find(|u| {
                u["template"].as_str().unwrap().contains(needle)
                    && exception.is_none_or(|e| u["exception"] == e)
            })
            .unwrap_or_else(|| panic!("{needle}: {counts:#?}"))
    };
    let normalize = find("Cannot normalize record", None);
    assert_eq!(normalize["count"], 2 * want["normalize"]);
    assert_eq!(normalize["hosts"], serde_json::json!(["app1", "app2"]));
    assert_eq!(normalize["level"], "ERROR");
    assert_eq!(normalize["severity"], "low");
    let timeout = find(
        "failed after",
        Some("java.util.concurrent.TimeoutException"),
    );
    assert_eq!(timeout["count"], 2 * want["job-timeout"]);
    let illegal = find("failed after", Some("java.lang.IllegalStateException"));
    assert_eq!(illegal["count"], 2 * want["job-illegal"]);
    assert_ne!(timeout["template_id"], illegal["template_id"]);
    // The evidence is the whole event, with its stack trace.
    let text = timeout["evidence"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("Caused by: java.util.concurrent.TimeoutException"),
        "{text}"
    );
    // The known failure is a finding, and never also unknown.
    let f = &v["findings"].as_array().unwrap();
    let known: u64 = f
        .iter()
        .filter(|f| f["rule"] == "jvm.too-many-open-files")
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(known, 2 * want["known"]);
    assert!(
        t.iter()
            .all(|u| !u["template"].as_str().unwrap().contains("accepting"))
    );
    // WARN events are not in the stream by default.
    assert!(t.iter().all(|u| u["level"] != "WARN"));
}

#[test]
fn stack_lines_are_never_events_and_ndjson_has_one_record_per_unknown_event() {
    let d = tempfile::tempdir().unwrap();
    let (a, want) = planted(1);
    let p = write(
        d.path(),
        "app1/koverse-server/koverse-server.log",
        a.as_bytes(),
    );
    let lines = ndjson(&logtriage().arg("--format=ndjson").arg(&p).stdout_for(1));
    let unknown: Vec<&Value> = lines.iter().filter(|l| l["rule"] == "unknown").collect();
    assert_eq!(
        unknown.len() as u64,
        want["normalize"] + want["job-timeout"] + want["job-illegal"]
    );
    let text: Vec<&str> = a.lines().collect();
    for u in &unknown {
        let n = u["line"].as_u64().unwrap() as usize;
        assert!(
            text[n - 1].contains(" ERROR ["),
            "line {n} is a header: {}",
            text[n - 1]
        );
        assert!(u["template_id"].as_str().is_some_and(|t| t.len() == 16));
        assert_eq!(u["severity"], "low");
    }
}

#[test]
fn unknown_off_and_warn_and_the_exit_code() {
    let d = tempfile::tempdir().unwrap();
    let (a, want) = planted(1);
    // Without the known failure, the unknown errors alone never fail the sweep at the default.
    let only_unknown: String = a
        .split_inclusive('\n')
        .filter(|l| !l.contains("accepting") && !l.contains("Too many") && !l.contains("accept0"))
        .collect();
    let p = write(d.path(), "koverse-server.log", only_unknown.as_bytes());
    let v = json(&logtriage().arg("--format=json").arg(&p).stdout_for(0));
    assert_eq!(templates(&v).len(), 3);
    let v = json(
        &logtriage()
            .args(["--format=json", "--unknown=off"])
            .arg(&p)
            .stdout_for(0),
    );
    assert!(templates(&v).is_empty());
    let v = json(
        &logtriage()
            .args(["--format=json", "--unknown=warn"])
            .arg(&p)
            .stdout_for(0),
    );
    let warn = templates(&v).iter().find(|u| u["level"] == "WARN").unwrap();
    assert_eq!(warn["count"], want["warn-idle"]);
    assert_eq!(warn["severity"], "info");
    // --fail-on low: unknown errors count.
    logtriage().args(["--fail-on=low"]).arg(&p).assert().code(1);
    // --min-severity medium: they are not reported.
    let v = json(
        &logtriage()
            .args(["--format=json", "--min-severity=medium"])
            .arg(&p)
            .stdout_for(0),
    );
    assert!(templates(&v).is_empty());
    // The human report shows them after the findings, one line each.
    let text = String::from_utf8(logtriage().arg(&p).stdout_for(0)).unwrap();
    assert!(
        text.contains("Not known to any rule (3 templates"),
        "{text}"
    );
}

/// Per file of ../shared/corpus: the unknown error events logtriage reports equal an
/// independent count: header lines at ERROR or FATAL (read with each layout's own pattern)
/// that no rule reported.
#[test]
fn corpus_unknown_errors_equal_an_independent_count() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let layouts: [(&str, &str); 4] = [
        (
            "Hadoop/Hadoop_2k.log",
            r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (ERROR|FATAL) ",
        ),
        ("HDFS/HDFS_2k.log", r"^\d{6} \d{6} \d+ (ERROR|FATAL) "),
        (
            "Zookeeper/Zookeeper_2k.log",
            r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (ERROR|FATAL) ",
        ),
        (
            "Spark/Spark_2k.log",
            r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (ERROR|FATAL) ",
        ),
    ];
    let mut total = 0;
    for (name, header) in layouts {
        let file = corpus.join(name);
        let re = regex::Regex::new(header).unwrap();
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).to_string();
        let error_lines: Vec<u64> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| re.is_match(l))
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let out = logtriage()
            .args(["--format=ndjson", "--fail-on=critical"])
            .arg(&file)
            .output()
            .unwrap();
        let records = ndjson(&out.stdout);
        let by_rules: std::collections::BTreeSet<u64> = records
            .iter()
            .filter(|r| r["rule"] != "unknown")
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        let unknown: Vec<u64> = records
            .iter()
            .filter(|r| r["rule"] == "unknown")
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        let expected: Vec<u64> = error_lines
            .into_iter()
            .filter(|l| !by_rules.contains(l))
            .collect();
        assert_eq!(unknown, expected, "{name}");
        total += unknown.len();
    }
    assert!(
        total >= 3,
        "the corpus holds error lines no rule knows: {total}"
    );
}

#[test]
fn unknown_errors_are_on_the_timeline_with_their_counts() {
    let d = tempfile::tempdir().unwrap();
    let (a, _) = planted(1);
    write(
        d.path(),
        "app1/koverse-server/koverse-server.log",
        a.as_bytes(),
    );
    let v = json(
        &logtriage()
            .args(["--format=json", "--tz=UTC"])
            .arg(d.path())
            .stdout_for(1),
    );
    let entries = v["timeline"]["entries"].as_array().unwrap();
    for u in templates(&v) {
        let id = u["template_id"].as_str().unwrap();
        let on_axis: Vec<&Value> = entries
            .iter()
            .filter(|e| e["rule"] == "unknown" && e["fingerprint"] == id)
            .collect();
        assert!(!on_axis.is_empty(), "template {id} is on the timeline");
        let counted: u64 = on_axis.iter().map(|e| e["count"].as_u64().unwrap()).sum();
        assert_eq!(counted, u["count"].as_u64().unwrap(), "{id}: every event");
        assert_eq!(on_axis[0]["title"], u["template"]);
        assert_eq!(on_axis[0]["host"], "app1");
        assert_eq!(on_axis[0]["time"], u["first_seen"]);
    }
}
