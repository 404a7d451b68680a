//! The HTML report at scale and on the network, in headless Chromium: past the first page of
//! findings the script draws the table from the embedded data (pages, sorting, filtering and
//! links over every finding), and Chromium's own NetLog shows the page requests nothing.

#[path = "common/browser.rs"]
mod browser;

use browser::*;
use std::path::Path;

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
