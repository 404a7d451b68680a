//! From unknown to known, and noise control that never hides silently: `rules suggest`
//! drafts a pack that passes `rules test` as printed and turns the templates into findings;
//! the config file's suppressions (counted in every report, expiring) and overrides.

mod common;

use assert_cmd::Command;
use common::{RunExt, json, ndjson, write};
use serde_json::Value;

fn logtriage() -> Command {
    let mut c = Command::cargo_bin("logtriage").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// Two unknown templates (ten events each, ids varying) and normal lines.
fn app_log() -> String {
    let mut lines = Vec::new();
    for i in 0..40u32 {
        let ts = format!(
            "2024-03-11 03:{:02}:{:02},{:03}",
            i / 60,
            i % 60,
            i * 7 % 1000
        );
        match i % 4 {
            0 => lines.push(format!("{ts} ERROR [pool-1-thread-{}] com.koverse.ingest.Normalizer - Cannot normalize record {} of dataset ds_{}: field 'ts' missing", i % 3, 1000 + i * 13, i % 5)),
            1 => {
                lines.push(format!("{ts} ERROR [pool-1-thread-2] com.koverse.jobs.Scheduler - Job {} for dataset {} failed after {} ms", 7000 + i, i % 3, i * 11));
                lines.push("com.koverse.jobs.JobException: job failed\n\tat com.koverse.jobs.Scheduler.run(Scheduler.java:10)\nCaused by: java.util.concurrent.TimeoutException: no answer".to_string());
            }
            _ => lines.push(format!("{ts} INFO [main] com.koverse.ingest.Normalizer - Normalized {} records", i * 100)),
        }
    }
    lines.join("\n") + "\n"
}

#[test]
fn suggest_drafts_rules_that_pass_their_tests_and_turn_unknowns_into_findings() {
    let d = tempfile::tempdir().unwrap();
    let log = write(
        d.path(),
        "app1/koverse-server/koverse-server.log",
        app_log().as_bytes(),
    );
    let before = json(
        &logtriage()
            .args(["scan", "--format=json"])
            .arg(&log)
            .stdout_for(0),
    );
    let ids: Vec<&str> = before["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["template_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{}", before["unknown"]);
    let draft = logtriage()
        .args(["rules", "suggest"])
        .arg(&log)
        .stdout_for(0);
    let text = String::from_utf8(draft.clone()).unwrap();
    assert_eq!(text.matches("[[rule]]").count(), 2, "{text}");
    assert!(
        text.contains("id = \"local.cannot-normalize-record"),
        "{text}"
    );
    assert!(text.contains("TODO"), "{text}");
    assert!(text.contains("expect = \"no-match\""), "{text}");
    let pack = write(d.path(), "draft.toml", &draft);
    // As printed, the draft passes its own examples.
    let out = logtriage()
        .args(["rules", "test", "--rules"])
        .arg(&pack)
        .stdout_for(0);
    assert!(String::from_utf8_lossy(&out).contains(" 0 failed"));
    // Rescanned with it, the templates are findings, counted as before.
    let after = json(
        &logtriage()
            .args(["scan", "--format=json", "--fail-on=critical", "--rules"])
            .arg(&pack)
            .arg(&log)
            .stdout_for(0),
    );
    assert!(
        after["unknown"].as_array().unwrap().is_empty(),
        "{}",
        after["unknown"]
    );
    let local: Vec<(String, u64)> = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("local."))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(local.len(), 2, "{local:?}");
    assert!(local.iter().all(|(_, n)| *n == 10), "{local:?}");
    // --template picks one, --min-count leaves out the rarer.
    let one = logtriage()
        .args(["rules", "suggest", "--template", ids[0]])
        .arg(&log)
        .stdout_for(0);
    assert_eq!(
        String::from_utf8(one).unwrap().matches("[[rule]]").count(),
        1
    );
    let none = logtriage()
        .args(["rules", "suggest", "--min-count", "11"])
        .arg(&log)
        .stdout_for(0);
    assert_eq!(
        String::from_utf8(none).unwrap().matches("[[rule]]").count(),
        0
    );
}

#[test]
fn suppressions_are_counted_in_every_report_and_expire() {
    let d = tempfile::tempdir().unwrap();
    let log = write(
        d.path(),
        "app1/koverse-server/koverse-server.log",
        app_log().as_bytes(),
    );
    let v = json(
        &logtriage()
            .args(["scan", "--format=json"])
            .arg(&log)
            .stdout_for(0),
    );
    let t = |needle: &str| -> String {
        v["unknown"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["template"].as_str().unwrap().contains(needle))
            .unwrap()["template_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (normalize, job) = (t("normalize"), t("Job"));
    let config = write(
        d.path(),
        "logtriage.toml",
        format!(
            "[[suppress]]\ntemplate = \"{normalize}\"\nhosts = [\"app1\"]\nreason = \"OPS-7: schema change, fixed on Friday\"\n\n\
             [[suppress]]\ntemplate = \"{job}\"\nreason = \"old\"\nuntil = \"2020-01-01\"\n\n\
             [[suppress]]\ntemplate = \"{job}\"\nhosts = [\"app9\"]\nreason = \"another host\"\n"
        )
        .as_bytes(),
    );
    // Found in the current folder without --config.
    let o = logtriage()
        .current_dir(d.path())
        .args(["scan", "--format=json"])
        .arg(&log)
        .assert()
        .code(0);
    let v = json(&o.get_output().stdout);
    let stderr = String::from_utf8_lossy(&o.get_output().stderr);
    assert!(
        stderr.contains("logtriage.toml:6") && stderr.contains("expired"),
        "{stderr}"
    );
    let left: Vec<&str> = v["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["template_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        left,
        [job.as_str()],
        "the expired and the other host's entries do not apply"
    );
    let s = v["suppressed"].as_array().unwrap();
    assert_eq!(s.len(), 3, "{}", v["suppressed"]);
    assert_eq!(s[0]["entry"], "logtriage.toml:1");
    assert_eq!(s[0]["templates"], 1);
    assert_eq!(s[0]["events"], 10);
    assert_eq!(s[0]["reason"], "OPS-7: schema change, fixed on Friday");
    assert_eq!(s[1]["templates"], 0);
    assert!(s.iter().any(|e| e["expired"] == true));
    // Human: said in one line.
    let text = String::from_utf8(
        logtriage()
            .args(["scan", "--config"])
            .arg(&config)
            .arg(&log)
            .stdout_for(0),
    )
    .unwrap();
    assert!(
        text.contains("0 findings and 1 unknown template suppressed by"),
        "{text}"
    );
    // NDJSON: suppressed occurrences are not streamed.
    let lines = ndjson(
        &logtriage()
            .args(["scan", "--format=ndjson", "--config"])
            .arg(&config)
            .arg(&log)
            .stdout_for(0),
    );
    assert!(lines.iter().all(|l| l["template_id"] != normalize.as_str()));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["template_id"] == job.as_str())
            .count(),
        10
    );
}

#[test]
fn overrides_change_a_rule_s_severity_and_bad_configs_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let log = write(
        d.path(),
        "koverse-server.log",
        b"2024-03-11 02:14:31,010 ERROR [com.koverse.server.ThriftServer] - Error accepting connection\njava.io.IOException: Too many open files\n",
    );
    let config = write(
        d.path(),
        "quiet.toml",
        b"[[override]]\nrule = \"jvm.too-many-open-files\"\nseverity = \"low\"\n",
    );
    let v: Value = json(
        &logtriage()
            .args(["scan", "--format=json", "--config"])
            .arg(&config)
            .arg(&log)
            .stdout_for(0),
    );
    assert_eq!(v["findings"][0]["severity"], "low");
    let bad = write(
        d.path(),
        "bad.toml",
        b"[[suppress]]\nrule = \"jvm.too-many-open-files\"\nreason = \"x\"\nhost = [\"a\"]\n",
    );
    let o = logtriage()
        .args(["scan", "--config"])
        .arg(&bad)
        .arg(&log)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&o.get_output().stderr);
    assert!(
        stderr.contains("bad.toml:4") && stderr.contains("unknown field `host`"),
        "{stderr}"
    );
}
