//! `logtriage schema`: the JSON Schemas derived from the report's types are the ones committed
//! in docs/, and a real validator (the `jsonschema` crate) accepts the reports and records the
//! tool writes for the fixtures, and refuses a report that breaks them.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn run(args: &[&str]) -> String {
    let out = Command::cargo_bin("logtriage")
        .unwrap()
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn validator(of: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&run(&["schema", of])).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_committed_schemas_are_the_ones_the_types_give() {
    for (of, file) in [
        ("report", "docs/report.schema.json"),
        ("ndjson", "docs/record.schema.json"),
    ] {
        let committed = std::fs::read_to_string(root().join(file)).unwrap();
        assert_eq!(
            committed,
            run(&["schema", of]),
            "{file} is out of date: logtriage schema {of} > {file}"
        );
    }
}

#[test]
fn the_reports_of_the_fixtures_are_valid() {
    let v = validator("report");
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    std::fs::write(
        &old,
        run(&["scan", "--tz=UTC", "--format=json", "samples/accumulo"]),
    )
    .unwrap();
    let old_s = old.display().to_string();
    let reports = [
        run(&["scan", "--tz=UTC", "--format=json", "samples"]),
        run(&[
            "scan",
            "--tz=UTC",
            "--format=json",
            "tests/fixtures/cluster",
        ]),
        run(&[
            "scan",
            "--tz=UTC",
            "--format=json",
            "--baseline",
            &old_s,
            "samples",
        ]),
        run(&["merge", "--tz=UTC", "--format=json", &old_s, &old_s]),
        run(&["scan", "--tz=UTC", "--format=json", "tests/fixtures/yarn"]),
    ];
    for (i, r) in reports.iter().enumerate() {
        let doc: Value = serde_json::from_str(r).unwrap();
        assert!(
            !doc["findings"].as_array().unwrap().is_empty(),
            "report {i}"
        );
        let e = errors(&v, &doc);
        assert!(e.is_empty(), "report {i}: {e:?}");
    }
}

#[test]
fn the_ndjson_records_are_valid() {
    let v = validator("ndjson");
    let out = run(&[
        "scan",
        "--tz=UTC",
        "--format=ndjson",
        "samples",
        "tests/fixtures/cluster",
    ]);
    let mut n = 0;
    for line in out.lines() {
        let rec: Value = serde_json::from_str(line).unwrap();
        let e = errors(&v, &rec);
        assert!(e.is_empty(), "{line}: {e:?}");
        n += 1;
    }
    assert!(n > 50, "{n} records");
}

#[test]
fn a_report_that_breaks_the_schema_is_refused() {
    let v = validator("report");
    let mut doc: Value =
        serde_json::from_str(&run(&["scan", "--tz=UTC", "--format=json", "samples"])).unwrap();
    doc["findings"][0]["count"] = Value::from("three");
    doc["scan"].as_object_mut().unwrap().remove("files");
    let e = errors(&v, &doc);
    assert!(e.iter().any(|m| m.contains("/findings/0/count")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("files")), "{e:?}");
}
