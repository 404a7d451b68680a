//! `scan --format html` in a real browser (Debian's chromium, headless): the page shows every
//! finding and host of the JSON, one timeline mark per timeline entry, loads nothing, shows
//! log text as text (never runs it), and its script sorts and filters from the URL's hash.
//! Without chromium the browser tests print "skipped: chromium not installed" and pass.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// `logtriage scan --tz=UTC --format=FORMAT ARGS...`'s stdout (it exits 1 on findings).
fn scan(format: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::cargo_bin("logtriage")
        .unwrap()
        .arg("scan")
        .arg("--tz=UTC")
        .arg(format!("--format={format}"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn chromium() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    println!("skipped: chromium not installed");
    false
}

/// The DOM after the page's scripts ran, for `page` opened with `hash` (`""` or `#...`).
fn dump_dom(page: &Path, hash: &str) -> String {
    let dom = browse(page, hash, None);
    let ready = dom.contains(r#"data-ready="1""#);
    assert!(ready, "the page's script did not run");
    dom
}

/// Headless Chromium's DOM of `page` (with its background traffic off), its NetLog in `netlog`.
fn browse(page: &Path, hash: &str, netlog: Option<&Path>) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Process::new(CHROMIUM)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
        ])
        .arg("--disable-component-update")
        .arg("--virtual-time-budget=2000")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(netlog.map(|l| format!("--log-net-log={}", l.display())))
        .arg("--dump-dom")
        .arg(format!("file://{}{hash}", page.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    String::from_utf8(out.stdout).unwrap()
}

fn write_page(dir: &Path, html: &str) -> PathBuf {
    let page = dir.join("report.html");
    std::fs::write(&page, html).unwrap();
    page
}

/// The opening tags of the findings' row groups, in document order.
fn finding_tags(dom: &str) -> Vec<&str> {
    dom.match_indices(r#"<tbody class="finding"#)
        .map(|(i, _)| &dom[i..i + dom[i..].find('>').unwrap()])
        .collect()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

fn visible(dom: &str) -> Vec<&str> {
    finding_tags(dom)
        .into_iter()
        .filter(|t| !t.contains(" hidden"))
        .collect()
}

/// The texts right after each `marker` (up to the next tag), in document order.
fn texts_after<'a>(dom: &'a str, marker: &str) -> Vec<&'a str> {
    dom.match_indices(marker)
        .map(|(i, m)| &dom[i + m.len()..i + m.len() + dom[i + m.len()..].find('<').unwrap()])
        .collect()
}

fn samples_page() -> (serde_json::Value, String) {
    let json = scan("json", &[samples().as_os_str()]);
    let html = scan("html", &[samples().as_os_str()]);
    (serde_json::from_str(&json).unwrap(), html)
}

/// Every string of a JSON document: the text that came from the logs (and the rules).
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The page loads nothing: no external element, and every URL in it is one the JSON holds
/// (text from a log or a rule's reference, shown as text).
fn assert_self_contained(html: &str, doc: &serde_json::Value) {
    // Text from the logs has its `<` escaped: outside the style and scripts, every `<` opens
    // one of the page's own tags.
    let mut markup = html.to_string();
    for (open, close) in [("<style>", "</style>"), ("<script", "</script>")] {
        let mut from = 0;
        while let Some(i) = markup[from..].find(open).map(|i| from + i) {
            let body = i + markup[i..].find('>').unwrap() + 1;
            let end = body + markup[body..].find(close).unwrap();
            let tag = markup[i..body].to_string();
            if open == "<script" {
                assert!(
                    tag == "<script>" || tag == r#"<script type="application/json" id="data">"#,
                    "{tag}"
                );
            } else {
                let css = &markup[body..end];
                assert!(!css.contains("@import"));
                assert_eq!(css.matches("url(").count(), css.matches("url(#").count());
            }
            markup.replace_range(body..end, "");
            from = body;
        }
    }
    for (i, _) in markup.match_indices('<') {
        let tag = markup[i..i + markup[i..].find('>').unwrap()].to_ascii_lowercase();
        for bad in [
            "<link", "<img", "<iframe", "<object", "<embed", "<base", " src=", "srcset",
        ] {
            assert!(
                !tag.starts_with(bad) && !tag.contains(bad),
                "the page holds {tag}"
            );
        }
        if let Some(h) = tag.find(" href=\"") {
            assert!(
                tag[h + 7..].starts_with('#'),
                "a link out of the page: {tag}"
            );
        }
    }
    let mut texts = Vec::new();
    strings(doc, &mut texts);
    let unescape = |s: &str| {
        s.replace("&#x2f;", "/")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let page = unescape(html);
    for scheme in ["http://", "https://"] {
        for (i, _) in page.match_indices(scheme) {
            let end = page[i..]
                .find(|c: char| c.is_whitespace() || "\"'<>)".contains(c))
                .map_or(page.len(), |e| i + e);
            let url = &page[i..end];
            assert!(
                texts.iter().any(|t| t.contains(url)),
                "the page names {url}, which no log or rule text holds"
            );
        }
    }
}

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

/// The findings the page's markup holds; the script draws the others a page at a time.
const PAGE: usize = 500;

const MANY_PACK: &str = r#"[pack]
component = "app"
layer = "application"

[[rule]]
id = "test.worker"
title = "Worker unreachable"
severity = "medium"
literals = ["Cannot reach worker"]
regex = 'Cannot reach worker (?P<worker>\d+)'
group_by = ["worker"]
summary = "Cannot reach worker {worker}"
runbook = ["Check the worker."]
"#;

/// The pagers' texts (`1–500 of 800`, one above the table and one below) and the count.
fn pagers(dom: &str) -> Vec<&str> {
    texts_after(dom, r#"<span class="p-range">"#)
}

fn shown_count(dom: &str) -> &str {
    texts_after(dom, r#"id="shown-count">"#)[0]
}

/// A report with 300 findings more than the markup holds: the first page is the first 500 in
/// the report's order, the second page (from the URL's hash) the other 300, drawn by the script
/// with the same cells; a sort or a filter works over all 800, and a link to a finding past the
/// first page shows it.
#[test]
fn findings_past_the_first_page_are_drawn_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("many.toml");
    let log = dir.path().join("app.log");
    std::fs::write(&pack, MANY_PACK).unwrap();
    let total = PAGE + 300;
    let text: String = (0..total)
        .map(|n| {
            format!(
                "2024-03-11 02:{:02}:{:02},000 ERROR [main] com.example.Pool: Cannot reach worker {n}\n",
                n / 60 % 60,
                n % 60
            )
        })
        .collect();
    std::fs::write(&log, text).unwrap();
    let args = [
        std::ffi::OsStr::new("--rules"),
        pack.as_os_str(),
        log.as_os_str(),
    ];
    let doc: serde_json::Value = serde_json::from_str(&scan("json", &args)).unwrap();
    let html = scan("html", &args);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), total);
    let fp = |i: usize| findings[i]["fingerprint"].as_str().unwrap();
    assert_eq!(finding_tags(&html).len(), PAGE, "the markup holds one page");
    assert_eq!(pagers(&html), ["1–500 of 800"; 2]);
    if !chromium() {
        return;
    }
    let page = write_page(dir.path(), &html);
    let fps = |dom: &str| -> Vec<String> {
        visible(dom)
            .iter()
            .map(|t| attr(t, "data-fp").unwrap().to_string())
            .collect()
    };

    let dom = dump_dom(&page, "");
    assert_eq!(fps(&dom), (0..PAGE).map(fp).collect::<Vec<_>>());
    assert_eq!(pagers(&dom), ["1–500 of 800"; 2]);
    assert_eq!(shown_count(&dom), "800");

    // The second page: the other 300, in the report's order, with the markup's cells.
    let dom = dump_dom(&page, "#page=2");
    assert_eq!(fps(&dom), (PAGE..total).map(fp).collect::<Vec<_>>());
    assert_eq!(finding_tags(&dom).len(), 300);
    assert_eq!(pagers(&dom), ["501–800 of 800"; 2]);
    let last = &findings[total - 1];
    let at = dom.find(&format!(r#"id="f-{}""#, fp(total - 1))).unwrap();
    let group = &dom[at..at + dom[at..].find("</tbody>").unwrap()];
    assert_eq!(
        group.matches("<td").count(),
        10,
        "nine cells, the evidence's"
    );
    let (summary, first) = (&last["summary"], last["first_seen"].as_str().unwrap());
    for cell in [
        format!(
            "<td><strong>Worker unreachable</strong><br>{}</td>",
            summary.as_str().unwrap()
        ),
        format!(r#"<td class="t">{first}</td>"#),
        format!(r#"<code class="fp">{}</code>"#, fp(total - 1)),
        r#"<td colspan="9"><details><summary>Evidence (1) and runbook (1 steps)</summary>"#.into(),
    ] {
        assert!(group.contains(&cell), "{cell} not in {group}");
    }

    // Latest first: the sort is over all 800, the first page the 500 latest.
    let mut latest: Vec<usize> = (0..total).collect();
    latest.sort_by(|&a, &b| {
        let t = |i: usize| findings[i]["first_seen"].as_str().unwrap();
        t(b).cmp(t(a)).then(a.cmp(&b))
    });
    let dom = dump_dom(&page, "#sort=first&dir=desc");
    assert_eq!(
        fps(&dom),
        latest[..PAGE].iter().map(|&i| fp(i)).collect::<Vec<_>>()
    );
    assert!(latest[..PAGE].iter().any(|&i| i >= PAGE));

    // A filter finds a finding past the first page; the pagers hide when one page holds all.
    let dom = dump_dom(&page, &format!("#q={}", fp(total - 1)));
    assert_eq!(fps(&dom), [fp(total - 1)]);
    assert_eq!(shown_count(&dom), "1 of 800");
    assert_eq!(dom.matches(r#"<div class="pager" hidden"#).count(), 2);

    // A link to a finding past the first page goes to its page, lights it and opens its
    // evidence (drawn from the data).
    let (linked, f) = (fp(PAGE + 7), &findings[PAGE + 7]);
    let dom = dump_dom(&page, &format!("#f-{linked}"));
    let at = dom
        .find(&format!(r#"<tbody class="finding hl" id="f-{linked}""#))
        .unwrap();
    let group = &dom[at..at + dom[at..].find("</tbody>").unwrap()];
    let text = f["evidence"][0]["text"].as_str().unwrap();
    assert!(group.contains(r#"<details open="">"#) && group.contains(text));
    assert_eq!(pagers(&dom), ["501–800 of 800"; 2]);
}

/// The URLs `page` (opened with `hash`) requested, as Chromium's own NetLog records them.
/// Chromium fetches things of its own even with its background traffic turned off (its clock,
/// accounts, Google's start page): those requests carry no initiator ("not an origin"), while
/// every request a page makes carries the page's origin ("null" for a file:// page). Only the
/// requests with an initiator count.
fn page_requests(page: &Path, hash: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("netlog.json");
    browse(page, hash, Some(&log));
    let net: serde_json::Value = serde_json::from_slice(&std::fs::read(&log).unwrap()).unwrap();
    let events = net["events"].as_array().unwrap();
    assert!(!events.is_empty(), "an empty NetLog");
    events
        .iter()
        .filter(|e| e["params"]["url"].is_string() && e["params"]["initiator"].is_string())
        .filter(|e| e["params"]["initiator"] != "not an origin")
        .map(|e| e["params"]["url"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn chromium_sees_no_request_from_the_page() {
    if !chromium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The check sees a page's requests: a page that loads an image and fetches.
    let control = dir.path().join("control.html");
    let fetches =
        r#"<img src="http://127.0.0.1:9/x.png"><script>fetch("http://127.0.0.1:9/y")</script>"#;
    std::fs::write(&control, fetches).unwrap();
    let seen = page_requests(&control, "");
    assert!(seen.iter().any(|u| u.ends_with("/x.png")), "{seen:?}");
    assert!(seen.iter().any(|u| u.ends_with("/y")), "{seen:?}");
    // The report asks for nothing but itself, before and after its script sorts and filters.
    let page = write_page(dir.path(), &samples_page().1);
    let own = format!("file://{}", page.display());
    for hash in ["", "#severity=high&sort=count"] {
        for url in page_requests(&page, hash) {
            assert!(
                url.starts_with(&own) || url.starts_with("data:") || url.starts_with("about:"),
                "the page requested {url}"
            );
        }
    }
}
