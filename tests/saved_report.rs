//! `logtriage report REPORT.json --format human|markdown|timeline`: a saved JSON report
//! rendered again gives the same bytes as the sweep that wrote it gives in that format (the
//! human header's scan duration aside: each run has its own), without scanning again; a
//! report whose findings name a rule the loaded packs lack is refused naming the rule.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cmd() -> Command {
    let mut c = Command::cargo_bin("logtriage").unwrap();
    c.env("NO_COLOR", "1").current_dir(root());
    c
}

/// `logtriage scan INPUT ARGS... --format=FORMAT`'s stdout (it exits 1 on findings).
fn scan(input: &str, args: &[&str], format: &str) -> String {
    let out = cmd()
        .arg("scan")
        .arg(input)
        .args(args)
        .arg(format!("--format={format}"))
        .arg("--color=never")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0..=1)),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `logtriage report PATH --format=FORMAT`: (exit code, stdout, stderr).
fn report(path: &Path, format: &str) -> (i32, String, String) {
    let out = cmd()
        .arg("report")
        .arg(path)
        .arg(format!("--format={format}"))
        .arg("--color=never")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The human header's "in 0.21 s" (each run's own duration) taken out.
fn without_duration(s: &str) -> String {
    match s.find(" lines in ") {
        Some(i) => {
            let rest = &s[i + " lines in ".len()..];
            let end = rest.find(" s;").map_or(0, |e| e + " s;".len());
            format!("{} lines{}", &s[..i], &rest[end.saturating_sub(1)..])
        }
        None => s.to_string(),
    }
}

fn saved(dir: &tempfile::TempDir, input: &str, args: &[&str]) -> PathBuf {
    let path = dir.path().join("saved.json");
    std::fs::write(&path, scan(input, args, "json")).unwrap();
    path
}

/// Every text format of `report saved.json` is the scan's.
fn same_as_scan(input: &str, args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = saved(&dir, input, args);
    for format in ["human", "markdown", "timeline"] {
        let want = scan(input, args, format);
        let (code, got, err) = report(&path, format);
        assert_eq!(code, 0, "{input} --format {format}: {err}");
        assert!(err.is_empty(), "{input} --format {format}: {err}");
        let (want, got) = if format == "human" {
            (without_duration(&want), without_duration(&got))
        } else {
            (want, got)
        };
        assert!(!got.is_empty());
        if want != got {
            let line = want
                .lines()
                .zip(got.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(want.lines().count().min(got.lines().count()));
            panic!(
                "{input} --format {format}: first difference at line {}:\nscan:   {:?}\nreport: {:?}",
                line + 1,
                want.lines().nth(line),
                got.lines().nth(line)
            );
        }
    }
}

#[test]
fn samples_render_as_the_scan_did() {
    same_as_scan("samples", &["--tz=UTC", "--silence=24h"]);
}

#[test]
fn the_cluster_renders_as_the_scan_did() {
    same_as_scan("tests/fixtures/cluster", &["--tz=UTC", "--silence=24h"]);
}

#[test]
fn another_zone_and_a_hosts_clock_correction_come_back() {
    same_as_scan(
        "tests/fixtures/cluster",
        &["--tz=America/New_York", "--clock-offset=dn1=-4s"],
    );
}

#[test]
fn a_baselines_comparison_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    std::fs::write(&old, scan("samples/accumulo", &["--tz=UTC"], "json")).unwrap();
    let old = old.to_str().unwrap().to_string();
    same_as_scan(
        "samples",
        &["--tz=UTC", "--silence=24h", "--baseline", &old],
    );
}

#[test]
fn the_human_header_holds_the_saved_duration() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved(&dir, "samples", &["--tz=UTC"]);
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["scan"]["duration_ms"] = 1234.into();
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    let (code, out, _) = report(&path, "human");
    assert_eq!(code, 0);
    assert!(out.lines().next().unwrap().contains(" in 1.23 s;"), "{out}");
}

#[test]
fn an_unknown_rule_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved(&dir, "samples", &["--tz=UTC"]);
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["findings"][0]["rule"] = "site.no-such-rule".into();
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    for format in ["human", "markdown", "timeline"] {
        let (code, out, err) = report(&path, format);
        assert_eq!(code, 2, "{format}: {err}");
        assert!(out.is_empty());
        assert!(err.contains("site.no-such-rule"), "{err}");
    }
}

#[test]
fn a_cut_timeline_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved(&dir, "samples", &["--tz=UTC"]);
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let held = doc["timeline"]["entries"].as_array().unwrap().len();
    doc["timeline"]["count"] = (held + 5).into();
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    let (code, out, err) = report(&path, "timeline");
    assert_eq!(code, 0, "{err}");
    assert!(!out.is_empty());
    assert!(
        err.contains("warning") && err.contains(&format!("{held} of {}", held + 5)),
        "{err}"
    );
}

#[test]
fn ndjson_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved(&dir, "samples", &["--tz=UTC"]);
    let (code, _, err) = report(&path, "ndjson");
    assert_eq!(code, 2);
    assert!(err.contains("ndjson"), "{err}");
}
