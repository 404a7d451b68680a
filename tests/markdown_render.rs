//! `--format markdown` read through a real renderer: comrak (the Rust port of GitHub's
//! cmark-gfm) with the GFM extensions GitHub turns on, and again as plain CommonMark (some Jira
//! and GitLab setups). What a reader of the pasted ticket sees: one summary table, a row per
//! finding with its fingerprint, host and count in their columns; evidence in code blocks whose
//! text is the JSON evidence; runbook steps, chains and first steps as numbered lists; headings
//! in order; and log text holding HTML shown as text, never as a live element.
//!
//! Raw HTML is rendered as it stands (`unsafe`), as GitHub and GitLab pass it on to their
//! sanitizers (which keep `<img>` and `<details>`): any tag of the log text that got through
//! would show up live in the HTML here. Comrak dropped GFM's `tagfilter` in 0.56, so it is not
//! applied; it would only hide tags that rendering unsafely shows.

mod common;

use std::path::{Path, PathBuf};

use common::{RunExt, json, logtriage_scan, write};
use comrak::{Options, markdown_to_html};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn cluster() -> PathBuf {
    root().join("tests/fixtures/cluster")
}

fn samples() -> PathBuf {
    root().join("samples")
}

fn scan(format: &str, paths: &[&Path], code: i32, extra: &[&str]) -> Vec<u8> {
    let mut c = logtriage_scan();
    c.args(["--format", format, "--tz=UTC"]).args(extra);
    for p in paths {
        c.arg(p);
    }
    c.stdout_for(code)
}

fn markdown(paths: &[&Path], code: i32, extra: &[&str]) -> String {
    String::from_utf8(scan("markdown", paths, code, extra)).expect("UTF-8 Markdown")
}

fn json_of(paths: &[&Path], code: i32, extra: &[&str]) -> Value {
    json(&scan("json", paths, code, extra))
}

/// GitHub's options: GFM's table, strikethrough, autolink and tasklist extensions.
fn gfm() -> Options<'static> {
    let mut o = Options::default();
    o.extension.table = true;
    o.extension.strikethrough = true;
    o.extension.autolink = true;
    o.extension.tasklist = true;
    o.render.r#unsafe = true;
    o
}

/// Plain CommonMark, no extension.
fn commonmark() -> Options<'static> {
    let mut o = Options::default();
    o.render.r#unsafe = true;
    o
}

/// HTML text as a reader sees it: entities decoded.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The text of an HTML fragment: tags dropped, entities decoded.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

/// Where the next `<name` tag (followed by `>` or a space) starts at or after `from`.
fn find_open(html: &str, from: usize, name: &str) -> Option<usize> {
    let open = format!("<{name}");
    let mut at = from;
    while let Some(i) = html[at..].find(&open).map(|i| i + at) {
        if matches!(html.as_bytes().get(i + open.len()), Some(b'>' | b' ')) {
            return Some(i);
        }
        at = i + open.len();
    }
    None
}

/// The inner HTML of every element `name` up to its matching `</name>` (nested ones of the
/// same name are counted, and not listed on their own).
fn elements<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = find_open(html, at, name) {
        let start = i + html[i..].find('>').unwrap() + 1;
        let mut depth = 1;
        let mut j = start;
        while depth > 0 {
            let next_close = html[j..]
                .find(&close)
                .map(|k| k + j)
                .unwrap_or_else(|| panic!("<{name}> left open"));
            match find_open(html, j, name) {
                Some(o) if o < next_close => {
                    depth += 1;
                    j = o + 1;
                }
                _ => {
                    depth -= 1;
                    if depth == 0 {
                        out.push(&html[start..next_close]);
                    }
                    j = next_close + close.len();
                }
            }
        }
        at = j;
    }
    out
}

/// The code blocks' texts, decoded, without the newline that ends each.
fn code_blocks(html: &str) -> Vec<String> {
    elements(html, "pre")
        .into_iter()
        .map(|pre| {
            let code = elements(pre, "code");
            assert_eq!(code.len(), 1, "{pre}");
            let t = unescape(code[0]);
            t.strip_suffix('\n').unwrap_or(&t).to_string()
        })
        .collect()
}

/// The headings in order: (level, text).
fn headings(html: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for line in html.lines() {
        for level in 1..=6 {
            let open = format!("<h{level}>");
            let close = format!("</h{level}>");
            if let Some(inner) = line
                .strip_prefix(&open)
                .and_then(|l| l.strip_suffix(&close))
            {
                out.push((level, text(inner)));
            }
        }
    }
    out
}

/// The HTML from the heading `<hN>` whose text starts with `title` up to the next heading of
/// level N or higher.
fn section<'a>(html: &'a str, level: usize, title: &str) -> &'a str {
    let open = format!("<h{level}>");
    let mut at = 0;
    while let Some(i) = html[at..].find(&open).map(|i| i + at) {
        let end = i + html[i..].find('\n').unwrap_or(html.len() - i);
        if text(&html[i..end]).starts_with(title) {
            let body = &html[end..];
            let stop = (1..=level)
                .filter_map(|l| body.find(&format!("<h{l}>")))
                .min()
                .unwrap_or(body.len());
            return &body[..stop];
        }
        at = end;
    }
    panic!("no <h{level}> {title:?}")
}

/// The `<li>` items of each `<ol>`, as text.
fn ordered_lists(html: &str) -> Vec<Vec<String>> {
    elements(html, "ol")
        .into_iter()
        .map(|ol| elements(ol, "li").into_iter().map(text).collect())
        .collect()
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

/// `text` cut to `max` characters as the writer cuts a cell, `...` marking the cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 3).collect();
    s.push_str("...");
    s
}

/// The summary table: one `<table>`, header cells, then each body row's cells as text (and the
/// raw HTML of each cell).
fn table(html: &str) -> (Vec<String>, Vec<Vec<(String, String)>>) {
    let tables = elements(html, "table");
    assert_eq!(tables.len(), 1, "one summary table:\n{html}");
    let head = elements(tables[0], "thead");
    let head: Vec<String> = elements(head[0], "th").into_iter().map(text).collect();
    let body = elements(tables[0], "tbody");
    assert_eq!(body.len(), 1);
    let rows = elements(body[0], "tr")
        .into_iter()
        .map(|tr| {
            elements(tr, "td")
                .into_iter()
                .map(|td| (text(td), td.to_string()))
                .collect()
        })
        .collect();
    (head, rows)
}

/// A code block's text as the writer promises it: the evidence text, control characters but
/// tabs shown (`\x1b`), or (over 60 lines or 8 KiB) its start and a line saying it was cut.
fn assert_evidence(block: &str, evidence: &str) {
    let mut shown = String::new();
    for c in evidence.chars() {
        match c {
            '\n' | '\t' => shown.push(c),
            c if c.is_control() && (c as u32) < 0x100 => {
                shown.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => shown.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => shown.push(c),
        }
    }
    let evidence = shown.as_str();
    const CUT: &str = "\n[... cut at 60 lines / 8 KiB]";
    match block.strip_suffix(CUT) {
        Some(start) => {
            assert!(evidence.starts_with(start), "{block}");
            assert!(block.lines().count() <= 61);
            assert!(evidence.lines().count() > 60 || evidence.len() > 8 * 1024);
        }
        None => assert_eq!(block, evidence),
    }
}

#[test]
fn the_summary_table_has_a_row_per_finding_with_its_cells_in_their_columns() {
    for input in [cluster(), samples()] {
        let v = json_of(&[&input], 1, &[]);
        let md = markdown(&[&input], 1, &[]);
        let html = markdown_to_html(&md, &gfm());
        let findings = v["findings"].as_array().unwrap();
        let (head, rows) = table(&html);
        assert_eq!(
            head,
            [
                "Severity",
                "Finding",
                "Host / service",
                "Count",
                "First seen",
                "Last seen",
                "Fingerprint"
            ]
        );
        assert_eq!(rows.len(), findings.len(), "{}", input.display());
        for (row, f) in rows.iter().zip(findings) {
            assert_eq!(row.len(), 7, "{row:?}");
            let sev = str_of(&f["severity"]).to_uppercase();
            assert_eq!(row[0].0, sev);
            assert_eq!(row[1].0, clip(str_of(&f["summary"]), 160), "{row:?}");
            let who = format!("{} / {}", str_of(&f["host"]), str_of(&f["service"]));
            assert_eq!(row[2].0, who);
            assert_eq!(row[3].0, thousands(f["count"].as_u64().unwrap()));
            let fp = str_of(&f["fingerprint"]);
            assert_eq!(row[6].1, format!("<code>{fp}</code>"));
        }
    }
}

#[test]
fn evidence_renders_in_code_blocks_equal_to_the_json_evidence() {
    for input in [cluster(), samples()] {
        let v = json_of(&[&input], 1, &[]);
        let md = markdown(&[&input], 1, &[]);
        let html = markdown_to_html(&md, &gfm());
        let details = section(&html, 2, "Findings");
        let sections: Vec<&str> = details.split("<h3>").skip(1).collect();
        assert!(!sections.is_empty());
        let findings = v["findings"].as_array().unwrap();
        assert!(sections.len() <= findings.len());
        let (mut blocks, mut runbooks) = (0, 0);
        for (sec, f) in sections.iter().zip(findings) {
            let title = format!(
                "{} {}",
                str_of(&f["severity"]).to_uppercase(),
                str_of(&f["title"])
            );
            assert_eq!(text(&sec[..sec.find("</h3>").unwrap()]), title);
            let got = code_blocks(sec);
            let want = f["evidence"].as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{title}");
            for (b, e) in got.iter().zip(want) {
                assert_evidence(b, str_of(&e["text"]));
                blocks += 1;
            }
            // Runbook steps: one list, an item per step, the step's words.
            let steps = f["runbook"]["steps"].as_array().unwrap();
            if !steps.is_empty() {
                let runbook = &sec[sec.find("<strong>Runbook</strong>").expect("runbook")..];
                let lists = ordered_lists(runbook);
                let items = &lists[0];
                assert_eq!(items.len(), steps.len(), "{title}");
                for (li, step) in items.iter().zip(steps) {
                    assert_eq!(li.trim(), str_of(step).replace('`', "").trim(), "{title}");
                }
                runbooks += 1;
            }
        }
        assert!(blocks > 0 && runbooks > 0);
    }
}

#[test]
fn headings_render_in_order_and_incidents_hold_their_scenario_chain_and_steps() {
    let v = json_of(&[&cluster()], 1, &[]);
    let md = markdown(&[&cluster()], 1, &[]);
    let html = markdown_to_html(&md, &gfm());
    let h = headings(&html);
    // One title, first.
    assert_eq!(h[0].0, 1);
    assert_eq!(h.iter().filter(|(l, _)| *l == 1).count(), 1);
    assert_eq!(
        h[0].1,
        md.lines()
            .next()
            .unwrap()
            .trim_start_matches("# ")
            .replace('\\', "")
    );
    let h2: Vec<&str> = h
        .iter()
        .filter(|(l, _)| *l == 2)
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(
        h2,
        [
            "What was scanned",
            "Summary",
            "Incidents",
            "Findings",
            "Not known to any rule"
        ]
    );
    // Under Incidents, one h3 per incident, in order; under Findings, one per finding shown.
    let incidents = v["incidents"].as_array().unwrap();
    let findings = v["findings"].as_array().unwrap();
    let unknown = v["unknown"].as_array().unwrap();
    let mut want: Vec<(usize, String)> = vec![(2, "Incidents".into())];
    for (n, _) in incidents.iter().enumerate() {
        want.push((3, format!("Incident {}: ", n + 1)));
    }
    want.push((2, "Findings".into()));
    // The detail is bounded: the first findings in report order, the others said to be left
    // out.
    let details = section(&html, 2, "Findings");
    let shown = details.matches("<h3>").count();
    assert!(shown > 0 && shown <= findings.len());
    if shown < findings.len() {
        let left = format!(
            "{} more findings are left out of the detail",
            findings.len() - shown
        );
        assert!(text(details).contains(&left), "{details}");
    }
    for f in &findings[..shown] {
        let t = format!(
            "{} {}",
            str_of(&f["severity"]).to_uppercase(),
            str_of(&f["title"])
        );
        want.push((3, t));
    }
    want.push((2, "Not known to any rule".into()));
    for u in unknown {
        want.push((
            3,
            format!("{} {}", str_of(&u["level"]), str_of(&u["template"])),
        ));
    }
    let from = h.iter().position(|(_, t)| t == "Incidents").unwrap();
    let got = &h[from..];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.0, w.0, "{g:?}");
        assert!(g.1.starts_with(&w.1), "{g:?} is not {w:?}");
    }

    let mut scenarios = 0;
    for (n, inc) in incidents.iter().enumerate() {
        let body = section(&html, 3, &format!("Incident {}: ", n + 1));
        if let Some(title) = inc["scenario"]["title"].as_str() {
            scenarios += 1;
            let t = text(body);
            let line = t
                .lines()
                .find(|l| l.starts_with("Run Book scenario: "))
                .expect("a scenario item");
            assert!(line.contains(title), "{line}");
        }
        let lists = ordered_lists(body);
        assert_eq!(lists.len(), 2, "the chain and the first steps: {body}");
        let chain = inc["chain"].as_array().unwrap();
        assert_eq!(lists[0].len(), chain.len().min(20));
        for (li, l) in lists[0].iter().zip(chain) {
            assert!(li.ends_with(str_of(&l["fingerprint"])), "{li}");
        }
        assert_eq!(lists[1].len(), inc["first_steps"].as_array().unwrap().len());
    }
    assert!(scenarios > 0, "no incident with a Run Book scenario");
}

#[test]
fn unknown_templates_render_their_first_evidence_in_a_code_block() {
    let v = json_of(&[&cluster()], 1, &[]);
    let md = markdown(&[&cluster()], 1, &[]);
    let html = markdown_to_html(&md, &gfm());
    let tail = section(&html, 2, "Not known to any rule");
    let sections: Vec<&str> = tail.split("<h3>").skip(1).collect();
    let unknown = v["unknown"].as_array().unwrap();
    assert_eq!(sections.len(), unknown.len());
    for (sec, u) in sections.iter().zip(unknown) {
        let blocks = code_blocks(sec);
        assert_eq!(blocks.len(), 1);
        assert_evidence(&blocks[0], str_of(&u["evidence"][0]["text"]));
    }
}

/// The tricky fixture of tests/markdown.rs (fences, pipes), its log lines also holding HTML: in
/// the summary (title and table), in the host's name (from the file's), in the evidence, and
/// in an error no rule knows.
fn hostile(d: &Path) -> PathBuf {
    write(
        d,
        "accumulo/master_<img src=x onerror=alert(1)>.log",
        b"2024-03-11 02:14:30,001 [master.Master] INFO : Starting master\n\
2024-03-11 02:14:31,010 [master.Master] WARN : Lost servers [node3:9997[1|2] ```rm -rf /``` <script>alert(1)</script> <img src=x onerror=alert(1)> </details> x]\n\
```\n\
| not | a | row |\n\
`````\n\
<details><summary>open</summary>\n\
2024-03-11 02:14:32,000 [master.Master] INFO : still serving\n\
2024-03-11 02:14:33,000 [master.Master] ERROR: Bad <script>alert(1)</script> | <img src=x onerror=alert(1)> </details> `x`\n",
    );
    d.to_path_buf()
}

const HOSTILE: [&str; 3] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</details>",
];

fn assert_no_live_html(html: &str) {
    for tag in ["<script", "<img", "</details", "<details", "<summary"] {
        assert!(!html.contains(tag), "a live {tag}:\n{html}");
    }
    assert!(!html.contains("raw HTML omitted"), "{html}");
}

#[test]
fn html_in_log_text_renders_as_text_wherever_log_text_appears() {
    let d = tempfile::tempdir().unwrap();
    let input = hostile(d.path());
    let v = json_of(&[&input], 1, &[]);
    let md = markdown(&[&input], 1, &[]);
    for opts in [gfm(), commonmark()] {
        let html = markdown_to_html(&md, &opts);
        assert_no_live_html(&html);
        let h = headings(&html);
        // The title, and the host in "What was scanned".
        let scanned = text(section(&html, 2, "What was scanned"));
        assert!(
            scanned.contains(&format!("Hosts: {}", HOSTILE[1])),
            "{scanned}"
        );
        for s in HOSTILE {
            assert!(h[0].1.contains(s), "{:?}", h[0]);
        }
        // The evidence, whole.
        let f = &v["findings"][0];
        let blocks = code_blocks(&html);
        let ev = str_of(&f["evidence"][0]["text"]);
        assert!(ev.contains("<details><summary>"), "{ev}");
        assert_evidence(&blocks[0], ev);
        // The unknown template: its heading and its evidence.
        let u = &v["unknown"][0];
        let tail = section(&html, 2, "Not known to any rule");
        let last = h.last().unwrap();
        assert_eq!(last.1, format!("ERROR {}", str_of(&u["template"])));
        for s in ["<script>alert(", "<img src=x onerror=alert(", "</details>"] {
            assert!(last.1.contains(s), "{last:?}");
        }
        let ev = str_of(&u["evidence"][0]["text"]);
        for s in HOSTILE {
            assert!(ev.contains(s), "{ev}");
        }
        assert_evidence(&code_blocks(tail)[0], str_of(&u["evidence"][0]["text"]));
    }
    // The table cells (GFM only).
    let html = markdown_to_html(&md, &gfm());
    let (_, rows) = table(&html);
    let f = &v["findings"][0];
    assert_eq!(rows[0].len(), 7);
    assert_eq!(rows[0][1].0, clip(str_of(&f["summary"]), 160));
    for s in HOSTILE {
        assert!(rows[0][1].0.contains(s), "{:?}", rows[0][1]);
    }
    assert_eq!(
        rows[0][2].0,
        format!("{} / {}", HOSTILE[1], str_of(&f["service"]))
    );
}

#[test]
fn as_plain_commonmark_only_the_table_falls_back_to_text() {
    for input in [cluster(), samples()] {
        let md = markdown(&[&input], 1, &[]);
        let with = markdown_to_html(&md, &gfm());
        let without = markdown_to_html(&md, &commonmark());
        assert!(!without.contains("<table"));
        assert!(
            without.contains("<p>| Severity | Finding |"),
            "the table as text"
        );
        assert_eq!(code_blocks(&without), code_blocks(&with));
        assert_eq!(ordered_lists(&without), ordered_lists(&with));
        assert_eq!(headings(&without), headings(&with));
        assert_eq!(elements(&without, "ul").len(), elements(&with, "ul").len());
    }
}

/// Log text full of Markdown, HTML, entities, autolinks and ticket references.
const NASTY: [&str; 16] = [
    r"a\b\ ends in a backslash\",
    "*bold* _em_ __strong__ ~~struck~~ ~sub~ ^sup^",
    "&amp; &#60;b&#62; &lt;i&gt; &copy",
    "<!-- comment --> <?php x ?> <![CDATA[x]]> <a href=javascript:alert(1)>a</a>",
    "[link](http://e.com) ![i](x) <http://a.b> [ref]: http://c.d",
    "www.example.com/a_b_ http://nn1:8020/x_y user@example.com",
    "http://rm1:8088/proxy/application_1_0002/?a=1&b=[2]#top *www.x.org/_y_ ftp://f.org/*a*",
    "u_@example.com x._y@example.com mailto:a@b.co",
    "- [ ] task 1. one # h > quote",
    "` one tick `` two ``` three",
    "$x$ $$y$$ $`z`$",
    "@user #12 !34 ~5 %6 &7 :smile:",
    "\x1b[31mred\x1b[0m\ttab",
    "| a || b | \\| c |",
    "_leading and trailing_",
    "    indented like code",
];

#[test]
fn log_text_full_of_markup_reads_as_it_was_logged() {
    let d = tempfile::tempdir().unwrap();
    for (i, t) in NASTY.iter().enumerate() {
        let line =
            format!("2024-03-11 02:14:31,{i:03} [master.Master] WARN : Lost servers [{t}]\n");
        write(
            d.path(),
            &format!("accumulo/master_h{i:02}.log"),
            line.as_bytes(),
        );
    }
    let v = json_of(&[d.path()], 1, &[]);
    let md = markdown(&[d.path()], 1, &[]);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), NASTY.len(), "{md}");
    // In prose and cells control characters are spaces; the rest is the text as logged.
    let shown = |s: &str| -> String {
        let s: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        clip(s.trim(), 160)
    };
    for opts in [gfm(), commonmark()] {
        let html = markdown_to_html(&md, &opts);
        assert_no_live_html(&html);
        assert!(!html.contains("<a href=\"javascript"), "{html}");
        assert!(!html.contains("<em>") && !html.contains("<del>"), "{html}");
        let details = section(&html, 2, "Findings");
        for (sec, f) in details.split("<h3>").skip(1).zip(findings) {
            let summary = text(&sec[sec.find("<p>").unwrap()..sec.find("</p>").unwrap()]);
            let want = shown(str_of(&f["summary"]));
            assert_eq!(summary.trim_start_matches("Summary: "), want);
            assert_evidence(&code_blocks(sec)[0], str_of(&f["evidence"][0]["text"]));
        }
    }
    let (_, rows) = table(&markdown_to_html(&md, &gfm()));
    assert_eq!(rows.len(), findings.len());
    for (row, f) in rows.iter().zip(findings) {
        assert_eq!(row.len(), 7, "{row:?}");
        assert_eq!(row[1].0, shown(str_of(&f["summary"])), "{row:?}");
        assert_eq!(
            row[6].1,
            format!("<code>{}</code>", str_of(&f["fingerprint"]))
        );
    }
}
