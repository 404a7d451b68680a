//! The batch sweep through the real binary: formats, exit codes, inputs (stdin, gzip, CRLF,
//! folders, globs), bad inputs, determinism.

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn human_report_shows_finding_where_and_runbook() {
    let d = tempfile::tempdir().unwrap();
    let log = write(
        d.path(),
        "koverse-server/koverse-server.log",
        APP_LOG.as_bytes(),
    );
    let out = scan_cmd().arg(&log).stdout_for(1);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("HIGH  Process ran out of file handles"),
        "{text}"
    );
    assert!(
        text.contains("2x | 2024-03-11 02:14:31 -> 02:15:31"),
        "{text}"
    );
    assert!(
        text.contains("koverse-server.log:2\n"),
        "evidence at the header line: {text}"
    );
    assert!(
        text.contains("| java.io.IOException: Too many open files"),
        "{text}"
    );
    assert!(
        text.contains("1. Check the limits of the service user"),
        "{text}"
    );
    assert!(text.contains("START HERE"), "{text}");
    assert!(!text.contains("\x1b["), "no colour when NO_COLOR is set");
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "80 columns: {text}"
    );
}

#[test]
fn json_report_has_the_documented_shape() {
    let d = tempfile::tempdir().unwrap();
    let log = write(
        d.path(),
        "app1/koverse-server/koverse-server.log",
        APP_LOG.as_bytes(),
    );
    let out = scan_cmd()
        .arg("--format")
        .arg("json")
        .arg("--tz=UTC")
        .arg(&log)
        .stdout_for(1);
    let v = json(&out);
    assert_eq!(v["version"], 1);
    for k in [
        "inputs",
        "files",
        "bytes",
        "events",
        "layouts",
        "duration_ms",
        "rules",
    ] {
        assert!(!v["scan"][k].is_null(), "scan.{k}");
    }
    assert_eq!(v["scan"]["layouts"]["log4j"], 1);
    assert_eq!(v["scan"]["lines"], 10);
    let f = &v["findings"][0];
    for k in [
        "rule",
        "title",
        "severity",
        "component",
        "layer",
        "summary",
        "count",
        "first_seen",
        "last_seen",
        "fingerprint",
        "evidence",
        "runbook",
    ] {
        assert!(!f[k].is_null(), "finding.{k}");
    }
    assert_eq!(f["rule"], "test.too-many-open-files");
    assert_eq!(f["count"], 2);
    assert_eq!(f["first_seen"], "2024-03-11T02:14:31.010+00:00");
    assert_eq!(f["last_seen"], "2024-03-11T02:15:31.010+00:00");
    // A JVM rule's finding belongs to the service that logged it.
    assert_eq!(f["component"], "app");
    assert_eq!(f["layer"], "application");
    assert_eq!(f["host"], "app1");
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 16);
    let e = &f["evidence"][0];
    assert_eq!(e["line"], 2);
    assert_eq!(e["timestamp"], "2024-03-11T02:14:31.010+00:00");
    assert_eq!(e["level"], "ERROR");
    let text = e["text"].as_str().unwrap();
    assert!(
        text.starts_with("2024-03-11 02:14:31,010 ERROR") && text.ends_with("\t... 3 more"),
        "{text}"
    );
    assert_eq!(f["runbook"]["steps"][1], "Raise nofile and restart");
    assert_eq!(v["errors"], Value::Array(vec![]));
}

#[test]
fn ndjson_reports_each_event_once_at_its_header_line() {
    let d = tempfile::tempdir().unwrap();
    let log = write(d.path(), "a.log", APP_LOG.as_bytes());
    let out = scan_cmd().arg("--format=ndjson").arg(&log).stdout_for(1);
    let lines = ndjson(&out);
    let at: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(
        at,
        vec![2, 8],
        "continuation lines are not events of their own"
    );
    for l in &lines {
        for k in [
            "rule",
            "title",
            "severity",
            "component",
            "path",
            "line",
            "timestamp",
            "level",
            "text",
            "fingerprint",
        ] {
            assert!(l.get(k).is_some(), "ndjson.{k}");
        }
    }
    assert_eq!(lines[0]["fingerprint"], lines[1]["fingerprint"]);
}

#[test]
fn stdin_with_dash_and_with_no_path() {
    scan_cmd()
        .arg("-")
        .arg("--format=ndjson")
        .write_stdin(APP_LOG)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"path\":\"<stdin>\""));
    scan_cmd()
        .arg("--format=ndjson")
        .write_stdin(APP_LOG)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"line\":8"));
}

#[test]
fn gzip_by_magic_bytes_whatever_the_name_and_multi_member() {
    let d = tempfile::tempdir().unwrap();
    let mut two = gzip(&APP_LOG.as_bytes()[..APP_LOG.find("2024-03-11 02:14:32").unwrap()]);
    two.extend(gzip(
        &APP_LOG.as_bytes()[APP_LOG.find("2024-03-11 02:14:32").unwrap()..],
    ));
    write(d.path(), "koverse-server.log.2", &two);
    let out = scan_cmd().arg("--format=json").arg(d.path()).stdout_for(1);
    let v = json(&out);
    assert_eq!(v["findings"][0]["count"], 2);
    assert_eq!(v["findings"][0]["evidence"][1]["line"], 8);
    assert_eq!(v["sources"][0]["compressed"], true);
}

#[test]
fn crlf_lines_keep_exact_numbers_and_no_carriage_returns() {
    let d = tempfile::tempdir().unwrap();
    let crlf = APP_LOG.replace('\n', "\r\n");
    let log = write(d.path(), "crlf.log", crlf.as_bytes());
    let out = scan_cmd().arg("--format=ndjson").arg(&log).stdout_for(1);
    let lines = ndjson(&out);
    assert_eq!(lines[1]["line"], 8);
    assert!(!lines[0]["text"].as_str().unwrap().contains('\r'));
}

#[test]
fn last_line_without_newline_is_scanned() {
    let d = tempfile::tempdir().unwrap();
    let log = write(
        d.path(),
        "x.log",
        b"2024-03-11 02:14:31,010 ERROR [a.B] - Too many open files",
    );
    scan_cmd()
        .arg("--format=ndjson")
        .arg(&log)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"line\":1"));
}

#[test]
fn missing_path_exits_2_names_it_and_scans_the_rest() {
    let d = tempfile::tempdir().unwrap();
    let log = write(d.path(), "a.log", APP_LOG.as_bytes());
    let missing = d.path().join("nope.log");
    let out = scan_cmd()
        .arg("--format=json")
        .arg(&missing)
        .arg(&log)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let v = json(&out.stdout);
    assert_eq!(v["errors"][0]["path"], missing.display().to_string());
    assert_eq!(
        v["findings"][0]["count"], 2,
        "the other file is still scanned"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.log"));
    // Human output lists it too.
    scan_cmd().arg(&missing).assert().code(2).stdout(
        predicate::str::contains("Could not read").and(predicate::str::contains("nope.log")),
    );
}

#[test]
fn binary_file_is_skipped_with_a_note() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.log", APP_LOG.as_bytes());
    let mut bin = b"Too many open files\0\0\x01\x02".to_vec();
    bin.extend_from_slice(&[0u8; 100]);
    write(d.path(), "core.bin", &bin);
    let out = scan_cmd().arg("--format=json").arg(d.path()).stdout_for(1);
    let v = json(&out);
    assert_skipped(&v, "core.bin", "binary");
    assert_eq!(v["findings"][0]["files"].as_array().unwrap().len(), 1);
}

#[test]
fn exit_codes_follow_fail_on_and_min_severity() {
    let d = tempfile::tempdir().unwrap();
    let log = write(d.path(), "a.log", APP_LOG.as_bytes());
    scan_cmd()
        .arg(&log)
        .arg("--fail-on=critical")
        .assert()
        .code(0);
    scan_cmd().arg(&log).arg("--fail-on=high").assert().code(1);
    scan_cmd()
        .arg(&log)
        .arg("--min-severity=critical")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No findings."));
    let quiet = write(
        d.path(),
        "quiet.log",
        b"2024-03-11 02:14:31,010 INFO [a.B] - all good\n",
    );
    scan_cmd().arg(&quiet).assert().code(0);
    scan_cmd()
        .arg("--min-severity=bogus")
        .arg(&quiet)
        .assert()
        .code(2);
}

#[test]
fn thread_count_does_not_change_output() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..12 {
        let body = APP_LOG.replace("02:14:31", &format!("02:{:02}:31", 14 + i));
        write(
            d.path(),
            &format!("host{i}/koverse-server.log"),
            body.as_bytes(),
        );
    }
    let run = |j: &str, fmt: &str| {
        let out = scan_cmd()
            .arg("-j")
            .arg(j)
            .arg(format!("--format={fmt}"))
            .arg(d.path())
            .stdout_for(1);
        let mut s = String::from_utf8(out).unwrap();
        if let Some(i) = s.find("\"duration_ms\"") {
            let end = s[i..].find(',').unwrap() + i;
            s.replace_range(i..end, "");
        }
        s
    };
    assert_eq!(run("1", "json"), run("4", "json"));
    assert_eq!(run("1", "ndjson"), run("3", "ndjson"));
}

#[test]
fn since_and_until_filter_on_event_time() {
    let d = tempfile::tempdir().unwrap();
    let log = write(d.path(), "a.log", APP_LOG.as_bytes());
    let out = scan_cmd()
        .arg("--format=ndjson")
        .arg("--since=2024-03-11 02:15:00")
        .arg(&log)
        .stdout_for(1);
    assert_eq!(ndjson(&out).len(), 1);
    let out = scan_cmd()
        .arg("--format=ndjson")
        .arg("--until=2024-03-11T02:15:00")
        .arg(&log)
        .stdout_for(1);
    assert_eq!(ndjson(&out)[0]["line"], 2);
    assert_eq!(ndjson(&out).len(), 1);
    scan_cmd().arg("--since=1h").arg(&log).assert().code(0);
    scan_cmd()
        .arg("--since=yesterday-ish")
        .arg(&log)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a time"));
}

#[test]
fn globs_include_and_exclude_like_rg() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a/app.log", APP_LOG.as_bytes());
    write(d.path(), "a/app.txt", APP_LOG.as_bytes());
    write(d.path(), ".hidden/app.log", APP_LOG.as_bytes());
    let files = |args: &[&str]| {
        let out = scan_cmd()
            .arg("--format=json")
            .args(args)
            .arg(d.path())
            .assert()
            .get_output()
            .stdout
            .clone();
        json(&out)["scan"]["files"].as_u64().unwrap()
    };
    assert_eq!(files(&[]), 3, "hidden files too");
    assert_eq!(files(&["-g", "*.log"]), 2);
    assert_eq!(files(&["-g", "!*.txt"]), 2);
    assert_eq!(files(&["-g", "*.log", "-g", "!.hidden/**"]), 1);
}

#[test]
fn threshold_rules_need_count_within_window() {
    let d = tempfile::tempdir().unwrap();
    let line = |m: u32, s: u32| {
        format!(
            "2015-10-18 18:{m:02}:{s:02},570 WARN [LeaseRenewer:x] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_1] for 30 seconds.  Will retry shortly ...\n"
        )
    };
    let nine: String = (0..9).map(|i| line(5, i)).collect();
    let log = write(d.path(), "nine.log", nine.as_bytes());
    scan_cmd()
        .arg("--format=json")
        .arg(&log)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"findings\": []"));
    let spread: String = (0..12).map(|i| line(i * 6 % 60, 0)).collect();
    let log = write(d.path(), "spread.log", spread.as_bytes());
    scan_cmd()
        .arg("--format=json")
        .arg(&log)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"findings\": []"));
    let ten: String = (0..10).map(|i| line(5, i)).collect();
    let log = write(d.path(), "ten.log", ten.as_bytes());
    let out = scan_cmd()
        .arg("--format=json")
        .arg("--fail-on=low")
        .arg(&log)
        .stdout_for(1);
    let v = json(&out);
    assert_eq!(v["findings"][0]["count"], 10);
    assert_eq!(v["findings"][0]["threshold"]["within"], "5m");
}

#[test]
fn level_path_and_regex_filters() {
    let d = tempfile::tempdir().unwrap();
    let hadoop = "\
2015-10-18 18:06:26,029 FATAL [IPC Server handler 13 on 62270] org.apache.hadoop.mapred.TaskAttemptListenerImpl: Task: attempt_1 - exited : java.net.NoRouteToHostException: No Route to Host from  MININT-FNANLI5/127.0.0.1 to msra-sa-41:9000 failed on socket timeout exception
2015-10-18 18:06:26,030 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: Diagnostics report from attempt_1: Error: java.net.NoRouteToHostException: No Route to Host from  MININT-FNANLI5/127.0.0.1 to msra-sa-41:9000 failed on socket timeout exception
";
    let log = write(d.path(), "am.log", hadoop.as_bytes());
    let out = scan_cmd().arg("--format=json").arg(&log).stdout_for(1);
    let v = json(&out);
    assert_eq!(
        v["findings"][0]["count"], 1,
        "the INFO line is filtered by level"
    );
    assert_eq!(v["findings"][0]["summary"], "Cannot reach msra-sa-41:9000");
    assert_eq!(v["scan"]["layouts"]["hadoop-mapreduce"], 1);
    let acc = "2024-03-11 02:14:31,010 [tserver.TabletServer] ERROR: Lost tablet server lock (reason = SESSION_EXPIRED), exiting.\n";
    write(d.path(), "acc/tserver_dn1.log", acc.as_bytes());
    write(d.path(), "acc/master_dn1.log", acc.as_bytes());
    let out = scan_cmd()
        .arg("--format=json")
        .arg(d.path().join("acc"))
        .stdout_for(1);
    let v = json(&out);
    let f = &v["findings"][0];
    assert_eq!(
        f["files"].as_array().unwrap().len(),
        1,
        "files glob: only the tserver log"
    );
    assert_eq!(f["summary"], "Lock lost (SESSION_EXPIRED)");
    assert_eq!(f["service"], "tserver");
    assert_eq!(f["host"], "dn1");
}

#[test]
fn bad_rule_pack_names_file_line_and_rule() {
    let d = tempfile::tempdir().unwrap();
    let pack = write(
        d.path(),
        "bad.toml",
        b"[[rule]]\nid = \"x.one\"\ntitle = \"t\"\nseverity = \"high\"\ncomponent = \"app\"\nlayer = \"application\"\nliterals = [\"abcdef\"]\nregex = '(unclosed'\nrunbook = [\"x\"]\n",
    );
    let log = write(d.path(), "a.log", APP_LOG.as_bytes());
    assert_cmd::Command::cargo_bin("logtriage")
        .unwrap()
        .args(["scan", "--rules"])
        .arg(&pack)
        .arg(&log)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad.toml:1: rule x.one: regex does not compile",
        ));
}

#[test]
fn postgres_and_console_layouts() {
    let d = tempfile::tempdir().unwrap();
    let pg = "\
2024-01-11 06:23:58.586 UTC [26] LOG:  checkpoint starting: time
2024-01-11 06:23:59.001 UTC [31] FATAL:  sorry, too many clients already
2024-01-11 06:23:59.002 UTC [31] DETAIL:  max_connections is 100
";
    let log = write(d.path(), "postgresql-2024-01-11_000000.log", pg.as_bytes());
    let out = scan_cmd()
        .args(["--format=json", "--tz=UTC"])
        .arg(&log)
        .stdout_for(1);
    let v = json(&out);
    assert_eq!(v["scan"]["layouts"]["postgresql"], 1);
    assert_eq!(v["findings"][0]["evidence"][0]["line"], 2);
    assert_eq!(
        v["findings"][0]["evidence"][0]["timestamp"],
        "2024-01-11T06:23:59.001+00:00"
    );
    // A time that states its zone is converted to the report's (RFC 3339, with the offset).
    let berlin = json(
        &scan_cmd()
            .args(["--format=json", "--tz=Europe/Berlin"])
            .arg(&log)
            .stdout_for(1),
    );
    assert_eq!(
        berlin["findings"][0]["evidence"][0]["timestamp"],
        "2024-01-11T07:23:59.001+01:00"
    );
    assert_eq!(
        berlin["findings"][0]["first_seen"],
        "2024-01-11T07:23:59.001+01:00"
    );
    assert!(
        v["findings"][0]["evidence"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with("max_connections is 100")
    );
    let console = "starting\nException in thread \"main\" java.io.IOException: Too many open files\n\tat a.b.C.d(C.java:1)\ndone\n";
    let log = write(d.path(), "stdout", console.as_bytes());
    let out = scan_cmd().arg("--format=ndjson").arg(&log).stdout_for(1);
    let l = ndjson(&out);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["line"], 2);
    assert_eq!(l[0]["timestamp"], Value::Null);
    assert!(l[0]["text"].as_str().unwrap().ends_with("(C.java:1)"));
}

#[test]
fn empty_inputs_give_no_findings() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "empty.log", b"");
    std::fs::create_dir_all(d.path().join("empty-folder")).unwrap();
    scan_cmd()
        .arg(d.path())
        .arg("/dev/null")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No findings."));
}

#[test]
fn a_file_split_into_ranges_gives_the_same_report_as_whole() {
    // Many events with stack traces, so range cuts fall inside traces; thresholds straddle cuts.
    let mut log = String::new();
    for i in 0..400u32 {
        let (m, s) = (i / 60, i % 60);
        log.push_str(&format!("2024-03-11 02:{m:02}:{s:02},010 ERROR [com.koverse.server.ThriftServer] - Error accepting connection {i}\n"));
        log.push_str("java.io.IOException: Too many open files\n");
        for k in 0..(i % 7) {
            log.push_str(&format!(
                "\tat sun.nio.ch.ServerSocketChannelImpl.accept{k}(Native Method)\n"
            ));
        }
        log.push_str(&format!(
            "2024-03-11 02:{m:02}:{s:02},500 WARN [LeaseRenewer:x] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_1] for {i} seconds.  Will retry shortly ...\n"
        ));
    }
    let d = tempfile::tempdir().unwrap();
    let path = write(d.path(), "big.log", log.as_bytes());
    // The same text gzipped, and inside a tar: read from their start, scanned in parallel
    // chunks cut at event boundaries.
    let gz = write(d.path(), "big.log.1.gz", &gzip(log.as_bytes()));
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(log.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "big.log", log.as_bytes()).unwrap();
    let tar = write(d.path(), "big.tar", &tar.into_inner().unwrap());
    let run_on = |path: &std::path::Path, extra: &[&str]| {
        let out = scan_cmd()
            .args(["--format=json", "--max-evidence=0", "--fail-on=critical"])
            .args(extra)
            .arg(path)
            .stdout_for(0);
        let mut v = json(&out);
        v["scan"]["duration_ms"] = Value::Null;
        v
    };
    let run = |extra: &[&str]| run_on(&path, extra);
    let whole = run(&["-j1"]);
    assert_eq!(whole["findings"][0]["count"], 400);
    for size in ["1000", "4096", "20000"] {
        let split = run(&["-j2", "--split-bytes", size]);
        assert_eq!(whole, split, "split at {size} bytes");
    }
    // Findings and their evidence, not paths: those name the .gz and the member.
    let strip = |mut v: Value| {
        for f in v["findings"].as_array_mut().unwrap() {
            f["files"] = Value::Null;
            for e in f["evidence"].as_array_mut().unwrap() {
                e["path"] = Value::Null;
            }
        }
        v["findings"].take()
    };
    for compressed in [&gz, &tar] {
        let one = strip(run_on(compressed, &["-j1"]));
        assert_eq!(one, strip(whole.clone()), "{}", compressed.display());
        for size in ["1000", "4096", "20000"] {
            let chunked = strip(run_on(compressed, &["-j2", "--split-bytes", size]));
            assert_eq!(one, chunked, "{} in chunks of {size}", compressed.display());
        }
    }
}

#[test]
fn over_long_lines_are_cut_and_counted_and_lines_stay_exact() {
    let d = tempfile::tempdir().unwrap();
    let mut data = b"2024-03-11 02:14:30,001 INFO [a.B] - ".to_vec();
    data.extend(std::iter::repeat_n(b'x', 3 << 20));
    data.extend_from_slice(b" Too many open files at the end of a huge line\n");
    data.extend_from_slice(b"2024-03-11 02:14:31,010 ERROR [a.B] - Too many open files\n");
    let log = write(d.path(), "long.log", &data);
    let out = scan_cmd().arg("--format=json").arg(&log).stdout_for(1);
    let v = json(&out);
    assert_eq!(v["scan"]["cut_lines"], 1);
    assert_eq!(v["scan"]["lines"], 2);
    let f = &v["findings"][0];
    assert_eq!(f["count"], 1, "the hit past the cut is not seen");
    assert_eq!(f["evidence"][0]["line"], 2);
}

#[test]
fn accumulo_events_in_both_files_count_once_and_older_ones_in_the_plain_log_still_count() {
    let d = tempfile::tempdir().unwrap();
    let lost = |t: &str| {
        format!(
            "2024-03-11 {t},000 [tserver.TabletServer] ERROR: Lost tablet server lock (reason = LOCK_DELETED), exiting.\n"
        )
    };
    // The plain log reaches further back than its debug log (which rotates faster).
    let plain = format!(
        "{}2024-03-11 01:00:01,000 [tserver.TabletServer] INFO : started\n{}",
        lost("01:00:00"),
        lost("02:30:00")
    );
    let debug = format!(
        "2024-03-11 02:00:00,000 [tserver.TabletServer] DEBUG: scan\n{}",
        lost("02:30:00")
    );
    write(d.path(), "logs/tserver_n1.log", plain.as_bytes());
    write(d.path(), "logs/tserver_n1.debug.log", debug.as_bytes());
    let lost_lock = |v: &Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "test.tserver-lock")
            .cloned()
            .expect("test.tserver-lock reported")
    };
    let v = json(
        &scan_cmd()
            .args(["--format=json", "--tz=UTC"])
            .arg(d.path())
            .stdout_for(1),
    );
    let f = lost_lock(&v);
    assert_eq!(f["count"], 2, "01:00 from the .log, 02:30 once: {f}");
    assert_eq!(f["first_seen"], "2024-03-11T01:00:00.000+00:00");
    assert_eq!(f["files_total"], 2);
    // Without the debug log, the plain log counts whole.
    let v = json(
        &scan_cmd()
            .arg("--format=json")
            .arg(d.path().join("logs/tserver_n1.log"))
            .stdout_for(1),
    );
    assert_eq!(lost_lock(&v)["count"], 2);
    assert_eq!(v["sources"][0]["note"], Value::Null);
}
