//! `logtriage check` (the monitoring plugin) through the real binary, on files in a temp folder:
//! only what was written since the last run, an event split across two runs (reported once,
//! nothing lost), a partial last line, a flood of one failure, the levels, a rename rotation
//! between runs, a missing path and a damaged state file (UNKNOWN, 3), usage errors (3), and the
//! Ambari alert script's mapping of the exit codes (`contrib/ambari/test_logtriage_alert.py`).

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::append;

fn fail(id: u32) -> String {
    format!(
        "2024-03-11 02:14:{:02},{:03} ERROR [com.koverse.server.ThriftServer] - id={id} accept failed\n\
         java.io.IOException: Too many open files\n\
         \tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n",
        id % 60,
        id % 1000
    )
}

fn ok(id: u32) -> String {
    format!("2024-03-11 02:15:00,000 INFO  [com.koverse.server.Server] - id={id} fine\n")
}

fn put(p: &Path, s: &str) {
    append(p).write_all(s.as_bytes()).unwrap();
}

/// Runs `logtriage check` with the engine test pack: (exit code, stdout lines).
fn check(state: &Path, args: &[&str], paths: &[&Path]) -> (i32, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_logtriage"))
        .arg("check")
        .args(["--no-builtin-rules", "--rules"])
        .arg(common::engine_pack())
        .arg("--state")
        .arg(state)
        .args(args)
        .args(paths)
        .output()
        .expect("logtriage runs");
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    (out.status.code().expect("exit code"), lines)
}

const NONE: &str = "critical=0 high=0 medium=0 low=0 info=0";
const ONE_HIGH: &str = "critical=0 high=1 medium=0 low=0 info=0";

fn assert_ok(r: &(i32, Vec<String>)) {
    assert_eq!(r.0, 0, "{:?}", r.1);
    assert!(r.1[0].starts_with("OK - no new findings"), "{:?}", r.1);
    assert!(r.1[0].ends_with(&format!(" | {NONE}")), "{:?}", r.1);
}

fn assert_one_high(r: &(i32, Vec<String>), times: &str) {
    assert_eq!(r.0, 2, "{:?}", r.1);
    assert_eq!(
        r.1[0],
        format!("CRITICAL - 1 new finding: Process ran out of file handles{times} | {ONE_HIGH}")
    );
    assert!(
        r.1[1].starts_with("high: Process ran out of file handles | service koverse-server | "),
        "{:?}",
        r.1
    );
}

#[test]
fn only_new_lines_across_runs() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("koverse-server.log");
    let state = d.path().join("check.state");
    put(&log, &format!("{}{}", fail(1), ok(1)));
    let r = check(&state, &[], &[&log]);
    assert_one_high(&r, "");
    assert_eq!(
        r.1.len(),
        2,
        "the status line, one long-output line: {:?}",
        r.1
    );
    assert!(r.1[1].contains("koverse-server.log:1: "), "{:?}", r.1);
    assert!(
        r.1[1].ends_with("| rule test.too-many-open-files"),
        "{:?}",
        r.1
    );
    assert_ok(&check(&state, &[], &[&log]));
    // A flood of one failure is one finding, with its count.
    let flood: String = (2..7).map(fail).collect();
    put(&log, &format!("{flood}{}", ok(2)));
    let r = check(&state, &[], &[&log]);
    assert_one_high(&r, " (5 times)");
    assert!(r.1[1].contains("| 5 times | "), "{:?}", r.1);
    assert!(r.1[1].contains("koverse-server.log:5: "), "{:?}", r.1);
    assert_ok(&check(&state, &[], &[&log]));
    // The levels: high is CRITICAL by default, WARNING under --critical critical, OK when
    // --warning is above it too (still listed).
    put(&log, &format!("{}{}", fail(8), ok(3)));
    fs::copy(&state, d.path().join("again.state")).unwrap();
    fs::copy(&state, d.path().join("third.state")).unwrap();
    let r = check(
        &d.path().join("again.state"),
        &["--critical", "critical", "--max-lines", "0"],
        &[&log],
    );
    assert_eq!(r.0, 1, "{:?}", r.1);
    assert_eq!(
        r.1.len(),
        1,
        "--max-lines 0: the status line only: {:?}",
        r.1
    );
    assert!(r.1[0].starts_with("WARNING - 1 new finding: "), "{:?}", r.1);
    let r = check(
        &d.path().join("third.state"),
        &["-w", "critical", "-c", "critical"],
        &[&log],
    );
    assert_eq!(r.0, 0, "{:?}", r.1);
    assert!(
        r.1[0].starts_with("OK - 1 new finding below critical: Process ran out"),
        "{:?}",
        r.1
    );
    assert_one_high(&check(&state, &[], &[&log]), "");
}

#[test]
fn an_event_split_across_runs_is_reported_once_and_a_partial_line_waits() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("koverse-server.log");
    let state = d.path().join("check.state");
    let ev = fail(1);
    let lines: Vec<&str> = ev.split_inclusive('\n').collect();
    // The header alone (no failure in it yet): it may go on.
    put(&log, &format!("{}{}", ok(0), lines[0]));
    assert_ok(&check(&state, &[], &[&log]));
    // Its next line holds the failure: reported (the event at the end is complete in a run).
    put(&log, lines[1]);
    assert_one_high(&check(&state, &[], &[&log]), "");
    // More of the same event, then the next event: nothing new.
    put(&log, lines[2]);
    assert_ok(&check(&state, &[], &[&log]));
    put(&log, &ok(1));
    assert_ok(&check(&state, &[], &[&log]));
    // A failure written whole at once, then the next run: once.
    put(&log, &ev);
    assert_one_high(&check(&state, &[], &[&log]), "");
    put(&log, &ok(2));
    assert_ok(&check(&state, &[], &[&log]));
    // A half-written line (no newline yet) waits for the next run.
    let line = "2024-03-11 02:16:00,000 ERROR [com.koverse.server.X] - Too many open files";
    put(&log, &line[..40]);
    assert_ok(&check(&state, &[], &[&log]));
    put(&log, &format!("{}\n", &line[40..]));
    let r = check(&state, &[], &[&log]);
    assert_one_high(&r, "");
    assert!(r.1[1].contains(&format!(": {line} |")), "{:?}", r.1);
    assert_ok(&check(&state, &[], &[&log]));
}

#[test]
fn what_the_rest_of_a_split_event_adds_is_reported() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("koverse-server.log");
    let state = d.path().join("check.state");
    put(
        &log,
        "2024-03-11 02:14:01,001 ERROR [com.koverse.Client] - connect to node2:8020 failed\n\
         java.io.IOException: Too many open files\n",
    );
    assert_one_high(&check(&state, &[], &[&log]), "");
    // The event goes on with another rule's failure: only that one is new.
    put(
        &log,
        "Caused by: java.net.NoRouteToHostException: No route to host\n",
    );
    let r = check(&state, &[], &[&log]);
    assert_eq!(r.0, 1, "{:?}", r.1);
    assert_eq!(
        r.1[0],
        "WARNING - 1 new finding: No route to host | critical=0 high=0 medium=1 low=0 info=0"
    );
    put(&log, &ok(1));
    assert_ok(&check(&state, &[], &[&log]));
}

#[test]
fn from_end_starts_at_the_end_on_the_first_run_only() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("koverse-server.log");
    let state = d.path().join("check.state");
    put(&log, &format!("{}{}", fail(1), ok(1)));
    assert_ok(&check(&state, &["--from-end"], &[&log]));
    put(&log, &format!("{}{}", fail(2), ok(2)));
    let r = check(&state, &["--from-end"], &[&log]);
    assert_one_high(&r, "");
    assert!(r.1[1].contains("koverse-server.log:5: "), "{:?}", r.1);
    // A file that appears between runs is read from its start.
    let other = d.path().join("koverse-server-2.log");
    put(&other, &format!("{}{}", fail(3), ok(3)));
    let r = check(&state, &["--from-end"], &[d.path()]);
    assert_eq!(r.0, 2, "{:?}", r.1);
    assert!(r.1[1].contains("koverse-server-2.log:1: "), "{:?}", r.1);
    // The state file in the followed folder is not read as a log.
    let r = check(&state, &[], &[d.path()]);
    assert_eq!(r.1[0], format!("OK - no new findings in 2 files | {NONE}"));
}

#[test]
fn a_rename_rotation_between_runs() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("logs");
    fs::create_dir(&dir).unwrap();
    let log = dir.join("koverse-server.log");
    let old = dir.join("koverse-server.log.1");
    let state = d.path().join("check.state");
    let state_dir = d.path().join("dir.state");
    put(&log, &format!("{}{}", fail(1), ok(1)));
    assert_one_high(&check(&state, &[], &[&log]), "");
    assert_one_high(&check(&state_dir, &[], &[&dir]), "");
    // Written, renamed away, and a new file under the name: both files' new lines are read.
    put(&log, &format!("{}{}", ok(2), fail(2)));
    fs::rename(&log, &old).unwrap();
    put(&log, &format!("{}{}", ok(3), fail(3)));
    let r = check(&state, &[], &[&log]);
    assert_one_high(&r, " (2 times)");
    let r = check(&state_dir, &[], &[&dir]);
    assert_one_high(&r, " (2 times)");
    assert_ok(&check(&state, &[], &[&log]));
    assert_ok(&check(&state_dir, &[], &[&dir]));
    // Following the file: the rotated one was read to its end and is not kept in the state.
    let st: serde_json::Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    let paths: Vec<&str> = st["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [log.to_str().unwrap()], "{st}");
}

#[test]
fn copytruncate_and_truncation_between_runs() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("koverse-server.log");
    let copy = d.path().join("koverse-server.log.1");
    let state = d.path().join("check.state");
    put(&log, &format!("{}{}", fail(1), ok(1)));
    assert_one_high(&check(&state, &[], &[&log]), "");
    // Written, copied, truncated, written again: the copy holds the rest of what was read.
    put(&log, &format!("{}{}", fail(2), ok(2)));
    fs::copy(&log, &copy).unwrap();
    fs::File::create(&log).unwrap();
    put(&log, &format!("{}{}", ok(3), fail(3)));
    assert_one_high(&check(&state, &[], &[&log]), " (2 times)");
    assert_ok(&check(&state, &[], &[&log]));
    // Truncated in place and rewritten: what it holds now is read from its start.
    fs::File::create(&log).unwrap();
    put(&log, &format!("{}{}{}", ok(4), fail(4), ok(5)));
    let r = check(&state, &[], &[&log]);
    assert_eq!(r.0, 2, "{:?}", r.1);
    assert!(
        r.1[0].starts_with("CRITICAL - 1 new finding: Process ran out of file handles"),
        "{:?}",
        r.1
    );
    assert_ok(&check(&state, &[], &[&log]));
}

#[test]
fn unknown_missing_path_damaged_state_usage() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("koverse-server.log");
    put(&log, &fail(1));
    let state = d.path().join("check.state");
    let missing = d.path().join("nope");
    let r = check(&state, &[], &[&log, &missing]);
    assert_eq!(r.0, 3, "{:?}", r.1);
    assert_eq!(
        r.1,
        [format!(
            "UNKNOWN - {}: No such file or directory (os error 2)",
            missing.display()
        )]
    );
    assert!(!state.exists(), "nothing was read: no state written");
    fs::write(&state, b"{\"version\": 1, \"files\": [").unwrap();
    let r = check(&state, &[], &[&log]);
    assert_eq!(r.0, 3, "{:?}", r.1);
    assert!(
        r.1[0].starts_with(&format!(
            "UNKNOWN - state file {}: not a logtriage state file: ",
            state.display()
        )),
        "{:?}",
        r.1
    );
    assert_eq!(fs::read(&state).unwrap(), b"{\"version\": 1, \"files\": [");
    fs::write(
        &state,
        b"{\"version\": 99, \"saved_at_ns\": 0, \"files\": []}",
    )
    .unwrap();
    let r = check(&state, &[], &[&log]);
    assert_eq!(r.0, 3, "{:?}", r.1);
    assert!(r.1[0].contains("state file version 99"), "{:?}", r.1);
    fs::remove_file(&state).unwrap();
    // A state file that cannot be written (its folder is a file): UNKNOWN, with what was found.
    fs::write(d.path().join("not-a-dir"), b"").unwrap();
    let r = check(&d.path().join("not-a-dir/check.state"), &[], &[&log]);
    assert_eq!(r.0, 3, "{:?}", r.1);
    assert!(r.1[0].starts_with("UNKNOWN - cannot "), "{:?}", r.1);
    // Another run holding the state file's lock: UNKNOWN, nothing read.
    let held = fs::File::create(d.path().join("check.state.lock")).unwrap();
    held.lock().unwrap();
    let r = check(&state, &[], &[&log]);
    assert_eq!(r.0, 3, "{:?}", r.1);
    assert_eq!(
        r.1,
        [format!(
            "UNKNOWN - another logtriage check is running with the state file {}",
            state.display()
        )]
    );
    drop(held);
    assert_one_high(&check(&state, &[], &[&log]), "");
    fs::remove_file(&state).unwrap();
    // Usage errors are UNKNOWN too (clap's own code would be 2, CRITICAL).
    let r = check(&state, &["--warning", "bad"], &[&log]);
    assert_eq!(r.0, 3, "{:?}", r.1);
    assert!(r.1[0].starts_with("UNKNOWN - usage: "), "{:?}", r.1);
    assert!(r.1[0].contains("bad"), "{:?}", r.1);
    let r = check(&state, &["-w", "high", "-c", "medium"], &[&log]);
    assert_eq!(r.0, 3, "{:?}", r.1);
    let bin = env!("CARGO_BIN_EXE_logtriage");
    let out = Command::new(bin).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("UNKNOWN - usage: "));
    for a in ["--help", "--version"] {
        let out = Command::new(bin).args(["check", a]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "check {a}");
    }
    // Other commands keep clap's exit code.
    let out = Command::new(bin).args(["scan", "--nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
#[test]
fn ambari_alert_script_maps_the_exit_codes() {
    // python3 is needed: skipped (with a note) where there is none.
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("no python3: the Ambari alert script is not tested");
        return;
    }
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ambari/test_logtriage_alert.py");
    let out = Command::new("python3")
        .arg(&script)
        .env("LOGTRIAGE_BIN", env!("CARGO_BIN_EXE_logtriage"))
        .env("LOGTRIAGE_TEST_PACK", common::engine_pack())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
