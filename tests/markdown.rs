//! `--format markdown` (src/report/markdown.rs): the ticket body. Its title names the worst
//! severity and the first incident's origin; its summary table has one row per finding (every
//! fingerprint of the JSON report) and never more columns than its header, whatever `|` a log
//! line holds; evidence code blocks are closed even around log lines holding backticks;
//! runbook steps are numbered lists; the bytes do not depend on `-j`; a sweep that read nothing
//! never says "no findings".

mod common;

use std::path::{Path, PathBuf};

use common::{RunExt, json, logtriage_scan, write};
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

/// The Markdown report of `paths`, with its exit code checked.
fn markdown(paths: &[&Path], code: i32, extra: &[&str]) -> String {
    let mut c = logtriage_scan();
    c.args(["--format", "markdown", "--tz=UTC"]).args(extra);
    for p in paths {
        c.arg(p);
    }
    String::from_utf8(c.stdout_for(code)).expect("UTF-8 Markdown")
}

fn json_of(paths: &[&Path], code: i32) -> Value {
    let mut c = logtriage_scan();
    c.args(["--format", "json", "--tz=UTC"]);
    for p in paths {
        c.arg(p);
    }
    json(&c.stdout_for(code))
}

/// The rows of the summary table (header and delimiter row left out).
fn table_rows(md: &str) -> Vec<&str> {
    let mut lines = md.lines().skip_while(|l| !l.starts_with("| Severity |"));
    assert!(lines.next().is_some(), "no summary table:\n{md}");
    let delimiter = lines.next().unwrap_or_default();
    assert!(delimiter.starts_with("|---"), "delimiter row: {delimiter}");
    lines.take_while(|l| l.starts_with('|')).collect()
}

/// The cells of a table row as GFM splits them: at every `|` not escaped by a backslash.
fn cells(row: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut escaped = false;
    for c in row.trim().trim_start_matches('|').chars() {
        match c {
            '|' if !escaped => out.push(std::mem::take(&mut cell)),
            '\\' if !escaped => {
                escaped = true;
                cell.push(c);
                continue;
            }
            _ => cell.push(c),
        }
        escaped = false;
    }
    if !cell.trim().is_empty() {
        out.push(cell);
    }
    out
}

/// The fenced code blocks, as CommonMark reads them: an opening line of 3 or more backticks
/// (an info string may follow), closed by a line of at least as many backticks and nothing
/// else. Panics on a block left open.
fn code_blocks(md: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, Vec<&str>)> = None;
    for line in md.lines() {
        let run = line.chars().take_while(|&c| c == '`').count();
        match &mut open {
            None if run >= 3 && !line[run..].contains('`') => open = Some((run, Vec::new())),
            None => {}
            Some((n, body)) => {
                if run >= *n && line.trim_end().len() == run {
                    blocks.push(body.join("\n"));
                    open = None;
                } else {
                    body.push(line);
                }
            }
        }
    }
    assert!(open.is_none(), "a code block is left open:\n{md}");
    blocks
}

/// The Markdown between the heading `### <heading>` and the next heading of level 1 to 3.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(&format!("\n### {heading}\n"))
        .unwrap_or_else(|| panic!("no heading {heading:?}:\n{md}"));
    let rest = &md[start + 1..];
    let body = &rest[rest.find('\n').unwrap() + 1..];
    let end = [body.find("\n### "), body.find("\n## "), body.find("\n# ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(body.len());
    &body[..end]
}

/// A fixture whose log lines hold triple backticks and `|`: a master losing a tablet server
/// whose name is full of them, then continuation lines of a fence, a table row and a longer
/// fence.
fn tricky(d: &Path) -> PathBuf {
    write(
        d,
        "accumulo/master_node1.log",
        b"2024-03-11 02:14:30,001 [master.Master] INFO : Starting master\n\
2024-03-11 02:14:31,010 [master.Master] WARN : Lost servers [node3:9997[1|2] ```rm -rf /``` x]\n\
```\n\
| not | a | row |\n\
`````\n\
2024-03-11 02:14:32,000 [master.Master] INFO : still serving\n",
    );
    d.to_path_buf()
}

#[test]
fn title_names_the_worst_severity_and_the_origin_of_its_incident() {
    let v = json_of(&[&cluster()], 1);
    let md = markdown(&[&cluster()], 1, &[]);
    let order = ["info", "low", "medium", "high", "critical"];
    let worst = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["unknown"].as_array().unwrap())
        .map(|f| order.iter().position(|s| f["severity"] == *s).unwrap())
        .max()
        .unwrap();
    // The incident that holds the worst finding names it (here the second: the first is a
    // lone high JDBC refusal).
    let sev_of = |fp: &Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["fingerprint"] == *fp)
            .map(|f| order.iter().position(|s| f["severity"] == *s).unwrap())
    };
    let inc = v["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["chain"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| sev_of(&l["fingerprint"]) == Some(worst))
        })
        .expect("an incident holds the worst finding");
    assert_ne!(inc, &v["incidents"][0]);
    let origin = &inc["origin"]["fingerprint"];
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fingerprint"] == *origin)
        .expect("the origin is a finding");
    let title = md.lines().next().unwrap();
    let want = format!(
        "# {}: {} ({} on {})",
        order[worst].to_uppercase(),
        f["summary"].as_str().unwrap(),
        f["service"].as_str().unwrap(),
        f["host"].as_str().unwrap()
    );
    assert_eq!(title, want);
    // A one-line title, then what was scanned.
    assert!(md.contains("\n## What was scanned\n"), "{md}");
    assert!(md.contains("- **Times in:** UTC\n"), "{md}");
    assert!(md.contains("- **Hosts:** app1, dn1, dn2, dn3, nn1, zk2, zk3\n"));
}

#[test]
fn every_fingerprint_appears_and_the_table_has_one_row_per_finding_in_report_order() {
    for (input, code) in [(cluster(), 1), (samples(), 1)] {
        let v = json_of(&[&input], code);
        let md = markdown(&[&input], code, &[]);
        let findings = v["findings"].as_array().unwrap();
        assert!(!findings.is_empty());
        let rows = table_rows(&md);
        assert_eq!(rows.len(), findings.len(), "{}", input.display());
        for (row, f) in rows.iter().zip(findings) {
            let fp = f["fingerprint"].as_str().unwrap();
            let c = cells(row);
            assert_eq!(c.len(), 7, "{row}");
            assert_eq!(c[0].trim(), f["severity"].as_str().unwrap().to_uppercase());
            assert_eq!(c[3].trim(), f["count"].to_string());
            assert_eq!(c[6].trim(), format!("`{fp}`"), "{row}");
        }
        // The detail gives the first findings in report order, as many as the body holds, and
        // says how many it left out.
        let detail: Vec<&str> = md
            .lines()
            .filter_map(|l| l.strip_prefix("- **Fingerprint:** `"))
            .map(|l| l.trim_end_matches('`'))
            .collect();
        assert!(!detail.is_empty());
        for (fp, f) in detail.iter().zip(findings) {
            assert_eq!(*fp, f["fingerprint"].as_str().unwrap());
        }
        if detail.len() < findings.len() {
            assert!(md.contains(&format!(
                "{} more findings are left out of the detail",
                findings.len() - detail.len()
            )));
        }
        assert!(md.chars().count() <= 65_536, "a GitHub issue body holds it");
    }
}

#[test]
fn incidents_give_their_origin_scenario_chain_and_first_steps() {
    let v = json_of(&[&cluster()], 1);
    let md = markdown(&[&cluster()], 1, &[]);
    let incidents = v["incidents"].as_array().unwrap();
    assert!(md.contains("\n## Incidents\n"));
    for (n, inc) in incidents.iter().enumerate() {
        let heading = md
            .lines()
            .find(|l| l.starts_with(&format!("### Incident {}: ", n + 1)))
            .expect("incident heading");
        let body = section(&md, heading.trim_start_matches("### "));
        assert!(body.contains("- **Started with:** "), "{body}");
        let origin = inc["origin"]["fingerprint"].as_str().unwrap();
        assert!(
            body.contains(&format!("fingerprint `{origin}`")),
            "{origin}: {body}"
        );
        if let Some(title) = inc["scenario"]["title"].as_str() {
            let line = body
                .lines()
                .find(|l| l.starts_with("- **Run Book scenario:** "))
                .expect("scenario line");
            assert!(line.contains(title), "{line}");
        }
        // The chain: a numbered list, the origin among it.
        let chain: Vec<&str> = body
            .lines()
            .skip_while(|l| !l.starts_with("**Chain**"))
            .skip(2)
            .take_while(|l| !l.is_empty())
            .collect();
        let want = inc["chain"].as_array().unwrap().len().min(20);
        assert_eq!(chain.len(), want, "{body}");
        for (i, l) in chain.iter().enumerate() {
            assert!(l.starts_with(&format!("{}. ", i + 1)), "{l}");
        }
        assert!(chain.iter().any(|l| l.contains("the origin")), "{body}");
        let steps = inc["first_steps"].as_array().unwrap().len();
        assert!(body.contains("**First steps**"));
        assert!(body.contains(&format!("\n{steps}. ")), "{body}");
    }
}

#[test]
fn evidence_blocks_are_closed_around_backticks_and_pipes_stay_in_their_cell() {
    let d = tempfile::tempdir().unwrap();
    let input = tricky(d.path());
    let md = markdown(&[&input], 1, &[]);
    let blocks = code_blocks(&md);
    assert_eq!(blocks.len(), 1, "{md}");
    let block = &blocks[0];
    // The whole event, its fence-like lines inside the block.
    assert!(block.contains("Lost servers [node3:9997[1|2] ```rm -rf /``` x]"));
    assert!(block.contains("\n```\n| not | a | row |\n`````"), "{block}");
    // The fence is longer than any backtick run inside (5): 6 backticks.
    assert!(md.contains("\n``````text\n"), "{md}");
    // Nothing after the block was swallowed: the runbook is a list again.
    assert!(md.contains("**Runbook**\n\n1. "), "{md}");

    // The table row: the summary holds `|` and backticks, the row still has 7 cells.
    let rows = table_rows(&md);
    assert_eq!(rows.len(), 1);
    let header = md.lines().find(|l| l.starts_with("| Severity |")).unwrap();
    assert_eq!(cells(header).len(), 7);
    assert_eq!(cells(rows[0]).len(), 7, "{}", rows[0]);
    assert!(
        rows[0].contains(r"\[1\|2\] \`\`\`rm -rf /\`\`\` x\]"),
        "{}",
        rows[0]
    );
    // The title is one line, escaped the same way.
    let title = md.lines().next().unwrap();
    assert!(title.starts_with("# MEDIUM: Master/Manager lost tablet servers "));
    assert!(title.contains(r"\`\`\`rm -rf /\`\`\`"), "{title}");
}

#[test]
fn runbook_steps_are_numbered_lists() {
    let v = json_of(&[&samples()], 1);
    let md = markdown(&[&samples()], 1, &[]);
    let findings = v["findings"].as_array().unwrap();
    let mut checked = 0;
    // Each finding's detail, in report order: its steps 1..n right after **Runbook**.
    let details = &md[md.find("\n## Findings\n").expect("findings section")..];
    let mut rest = details;
    for f in findings {
        let heading = format!("\n### {} ", f["severity"].as_str().unwrap().to_uppercase());
        // The findings past the body's budget are in the table only.
        let Some(at) = rest.find(&heading) else {
            break;
        };
        rest = &rest[at + 1..];
        let end = rest[4..].find("\n### ").map_or(rest.len(), |e| e + 4);
        let body = &rest[..end];
        let steps = f["runbook"]["steps"].as_array().unwrap();
        if steps.is_empty() {
            continue;
        }
        let list: Vec<&str> = body
            .lines()
            .skip_while(|l| *l != "**Runbook**")
            .skip(2)
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(list.len(), steps.len(), "{body}");
        for (i, l) in list.iter().enumerate() {
            assert!(l.starts_with(&format!("{}. ", i + 1)), "{l}");
        }
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn the_same_bytes_whatever_the_threads() {
    let one = markdown(&[&cluster(), &samples()], 1, &["-j1"]);
    let two = markdown(&[&cluster(), &samples()], 1, &["-j2"]);
    assert!(one == two, "-j1 and -j2 differ");
}

#[test]
fn an_empty_folder_is_nothing_scanned_never_no_findings() {
    let d = tempfile::tempdir().unwrap();
    let md = markdown(&[d.path()], 2, &[]);
    assert!(
        md.starts_with("# Nothing was scanned"),
        "{}",
        md.lines().next().unwrap_or_default()
    );
    assert!(!md.to_lowercase().contains("no findings"), "{md}");
    assert!(!md.contains("| Severity |"), "{md}");

    // A file that was read and holds nothing: "No findings", said so.
    write(
        d.path(),
        "app/koverse-server.log",
        b"2024-03-11 02:14:30,001 INFO  [com.koverse.server.Server] - Starting\n",
    );
    let md = markdown(&[d.path()], 0, &[]);
    assert!(md.starts_with("# No findings in 1 file\n"), "{md}");
}

#[test]
fn unknown_templates_come_last_with_their_first_evidence() {
    let v = json_of(&[&cluster()], 1);
    let md = markdown(&[&cluster()], 1, &[]);
    let unknown = v["unknown"].as_array().unwrap();
    assert!(!unknown.is_empty());
    let at = md
        .find("\n## Not known to any rule\n")
        .expect("unknown section");
    let tail = &md[at..];
    assert!(
        !tail[1..].contains("\n## "),
        "a section after the unknown templates"
    );
    for u in unknown {
        let id = u["template_id"].as_str().unwrap();
        assert!(
            tail.contains(&format!("- **Template id:** `{id}`\n")),
            "{id}"
        );
    }
    assert_eq!(code_blocks(tail).len(), unknown.len());
}

#[test]
fn bounded_code_blocks_and_detail() {
    let d = tempfile::tempdir().unwrap();
    // A stack trace of 200 frames: its block holds at most 60 lines and the cut mark.
    let mut log = String::from(
        "2024-03-11 02:14:31,010 ERROR [com.koverse.server.ThriftServer] - Error accepting connection\njava.io.IOException: Too many open files\n",
    );
    for i in 0..200 {
        log.push_str(&format!("\tat com.example.Frame{i}.call(Frame.java:{i})\n"));
    }
    write(
        d.path(),
        "app1/koverse-server/koverse-server.log",
        log.as_bytes(),
    );
    // 201 tablet servers losing their lock: 201 findings, 200 in detail.
    for i in 0..201 {
        write(
            d.path(),
            &format!("ts/tserver_node{i:03}.example.com.log"),
            b"2024-03-11 02:12:01,010 [tserver.TabletServer] ERROR: Lost tablet server lock (reason = SESSION_EXPIRED), exiting.\n",
        );
    }
    let v = json_of(&[d.path()], 1);
    let n = v["findings"].as_array().unwrap().len();
    assert!(n >= 202, "{n} findings");
    let md = markdown(&[d.path()], 1, &[]);
    // A ticket body: within GitHub's 65,536 characters, the table and the detail cut where
    // the budget ends, each saying so.
    assert!(
        md.chars().count() <= 65_536,
        "{} characters",
        md.chars().count()
    );
    let rows = table_rows(&md).len();
    assert!((40..n).contains(&rows), "{rows} rows");
    assert!(md.contains(&format!("The table shows the first {rows} of {n} findings")));
    let details = &md[md.find("\n## Findings\n").unwrap()..];
    let details = &details[..details.find("\n## Not known").unwrap_or(details.len())];
    let shown = details.matches("\n### ").count();
    assert!((5..200).contains(&shown), "{shown} in detail");
    assert!(
        md.contains(&format!(
            "{} more findings are left out of the detail",
            n - shown
        )),
        "{md}"
    );
    for b in code_blocks(&md) {
        assert!(b.lines().count() <= 61, "{} lines", b.lines().count());
        assert!(b.len() <= 8 * 1024 + 64, "{} bytes", b.len());
    }
}
