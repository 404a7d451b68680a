//! `scan --format html` in a real browser (Debian's chromium, headless): the page shows every
//! finding and host of the JSON, one timeline mark per timeline entry, loads nothing, shows
//! log text as text (never runs it), and its script sorts and filters from the URL's hash.
//! Without chromium the browser tests print "skipped: chromium not installed" and pass.

#[path = "common/browser.rs"]
mod browser;

use assert_cmd::Command;
use browser::*;

#[test]
fn samples_page_shows_every_finding_host_and_timeline_entry() {
    let (doc, html) = samples_page();
    assert!(html.starts_with("<!doctype html>"));
    assert_self_contained(&html, &doc);
    // The axis's ticks fall on round times (the samples span about four hours: every half
    // hour), the date on the first and when it changes.
    let ticks = texts_after(&html, r#"dy="-4">"#);
    assert!((4..=8).contains(&ticks.len()), "{ticks:?}");
    assert!(ticks[0].starts_with("2024-03-1"), "{ticks:?}");
    for t in &ticks {
        let minute: u32 = t[t.len() - 2..].parse().unwrap();
        assert!(
            t[..t.len() - 2].ends_with(':') && minute.is_multiple_of(30),
            "{ticks:?}"
        );
    }
    if !chromium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dom = dump_dom(&write_page(dir.path(), &html), "");
    assert!(dom.contains(r#"data-pwned="false""#));
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let fp = f["fingerprint"].as_str().unwrap();
        assert!(dom.contains(fp), "no finding {fp} in the page");
    }
    assert_eq!(finding_tags(&dom).len(), findings.len());
    assert_eq!(visible(&dom).len(), findings.len());
    let hosts = doc["hosts"].as_array().unwrap();
    assert!(!hosts.is_empty());
    for h in hosts {
        let name = h["name"].as_str().unwrap();
        assert!(dom.contains(name), "no host {name} in the page");
    }
    let entries = doc["timeline"]["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert_eq!(dom.matches(r#"<rect class="mark "#).count(), entries.len());
    // Shaded incident windows, the incidents and START HERE, the unknown templates.
    let incidents = doc["incidents"].as_array().unwrap();
    assert_eq!(
        dom.matches(r#"<g class="incident-shade">"#).count(),
        incidents.len()
    );
    assert_eq!(
        dom.matches(r#"<article class="incident""#).count(),
        incidents.len()
    );
    assert_eq!(
        dom.matches(r#"<li class="layer-"#).count(),
        doc["triage"].as_array().unwrap().len()
    );
    for u in doc["unknown"].as_array().unwrap() {
        let id = u["template_id"].as_str().unwrap();
        assert!(dom.contains(&format!(r#"id="u-{id}""#)), "no template {id}");
    }
}

#[test]
fn hash_filters_by_severity_and_host_and_sorts() {
    let (doc, html) = samples_page();
    if !chromium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = write_page(dir.path(), &html);
    let findings = doc["findings"].as_array().unwrap();
    let of = |sev: &str| findings.iter().filter(|f| f["severity"] == sev).count();
    assert!(of("high") > 0);

    // The findings' counts, in the order of the row groups' tags.
    let counts_of = |tags: &[&str]| -> Vec<u64> {
        let i = |t: &str| attr(t, "data-i").unwrap().parse::<usize>().unwrap();
        tags.iter()
            .map(|t| findings[i(t)]["count"].as_u64().unwrap())
            .collect()
    };

    let dom = dump_dom(&page, "#severity=high");
    let shown = visible(&dom);
    assert_eq!(shown.len(), of("high"));
    assert!(
        shown
            .iter()
            .all(|t| attr(t, "data-severity") == Some("high"))
    );
    assert!(dom.contains(&format!(
        r#"<span class="count" id="shown-count">{} of {}</span>"#,
        of("high"),
        findings.len()
    )));

    let dom = dump_dom(&page, "#host=node1&component=accumulo");
    let want = findings
        .iter()
        .filter(|f| f["host"] == "node1" && f["component"] == "accumulo")
        .count();
    assert!(want > 0);
    let shown = visible(&dom);
    assert_eq!(shown.len(), want);
    assert!(shown.iter().all(|t| attr(t, "data-host") == Some("node1")));

    // Most occurrences first; the table's rows follow the findings' counts.
    let dom = dump_dom(&page, "#sort=count");
    let counts = counts_of(&finding_tags(&dom));
    assert_eq!(counts.len(), findings.len());
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let mut sorted = counts.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(counts, sorted);
    assert!(counts.first() > counts.last());
    assert!(dom.contains(r#"data-sort="count" class="n" aria-sort="descending""#));

    let dom = dump_dom(&page, "#sort=count&dir=asc&severity=medium");
    let shown = visible(&dom);
    assert_eq!(shown.len(), of("medium"));
    let counts = counts_of(&shown);
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
}

const EVIL_PACK: &str = r#"[pack]
component = "app"
layer = "application"

[[rule]]
id = "test.evil"
title = "Evil payload seen"
severity = "high"
literals = ["EVILPAYLOAD"]
regex = 'EVILPAYLOAD (?P<what>.+)'
group_by = ["what"]
summary = "payload {what}"
runbook = ["Never run <script>window.__pwned=1</script>"]
"#;

const EVIL_LOG: &str = r#"2024-03-11 02:13:41,403 ERROR [main] com.example.Worker: EVILPAYLOAD <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> </script><script>window.__pwned=1</script>
2024-03-11 02:13:42,403 INFO [main] com.example.Worker: all good
2024-03-11 02:13:43,403 ERROR [main] com.example.Worker: Unexpected <script>window.__pwned=1</script> state <img src=x onerror="window.__pwned=1"> from http://evil.example/x.js
"#;

#[test]
fn log_text_shows_as_text_and_never_runs() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("evil.toml");
    let log = dir.path().join("app.log");
    std::fs::write(&pack, EVIL_PACK).unwrap();
    std::fs::write(&log, EVIL_LOG).unwrap();
    let args = [
        std::ffi::OsStr::new("--rules"),
        pack.as_os_str(),
        log.as_os_str(),
    ];
    let doc: serde_json::Value = serde_json::from_str(&scan("json", &args)).unwrap();
    let html = scan("html", &args);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert!(!doc["unknown"].as_array().unwrap().is_empty());
    assert_self_contained(&html, &doc);
    assert!(!html.contains("<script>window"));
    assert!(!html.contains("onerror=\"window"));
    // The script's data holds the summary, its markup escaped for a <script> element.
    let data_at = html
        .find(r#"<script type="application/json" id="data">"#)
        .unwrap();
    let data = &html[data_at..data_at + html[data_at..].find("</script>").unwrap()];
    assert!(data.contains(r"\u003c/script\u003e\u003cscript\u003ewindow.__pwned=1"));
    if !chromium() {
        return;
    }
    let page = write_page(dir.path(), &html);
    let dom = dump_dom(&page, "");
    assert!(
        dom.contains(r#"data-pwned="false""#),
        "a log line's script ran"
    );
    assert!(dom.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
    assert!(dom.contains(r#"&lt;img src=x onerror="window.__pwned=1"&gt;"#));
    assert!(!dom.contains("<script>window"));
    assert!(!dom.contains("<img"));
    // Filtering by text goes through the same data without running any of it.
    let dom = dump_dom(&page, "#q=%3Cscript%3E");
    assert!(dom.contains(r#"data-pwned="false""#));
    assert_eq!(visible(&dom).len(), 1);
}

#[test]
fn same_input_same_page() {
    let a = scan("html", &[samples().as_os_str()]);
    let b = scan("html", &[samples().as_os_str()]);
    assert!(a == b, "two scans of the samples gave different pages");
    assert!(!a.contains("duration_ms"));
}

/// A daemon down then restarted, one that went silent, and a baseline: the page draws both
/// gaps in the timeline and has a status column with the new finding marked (server-side,
/// no browser needed).
#[test]
fn gaps_are_drawn_and_a_baseline_adds_a_status_column() {
    let d = tempfile::tempdir().unwrap();
    let logs = d.path().join("logs");
    let line = |t: u32, msg: &str| {
        format!(
            "2024-03-11 {:02}:{:02}:{:02},000 INFO org.apache.hadoop.hdfs.server.datanode.DataNode: {msg}\n",
            t / 3600,
            t / 60 % 60,
            t % 60
        )
    };
    // dn1 logs all night; dn2 is silent for 40 minutes, then starts again with no clean stop;
    // dn3 stops at 01:30 without a word.
    let steady = |from: u32, to: u32| -> String {
        (from..to)
            .step_by(30)
            .map(|t| {
                line(
                    t,
                    "Receiving BP-1:blk_1 src: /10.0.0.11:40000 dest: /10.0.0.12:50010",
                )
            })
            .collect()
    };
    let mut dn2 = steady(3600, 4200);
    dn2.push_str("2024-03-11 01:50:00,000 INFO org.apache.hadoop.hdfs.server.datanode.DataNode: STARTUP_MSG: \n/************************************************************\nSTARTUP_MSG: Starting DataNode\nSTARTUP_MSG:   host = dn2/10.0.0.12\n************************************************************/\n");
    dn2.push_str(&steady(6605, 9000));
    for (host, text) in [
        ("dn1", steady(3600, 9000)),
        ("dn2", dn2),
        ("dn3", steady(3600, 5400)),
    ] {
        let dir = logs.join(host).join("hadoop-hdfs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("hadoop-hdfs-datanode-{host}.log")), text).unwrap();
    }
    let empty = d.path().join("empty");
    std::fs::create_dir_all(empty.join("x")).unwrap();
    std::fs::write(
        empty.join("x/a.log"),
        "2024-03-11 01:00:00,000 INFO nothing\n",
    )
    .unwrap();
    let baseline = d.path().join("old.json");
    std::fs::write(&baseline, scan("json", &[empty.as_os_str()])).unwrap();
    let html = scan(
        "html",
        &[
            std::ffi::OsStr::new("--silence=10m"),
            std::ffi::OsStr::new("--baseline"),
            baseline.as_os_str(),
            logs.as_os_str(),
        ],
    );
    let gaps = html.matches(r#"<rect class="gap gap-"#).count();
    assert_eq!(gaps, 2, "a restart gap on dn2 and a silence on dn3");
    assert!(html.contains(r#"<th data-sort="status">Status</th>"#));
    let new_cells = html
        .matches(r#"<td class="status status-new">new</td>"#)
        .count();
    // The restart, the silence and the start-up banner (info): all new against a baseline
    // that knew nothing.
    assert_eq!(
        new_cells, 3,
        "every finding is new against an empty baseline"
    );
    assert!(html.contains("dn3") && html.contains("dn2"));
}

/// `logtriage report REPORT.json`: the saved report's page is the sweep's page, byte for byte;
/// a cut report is refused, naming it; formats that need a sweep say so.
#[test]
fn a_saved_report_renders_the_same_page() {
    let d = tempfile::tempdir().unwrap();
    let saved = d.path().join("report.json");
    std::fs::write(&saved, scan("json", &[samples().as_os_str()])).unwrap();
    let page = scan("html", &[samples().as_os_str()]);
    let again = Command::cargo_bin("logtriage")
        .unwrap()
        .arg("report")
        .arg(&saved)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(again).unwrap() == page, "the same page");
    let json = Command::cargo_bin("logtriage")
        .unwrap()
        .args(["report", "--format", "json"])
        .arg(&saved)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let a: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(a, b);
    let cut = d.path().join("cut.json");
    std::fs::write(&cut, &std::fs::read(&saved).unwrap()[..500]).unwrap();
    for (args, says) in [
        (
            vec!["report".to_string(), cut.display().to_string()],
            "cut or invalid JSON",
        ),
        (
            vec![
                "report".to_string(),
                "--format".to_string(),
                "ndjson".to_string(),
                saved.display().to_string(),
            ],
            "a saved report holds findings, not every occurrence",
        ),
    ] {
        let out = Command::cargo_bin("logtriage")
            .unwrap()
            .args(&args)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
        assert!(out.stdout.is_empty());
    }
}
