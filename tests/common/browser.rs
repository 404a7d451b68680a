//! The HTML report's tests' helpers (tests/html.rs, tests/html_scale.rs): run the scanner,
//! open its page in headless Chromium, read the DOM the page's script left.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// `logtriage scan --tz=UTC --format=FORMAT ARGS...`'s stdout (it exits 1 on findings).
pub fn scan(format: &str, args: &[&std::ffi::OsStr]) -> String {
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

pub fn chromium() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    println!("skipped: chromium not installed");
    false
}

/// The DOM after the page's scripts ran, for `page` opened with `hash` (`""` or `#...`).
pub fn dump_dom(page: &Path, hash: &str) -> String {
    let dom = browse(page, hash, None);
    let ready = dom.contains(r#"data-ready="1""#);
    assert!(ready, "the page's script did not run");
    dom
}

/// Headless Chromium's DOM of `page` (with its background traffic off), its NetLog in `netlog`.
pub fn browse(page: &Path, hash: &str, netlog: Option<&Path>) -> String {
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

pub fn write_page(dir: &Path, html: &str) -> PathBuf {
    let page = dir.join("report.html");
    std::fs::write(&page, html).unwrap();
    page
}

/// The opening tags of the findings' row groups, in document order.
pub fn finding_tags(dom: &str) -> Vec<&str> {
    dom.match_indices(r#"<tbody class="finding"#)
        .map(|(i, _)| &dom[i..i + dom[i..].find('>').unwrap()])
        .collect()
}

pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

pub fn visible(dom: &str) -> Vec<&str> {
    finding_tags(dom)
        .into_iter()
        .filter(|t| !t.contains(" hidden"))
        .collect()
}

/// The texts right after each `marker` (up to the next tag), in document order.
pub fn texts_after<'a>(dom: &'a str, marker: &str) -> Vec<&'a str> {
    dom.match_indices(marker)
        .map(|(i, m)| &dom[i + m.len()..i + m.len() + dom[i + m.len()..].find('<').unwrap()])
        .collect()
}

pub fn samples_page() -> (serde_json::Value, String) {
    let json = scan("json", &[samples().as_os_str()]);
    let html = scan("html", &[samples().as_os_str()]);
    (serde_json::from_str(&json).unwrap(), html)
}

/// Every string of a JSON document: the text that came from the logs (and the rules).
pub fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The page loads nothing: no external element, and every URL in it is one the JSON holds
/// (text from a log or a rule's reference, shown as text).
pub fn assert_self_contained(html: &str, doc: &serde_json::Value) {
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
