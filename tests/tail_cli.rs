//! `logtriage tail` through the real binary, on files in a temp folder: rename rotation with a
//! late write to the renamed file, copytruncate, truncation, delete and recreate, a symlink
//! swap, a new file in a new folder, a split write, `--flush-after`, restart with `--state`,
//! the human format with its cooldown and summary, warnings, a closed stdout.
//!
//! Robust on a loaded machine: every expectation is polled for (up to `WAIT`), never assumed
//! after a fixed sleep. The short sleeps below only make a write arrive in pieces.

mod common;

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::append;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

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

fn put(f: &mut File, s: &str) {
    f.write_all(s.as_bytes()).unwrap();
}

struct Tail {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<String>>,
}

impl Tail {
    /// Starts `logtriage tail` with the engine test pack and waits until it follows.
    fn start(args: &[&str], paths: &[&Path]) -> Tail {
        Tail::spawn(args, paths, true)
    }

    /// As `start`; without `read_stdout` the test reads (and closes) `child.stdout` itself.
    fn spawn(args: &[&str], paths: &[&Path], read_stdout: bool) -> Tail {
        let engine = [
            "--no-builtin-rules".to_string(),
            "--rules".to_string(),
            common::engine_pack().display().to_string(),
        ];
        Tail::spawn_with(&engine, args, paths, read_stdout)
    }

    /// As `start`, with the built-in packs.
    fn start_builtin(args: &[&str], paths: &[&Path]) -> Tail {
        Tail::spawn_with(&[], args, paths, true)
    }

    fn spawn_with(packs: &[String], args: &[&str], paths: &[&Path], read_stdout: bool) -> Tail {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_logtriage"));
        cmd.arg("tail")
            .args(packs)
            .args(args)
            .args(paths)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("logtriage runs");
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(String::new()));
        if read_stdout {
            let stdout = child.stdout.take().unwrap();
            let o = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    match line {
                        Ok(l) => o.lock().unwrap().push(l),
                        Err(_) => break,
                    }
                }
            });
        }
        let stderr = child.stderr.take().unwrap();
        let e = err.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut buf = [0u8; 4096];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                e.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let t = Tail { child, out, err };
        t.wait_stderr("logtriage tail: following");
        t
    }

    fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    fn lines(&self) -> Vec<String> {
        self.out.lock().unwrap().clone()
    }

    fn wait_stderr(&self, what: &str) {
        let t0 = Instant::now();
        while !self.stderr().contains(what) {
            assert!(
                t0.elapsed() < WAIT,
                "stderr never said {what:?}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// NDJSON occurrences so far.
    fn events(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// Waits until every id in `ids` has been reported.
    fn wait_ids(&self, ids: &[u32]) -> Vec<Value> {
        let t0 = Instant::now();
        loop {
            let ev = self.events();
            let seen: Vec<u32> = ev.iter().filter_map(id_of).collect();
            if ids.iter().all(|i| seen.contains(i)) {
                return ev;
            }
            assert!(
                t0.elapsed() < WAIT,
                "ids {ids:?} not all reported; got {seen:?}; stderr: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_stdout(&self, what: &str) -> String {
        let t0 = Instant::now();
        loop {
            let text = self.lines().join("\n");
            if text.contains(what) {
                return text;
            }
            assert!(
                t0.elapsed() < WAIT,
                "stdout never said {what:?}: {text}\nstderr: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits for the exit: (exit code, stdout lines, stderr).
    fn stop(mut self) -> (Option<i32>, Vec<String>, String) {
        let pid = self.child.id().to_string();
        let st = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(st.success());
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(t0.elapsed() < WAIT, "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the reader threads drain the pipes.
        let t1 = Instant::now();
        while !self.stderr().contains("logtriage tail: stopped") && t1.elapsed() < WAIT {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(50));
        (status.code(), self.lines(), self.stderr())
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn id_of(v: &Value) -> Option<u32> {
    let t = v["text"].as_str()?;
    let i = t.find("id=")? + 3;
    t[i..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Each id exactly once; returns id -> (path, line).
fn once(events: &[Value], ids: &[u32]) -> Vec<(u32, String, u64)> {
    let mut out = Vec::new();
    for &id in ids {
        let hits: Vec<&Value> = events.iter().filter(|v| id_of(v) == Some(id)).collect();
        assert_eq!(
            hits.len(),
            1,
            "id {id} reported {} times: {events:#?}",
            hits.len()
        );
        out.push((
            id,
            hits[0]["path"].as_str().unwrap().to_string(),
            hits[0]["line"].as_u64().unwrap(),
        ));
    }
    let known: Vec<Option<u32>> = events.iter().map(id_of).collect();
    for k in known {
        assert!(
            k.is_some_and(|k| ids.contains(&k)),
            "unexpected event {k:?}: {events:#?}"
        );
    }
    out
}

fn ndjson_args() -> Vec<&'static str> {
    vec!["--format", "ndjson", "--cooldown", "0"]
}

fn logs(d: &tempfile::TempDir) -> PathBuf {
    let p = d.path().join("logs");
    fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn rename_rotation_with_a_late_write_then_the_new_file() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let log = dir.join("koverse-server.log");
    fs::write(&log, fail(100) + &ok(0)).unwrap(); // before the start: not reported
    let mut w = append(&log);
    let t = Tail::start(&ndjson_args(), &[&dir]);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_ids(&[1]);
    // Rotation: rename, the writer still appends to the renamed file, then reopens.
    let rotated = dir.join("koverse-server.log.1");
    fs::rename(&log, &rotated).unwrap();
    put(&mut w, &(fail(2) + &ok(2)));
    let mut w2 = append(&log);
    put(&mut w2, &(fail(3) + &ok(3)));
    let ev = t.wait_ids(&[1, 2, 3]);
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let got = once(&ev, &[1, 2, 3]);
    assert_eq!(got[0].2, 5, "{got:?}");
    assert!(got[1].1.ends_with("koverse-server.log.1"), "{got:?}");
    assert_eq!(got[1].2, 9, "late write, in the renamed file: {got:?}");
    assert!(got[2].1.ends_with("koverse-server.log"), "{got:?}");
    assert_eq!(got[2].2, 1, "the new file from its first line: {got:?}");
    assert!(err.contains("1 finding (1 high)"), "{err}");
    let v = &ev[0];
    for k in [
        "rule",
        "title",
        "severity",
        "component",
        "layer",
        "service",
        "host",
        "path",
        "line",
        "timestamp",
        "timestamp_text",
        "level",
        "summary",
        "text",
        "fingerprint",
    ] {
        assert!(v.get(k).is_some(), "scan's NDJSON key {k} missing: {v}");
    }
    assert_eq!(v["service"], "koverse-server");
    assert!(v["text"].as_str().unwrap().contains("\tat sun.nio.ch"));
}

#[test]
fn copytruncate_reads_the_lines_only_the_copy_holds() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let log = dir.join("app.log");
    let mut w = append(&log);
    put(&mut w, &ok(0));
    let t = Tail::start(&ndjson_args(), &[&log]);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_ids(&[1]);
    // Written and rotated at once: the follower may not have read event 2 before the
    // truncation; the copy (a name that is not followed) still has it.
    put(&mut w, &(fail(2) + &ok(2)));
    fs::copy(&log, dir.join("app.log.1")).unwrap();
    w.set_len(0).unwrap();
    put(&mut w, &(fail(3) + &ok(3)));
    let ev = t.wait_ids(&[1, 2, 3]);
    let (code, lines, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let got = once(&ev, &[1, 2, 3]);
    assert_eq!(got[1].2, 6, "{got:?}");
    assert_eq!(got[2].2, 1, "after the truncation, from the start: {got:?}");
    assert_eq!(lines.len(), 3, "{lines:?}");
}

#[test]
fn truncation_and_delete_recreate_read_from_the_start() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let log = dir.join("app.log");
    let mut w = append(&log);
    put(&mut w, &(ok(0) + &ok(0) + &ok(0) + &ok(0)));
    let t = Tail::start(&ndjson_args(), &[&dir]);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_ids(&[1]);
    w.set_len(0).unwrap();
    put(&mut w, &(fail(2) + &ok(2)));
    t.wait_ids(&[2]);
    fs::remove_file(&log).unwrap();
    let mut w = append(&log);
    put(&mut w, &(ok(3) + &fail(3) + &ok(3)));
    let ev = t.wait_ids(&[1, 2, 3]);
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let got = once(&ev, &[1, 2, 3]);
    assert_eq!(
        got.iter().map(|g| g.2).collect::<Vec<_>>(),
        vec![5, 1, 2],
        "{got:?}"
    );
}

#[test]
fn symlink_swap_follows_the_new_target() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let a = dir.join("app-1.txt");
    let b = dir.join("app-2.txt");
    let link = dir.join("current.log");
    let mut wa = append(&a);
    put(&mut wa, &ok(0));
    std::os::unix::fs::symlink(&a, &link).unwrap();
    let t = Tail::start(&ndjson_args(), &[&link]);
    put(&mut wa, &(fail(1) + &ok(1)));
    t.wait_ids(&[1]);
    let mut wb = append(&b);
    put(&mut wb, &(fail(2) + &ok(2)));
    let tmp = dir.join("current.log.tmp");
    std::os::unix::fs::symlink(&b, &tmp).unwrap();
    fs::rename(&tmp, &link).unwrap();
    // The old target is read to its end; the new one from its start.
    put(&mut wa, &(fail(3) + &ok(3)));
    let ev = t.wait_ids(&[1, 2, 3]);
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let got = once(&ev, &[1, 2, 3]);
    assert_eq!(got[1].2, 1, "{got:?}");
}

#[test]
fn a_new_file_in_a_new_folder_is_read_from_its_start_with_poll() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let mut args = ndjson_args();
    args.extend(["--poll", "100ms", "-g", "*.log"]);
    let t = Tail::start(&args, &[&dir]);
    let sub = dir.join("dn1/hadoop");
    fs::create_dir_all(&sub).unwrap();
    let log = sub.join("hadoop-hdfs-datanode-dn1.log");
    fs::write(&log, ok(0) + &ok(0) + &fail(1) + &ok(1)).unwrap();
    fs::write(sub.join("ignored.txt"), fail(9)).unwrap();
    let ev = t.wait_ids(&[1]);
    let (code, lines, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let got = once(&ev, &[1]);
    assert_eq!(got[0].2, 3, "{got:?}");
    assert_eq!(ev[0]["host"], "dn1", "{}", ev[0]);
    assert_eq!(lines.len(), 1, "the glob leaves out ignored.txt: {lines:?}");
    assert!(err.contains("checked every 100 ms"), "{err}");
}

#[test]
fn a_split_write_is_one_event_and_flush_after_ends_the_last() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let log = dir.join("app.log");
    let mut w = append(&log);
    put(&mut w, &ok(0));
    let mut args = ndjson_args();
    args.extend(["--flush-after", "2s"]);
    let t = Tail::start(&args, &[&dir]);
    let ev1 = fail(1);
    let (a, rest) = ev1.split_at(30); // in the middle of the header line
    let (b, c) = rest.split_at(rest.find("\tat").unwrap()); // header + exception | stack frame
    put(&mut w, a);
    std::thread::sleep(Duration::from_millis(150));
    put(&mut w, b);
    std::thread::sleep(Duration::from_millis(150));
    put(&mut w, c);
    put(
        &mut w,
        "\tat sun.nio.ch.ServerSocketChannelImpl.accept(X.java:422)\n",
    );
    let t0 = Instant::now();
    // No next header: the event ends after --flush-after (2 s) of quiet.
    let ev = t.wait_ids(&[1]);
    assert!(
        t0.elapsed() >= Duration::from_millis(1500),
        "not before --flush-after"
    );
    let text = ev[0]["text"].as_str().unwrap();
    assert!(
        text.ends_with("accept(X.java:422)"),
        "the whole stack trace: {text}"
    );
    assert_eq!(ev[0]["line"], 2);
    let (code, lines, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(lines.len(), 1, "{lines:?}");
}

#[test]
fn restart_with_state_loses_and_repeats_nothing() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let state = d.path().join("tail.state");
    let log = dir.join("tserver_tablet1.log");
    let mut w = append(&log);
    put(&mut w, &ok(0));
    let mut args = ndjson_args();
    let sp = state.to_str().unwrap().to_string();
    args.extend(["--state", &sp, "-g", "*.log"]);
    let t = Tail::start(&args, &[&dir]);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_ids(&[1]);
    put(&mut w, &fail(2)); // pending at the stop: the next run reads it whole
    let (code, first, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(&state).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode, 0o600);
    let st: Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    assert_eq!(st["files"].as_array().unwrap().len(), 1, "{st}");

    // While stopped: more lines, a rename rotation (to a name the glob leaves out), a new file.
    put(&mut w, &(ok(2) + &fail(3) + &ok(3)));
    fs::rename(&log, dir.join("tserver_tablet1.log.1")).unwrap();
    put(&mut w, &(fail(4) + &ok(4)));
    let mut w = append(&log);
    put(&mut w, &(fail(5) + &ok(5)));
    let t = Tail::start(&args, &[&dir]);
    let second = t.wait_ids(&[2, 3, 4, 5]);
    put(&mut w, &(fail(6) + &ok(6)));
    t.wait_ids(&[6]);
    // Copytruncate while stopped, with lines only the copy holds.
    let (code, more, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    put(&mut w, &(fail(7) + &ok(7)));
    fs::copy(&log, dir.join("tserver_tablet1.log.2")).unwrap();
    w.set_len(0).unwrap();
    put(&mut w, &(fail(8) + &ok(8)));
    let t = Tail::start(&args, &[&dir]);
    t.wait_ids(&[7, 8]);
    let (code, third, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");

    let all: Vec<Value> = first
        .iter()
        .chain(more.iter())
        .chain(third.iter())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got = once(&all, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let lines: Vec<u64> = got.iter().map(|g| g.2).collect();
    assert_eq!(lines, vec![2, 6, 10, 14, 1, 5, 9, 1], "{got:?}");
    assert!(got[3].1.ends_with("tserver_tablet1.log.1"), "{got:?}");
    assert!(got[6].1.ends_with("tserver_tablet1.log.2"), "{got:?}");
    assert_eq!(second.len(), 4, "{second:?}");
}

#[test]
fn human_format_shows_the_runbook_once_and_counts_repeats() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let log = dir.join("koverse-server.log");
    let mut w = append(&log);
    put(&mut w, &ok(0));
    let t = Tail::start(&["--format", "human", "--color", "never"], &[&dir]);
    put(&mut w, &(fail(1) + &fail(2) + &fail(3) + &ok(3)));
    let text = t.wait_stdout("Runbook");
    assert!(
        text.contains("HIGH  Process ran out of file handles"),
        "{text}"
    );
    assert!(text.contains("koverse-server.log:2"), "{text}");
    assert!(
        text.contains("| java.io.IOException: Too many open files"),
        "{text}"
    );
    assert!(
        text.contains("1. Check the limits of the service user"),
        "{text}"
    );
    let (code, lines, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let text = lines.join("\n");
    assert_eq!(text.matches("HIGH  ").count(), 1, "{text}");
    assert!(
        text.contains("REPEAT  2 more of \"Process ran out of file handles\""),
        "{text}"
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 80), "{text}");
    assert!(err.contains("1 finding (1 high)"), "{err}");
    assert!(err.contains("2 repeats within the cooldown"), "{err}");
}

#[test]
fn ndjson_cooldown_reports_repeat_counts_on_exit() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let log = dir.join("app.log");
    let mut w = append(&log);
    let t = Tail::start(&["--format", "ndjson"], &[&dir]);
    put(&mut w, &(fail(1) + &fail(2) + &ok(2)));
    t.wait_ids(&[1]);
    let (code, lines, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let r: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(r["repeats"], 1, "{r}");
    assert_eq!(r["rule"], "test.too-many-open-files");
    assert!(r.get("line").is_none(), "{r}");
}

#[test]
fn missing_paths_warn_and_are_picked_up_when_they_appear() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let missing = dir.join("later/app.log");
    let t = Tail::start(&ndjson_args(), &[&missing]);
    t.wait_stderr("later/app.log");
    assert!(t.stderr().contains("warning"), "{}", t.stderr());
    fs::create_dir_all(missing.parent().unwrap()).unwrap();
    fs::write(&missing, fail(1) + &ok(1)).unwrap();
    let ev = t.wait_ids(&[1]);
    assert_eq!(ev[0]["line"], 1);
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_closed_stdout_ends_it_quietly() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let log = dir.join("app.log");
    let mut w = append(&log);
    let mut t = Tail::spawn(&ndjson_args(), &[&dir], false);
    let stdout: ChildStdout = t.child.stdout.take().unwrap();
    put(&mut w, &(fail(1) + &ok(1)));
    // `| head -1`: one line read, then the pipe closed.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        let _ = r.read_line(&mut line);
        let _ = tx.send(line);
        // Dropping `r` closes the pipe.
    });
    let line = rx.recv_timeout(WAIT).expect("a first line");
    assert!(line.contains("id=1"), "{line}");
    let mut n = 2;
    let t0 = Instant::now();
    let status = loop {
        put(&mut w, &(fail(n) + &ok(n)));
        n += 1;
        if let Some(s) = t.child.try_wait().unwrap() {
            break s;
        }
        assert!(t0.elapsed() < WAIT, "still running with its stdout closed");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    std::thread::sleep(Duration::from_millis(50));
    assert!(!t.stderr().contains("panicked"), "{}", t.stderr());
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_logtriage"))
        .args(["tail", "--cooldown", "soon", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
    let out = Command::new(env!("CARGO_BIN_EXE_logtriage"))
        .args(["tail"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn accumulo_lines_written_to_both_files_are_reported_once_from_the_debug_log() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let (plain, debug) = (dir.join("tserver_n1.log"), dir.join("tserver_n1.debug.log"));
    fs::write(&plain, "").unwrap();
    fs::write(&debug, "").unwrap();
    let (mut wp, mut wd) = (append(&plain), append(&debug));
    let t = Tail::start(&ndjson_args(), &[&dir]);
    t.wait_stderr("tserver_n1.log: not followed: Accumulo writes its lines to");
    let lost = |id: u32| {
        format!(
            "2024-03-11 02:30:{id:02},000 [tserver.TabletServer] ERROR: id={id} Lost tablet server lock (reason = LOCK_DELETED), exiting.\n\
             2024-03-11 02:30:{id:02},500 [tserver.TabletServer] INFO : id=0 next\n"
        )
    };
    // As Accumulo does: each line to the plain log and to the debug log.
    put(&mut wp, &lost(7));
    put(&mut wd, &lost(7));
    t.wait_ids(&[7]);
    // Give a second copy time to arrive, then count everything printed.
    std::thread::sleep(Duration::from_millis(300));
    let (_, lines, _) = t.stop();
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reported: Vec<&Value> = events.iter().filter(|v| id_of(v) == Some(7)).collect();
    assert_eq!(reported.len(), 1, "{lines:#?}");
    assert!(
        reported[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("tserver_n1.debug.log")
    );
}

/// A DataNode that starts before its NameNode logs "Retrying connect" for a while: expected
/// while it starts. Followed live, as in a sweep, that is reported at low with its phase; the
/// same lines from a DataNode that is not starting are reported at the rule's severity.
#[test]
fn tail_judges_failures_by_the_daemons_phase_as_scan_does() {
    let d = tempfile::tempdir().unwrap();
    let dir = logs(&d);
    let starting = dir.join("hadoop-hdfs-datanode-dn1.log");
    let running = dir.join("hadoop-hdfs-datanode-dn2.log");
    fs::write(&starting, "").unwrap();
    fs::write(&running, "").unwrap();
    let t = Tail::start_builtin(
        &["--format", "ndjson", "--cooldown", "0", "--tz", "UTC"],
        &[&dir],
    );
    let retries = |from: u32| -> String {
        (0..12)
            .map(|i| {
                format!(
                    "2024-03-11 02:00:{:02},000 INFO org.apache.hadoop.ipc.Client: Retrying connect to server: nn1/10.0.0.10:8020. Already tried {i} time(s); retry policy is RetryUpToMaximumCountWithFixedSleep(maxRetries=10, sleepTime=1000 MILLISECONDS)\n",
                    from + i
                )
            })
            .collect()
    };
    let mut w = append(&starting);
    put(
        &mut w,
        &("2024-03-11 02:00:00,100 INFO org.apache.hadoop.hdfs.server.datanode.DataNode: STARTUP_MSG: \n\
/************************************************************\n\
STARTUP_MSG: Starting DataNode\n\
STARTUP_MSG:   host = dn1/10.0.0.11\n\
************************************************************/\n"
            .to_string()
            + &retries(1)),
    );
    let mut w2 = append(&running);
    put(&mut w2, &retries(30));
    let t0 = Instant::now();
    let by_file = |ev: &[Value], name: &str| -> Vec<Value> {
        ev.iter()
            .filter(|e| e["rule"] == "hdfs.retrying-connect")
            .filter(|e| e["path"].as_str().unwrap().ends_with(name))
            .cloned()
            .collect()
    };
    let (a, b) = loop {
        let ev = t.events();
        let (a, b) = (
            by_file(&ev, "datanode-dn1.log"),
            by_file(&ev, "datanode-dn2.log"),
        );
        if !a.is_empty() && !b.is_empty() {
            break (a, b);
        }
        assert!(t0.elapsed() < WAIT, "both retries reported: {ev:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        a.iter()
            .all(|e| e["severity"] == "low" && e["phase"] == "startup"),
        "{a:?}"
    );
    assert!(
        b.iter()
            .all(|e| e["severity"] == "medium" && e.get("phase").is_none_or(Value::is_null)),
        "{b:?}"
    );
    assert_eq!(a[0]["timestamp"], "2024-03-11T02:00:01.000+00:00");
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
}
