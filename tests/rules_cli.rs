//! The rules commands and the built-in packs' own examples.

mod common;

use assert_cmd::Command;
use common::*;
use predicates::prelude::*;

fn logtriage() -> Command {
    Command::cargo_bin("logtriage").unwrap()
}

#[test]
fn builtin_pack_examples_all_pass() {
    let out = logtriage().args(["rules", "test"]).stdout_for(0);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(" passed, 0 failed"), "{text}");
    assert!(!text.contains("rules without examples"), "{text}");
}

#[test]
fn rules_test_fails_naming_the_rule_whose_example_cannot_match() {
    let d = tempfile::tempdir().unwrap();
    let pack = write(
        d.path(),
        "mine.toml",
        br#"[[rule]]
id = "mine.broken"
title = "t"
severity = "low"
component = "app"
layer = "application"
literals = ["Something specific happened"]
runbook = ["x"]
[[rule.examples]]
text = "2024-03-11 02:14:31,010 ERROR [a.B] - Something else happened"
expect = "match"
"#,
    );
    logtriage()
        .args(["rules", "test", "--no-builtin-rules", "--rules"])
        .arg(&pack)
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("FAIL mine.broken")
                .and(predicate::str::contains("mine.toml:9")),
        );
}

#[test]
fn every_builtin_rule_has_match_and_no_match_examples_and_steps() {
    let out = logtriage()
        .args(["rules", "list", "--format", "json"])
        .stdout_for(0);
    let v = json(&out);
    let rules = v["rules"].as_array().unwrap();
    assert!(rules.len() >= 60, "{} rules", rules.len());
    let mut components = std::collections::BTreeSet::new();
    for r in rules {
        let id = r["id"].as_str().unwrap();
        assert!(
            !r["runbook"]["steps"].as_array().unwrap().is_empty(),
            "{id} has no steps"
        );
        if !r["raised_by"].is_null() {
            // Raised by the analysis (a silence): tested by its own test, not by examples.
            continue;
        }
        assert!(
            r["examples"]["match"].as_u64().unwrap() >= 1,
            "{id} has no match example"
        );
        assert!(
            r["examples"]["no_match"].as_u64().unwrap() >= 1,
            "{id} has no no-match example"
        );
        assert!(
            !r["runbook"]["steps"].as_array().unwrap().is_empty(),
            "{id} has no steps"
        );
        assert!(r["pack"].as_str().unwrap().starts_with("rules/"));
        components.insert(r["component"].as_str().unwrap().to_string());
    }
    for c in [
        "jvm",
        "hdfs",
        "yarn",
        "spark",
        "zookeeper",
        "accumulo",
        "kafka",
        "postgresql",
        "network",
        "disk",
        "app",
    ] {
        assert!(components.contains(c), "no {c} rules");
    }
}

#[test]
fn explain_shows_meaning_steps_and_references() {
    logtriage()
        .args(["explain", "accumulo.tserver-lost-lock"])
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("Runbook:")
                .and(predicate::str::contains("1. "))
                .and(predicate::str::contains("Lost tablet server lock")),
        );
    logtriage()
        .args(["explain", "no.such-rule"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no rule"));
}
