//! Bad input never crashes, hangs or hides a failure: each case through the real binary.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;
use predicates::prelude::*;

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("logtriage")
}

const FAIL_LINE: &str = "2024-03-11 02:14:31,010 ERROR [com.koverse.Server] - accept failed\njava.io.IOException: Too many open files\n";

#[test]
fn invalid_utf8_inside_a_failing_event_is_reported_lossily_in_valid_json() {
    let d = tempfile::tempdir().unwrap();
    let mut data =
        b"2024-03-11 02:14:31,010 ERROR [com.koverse.Server] - bad bytes \xff\xfe here\n".to_vec();
    data.extend_from_slice(b"java.io.IOException: Too many open files \xc3\x28\n");
    let log = write(d.path(), "bad-utf8.log", &data);
    let out = scan_cmd().arg("--format=json").arg(&log).stdout_for(1);
    let v = json(&out);
    let text = v["findings"][0]["evidence"][0]["text"].as_str().unwrap();
    assert!(
        text.contains('\u{FFFD}') && text.contains("Too many open files"),
        "{text}"
    );
}

#[test]
fn truncated_gzip_reports_what_came_before_the_damage_and_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let mut plain = String::new();
    for i in 0..2000 {
        plain.push_str(&format!(
            "2024-03-11 02:14:31,010 INFO [com.koverse.Server] - line {i} of chatter\n"
        ));
        if i == 10 {
            plain.push_str(FAIL_LINE);
        }
    }
    let gz = gzip(plain.as_bytes());
    let log = write(d.path(), "koverse-server.log.3.gz", &gz[..gz.len() * 2 / 3]);
    let out = scan_cmd()
        .arg("--format=json")
        .arg(&log)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let v = json(&out.stdout);
    assert_eq!(
        v["findings"][0]["evidence"][0]["line"], 12,
        "the failure before the damage is reported"
    );
    let msg = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        v["errors"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("koverse-server.log.3.gz")
    );
    assert!(
        msg.contains("gzip") && msg.contains("after") && msg.contains("bytes"),
        "{msg}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("koverse-server.log.3.gz"));
}

#[test]
fn corrupt_gzip_header_is_named_and_the_rest_is_scanned() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.log", FAIL_LINE.as_bytes());
    write(
        d.path(),
        "b.log.gz",
        b"\x1f\x8b\x08\x00garbage that is not deflate at all",
    );
    let out = scan_cmd().arg("--format=json").arg(d.path()).stdout_for(2);
    let v = json(&out);
    assert_eq!(v["findings"][0]["count"], 1);
    assert!(
        v["errors"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("b.log.gz")
    );
}

#[test]
fn stdout_closed_early_exits_quietly() {
    let d = tempfile::tempdir().unwrap();
    let log = write(d.path(), "many.log", FAIL_LINE.repeat(50_000).as_bytes());
    let mut child = Command::new(bin())
        .args(["scan", "--format=ndjson", "--no-builtin-rules", "--rules"])
        .arg(engine_pack())
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'));
    // The reader is dropped here: the pipe closes, as with `| head -1`.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn rule_pack_errors_name_file_line_and_rule() {
    let d = tempfile::tempdir().unwrap();
    let rule = |extra: &str| {
        format!(
            "[[rule]]\nid = \"x.one\"\ntitle = \"t\"\nseverity = \"high\"\ncomponent = \"app\"\nlayer = \"application\"\nliterals = [\"abcdef\"]\nrunbook = [\"x\"]\n{extra}"
        )
    };
    let cases: [(&str, String, &str); 5] = [
        ("syntax.toml", rule("bogus = [\n"), "syntax.toml:9"),
        (
            "unknown.toml",
            rule("colour = \"red\"\n"),
            "unknown.toml:9: rule x.one: unknown field",
        ),
        (
            "regex.toml",
            rule("regex = '(x'\n"),
            "regex.toml:1: rule x.one: regex does not compile",
        ),
        (
            "dup.toml",
            format!("{}\n{}", rule(""), rule("")),
            "rule x.one: duplicate rule id",
        ),
        (
            "noliteral.toml",
            rule("").replace("[\"abcdef\"]", "[]"),
            "noliteral.toml:1: rule x.one: no literals",
        ),
    ];
    for (name, text, expect) in cases {
        let pack = write(d.path(), name, text.as_bytes());
        assert_cmd::Command::new(bin())
            .args(["scan", "--no-builtin-rules", "--rules"])
            .arg(&pack)
            .arg("/dev/null")
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expect));
    }
}

#[test]
fn symlink_loops_and_dangling_links_do_not_hang() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "logs/a.log", FAIL_LINE.as_bytes());
    std::os::unix::fs::symlink(d.path().join("logs"), d.path().join("logs/loop")).unwrap();
    std::os::unix::fs::symlink(
        d.path().join("nowhere.log"),
        d.path().join("logs/dangling.log"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        d.path().join("logs/a.log"),
        d.path().join("logs/link-to-file.log"),
    )
    .unwrap();
    for follow in [false, true] {
        let mut cmd = scan_cmd();
        cmd.arg("--format=json")
            .timeout(std::time::Duration::from_secs(20));
        if follow {
            cmd.arg("-L");
        }
        let out = cmd.arg(d.path().join("logs")).stdout_for(2);
        let v = json(&out);
        let errors = v["errors"].to_string();
        assert!(errors.contains("dangling.log"), "{errors}");
        assert_eq!(
            v["findings"][0]["files_total"], 2,
            "a.log and the link to it are scanned (follow={follow})"
        );
        if follow {
            assert!(errors.contains("loop"), "{errors}");
        }
    }
}

#[test]
fn fifos_inside_folders_are_skipped_never_opened() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.log", FAIL_LINE.as_bytes());
    let fifo = d.path().join("pipe.log");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let out = scan_cmd()
        .arg("--format=json")
        .arg(d.path())
        .timeout(std::time::Duration::from_secs(20))
        .stdout_for(1);
    let v = json(&out);
    assert_skipped(&v, "pipe.log", "not a regular file");
}

#[test]
fn a_pipe_given_by_name_is_read_once_whole() {
    // `logtriage scan <(zcat x.gz)` hands over a pipe: nothing may read from it before the
    // scan (no sample for tuning, no head probe), or its first bytes would be lost.
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("tserver_n1.debug.log");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let plain = write(d.path(), "tserver_n1.log", FAIL_LINE.as_bytes());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let text = format!(
                "{FAIL_LINE}{}",
                "2024-03-11 02:14:32,000 INFO x\n".repeat(5000)
            );
            std::fs::write(&fifo, text).unwrap();
        })
    };
    let out = scan_cmd()
        .arg("--format=json")
        .arg(&fifo)
        .arg(&plain)
        .timeout(std::time::Duration::from_secs(20))
        .stdout_for(1);
    writer.join().unwrap();
    let v = json(&out);
    let pipe = &v["sources"][0];
    assert!(
        pipe["path"]
            .as_str()
            .unwrap()
            .ends_with("tserver_n1.debug.log")
    );
    assert_eq!(pipe["lines"], 5002, "{pipe}");
}

#[test]
fn unreadable_files_are_named_exit_2_and_the_rest_is_scanned() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    write(d.path(), "ok.log", FAIL_LINE.as_bytes());
    let secret = write(d.path(), "secret.log", FAIL_LINE.as_bytes());
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads anything: run as `nobody` then (setpriv, util-linux), else as ourselves.
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false);
    let mut cmd = if is_root {
        let has_setpriv = Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_setpriv {
            eprintln!("skipped: running as root without setpriv");
            return;
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin());
        c
    } else {
        Command::new(bin())
    };
    let pack =
        std::env::temp_dir().join(format!("logtriage-engine-pack-{}.toml", std::process::id()));
    std::fs::copy(engine_pack(), &pack).unwrap();
    std::fs::set_permissions(&pack, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = cmd
        .args(["scan", "--format=json", "--no-builtin-rules", "--rules"])
        .arg(&pack)
        .arg(d.path())
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&pack);
    if is_root && out.status.code() == Some(126)
        || String::from_utf8_lossy(&out.stderr).contains("Permission denied (os error 13)")
            && out.stdout.is_empty()
    {
        eprintln!("skipped: nobody cannot run the test binary here");
        return;
    }
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert!(
        v["errors"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("secret.log")
    );
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ermission denied")
    );
    assert_eq!(v["findings"][0]["count"], 1, "ok.log is still scanned");
}

#[test]
fn a_file_truncated_during_the_scan_does_not_crash() {
    // Truncate a large file while it is read (the notes themselves are unit-tested in
    // src/scan/mod.rs, where the timing can be controlled).
    let d = tempfile::tempdir().unwrap();
    let log = write(d.path(), "live.log", FAIL_LINE.repeat(200_000).as_bytes());
    let path = log.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let truncator = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(1000).unwrap();
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
    let out = scan_cmd()
        .arg("--format=json")
        .arg("-j1")
        .arg(&log)
        .output()
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    truncator.join().unwrap();
    let v = json(&out.stdout);
    // Whether the truncation landed before, during or after the read, nothing crashes and what
    // was read is reported; when it landed after the stat, the shrink is noted.
    assert!(matches!(out.status.code(), Some(1)));
    assert!(v["findings"][0]["count"].as_u64().unwrap() >= 1);
    if let Some(w) = v["warnings"].as_array().and_then(|w| w.first()) {
        assert!(w["message"].as_str().unwrap().contains("shrank"), "{w}");
    }
}

#[test]
fn stdin_given_twice_is_read_once() {
    let mut child = Command::new(bin())
        .args(["scan", "--format=ndjson", "--no-builtin-rules", "--rules"])
        .arg(engine_pack())
        .args(["-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(FAIL_LINE.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(ndjson(&out.stdout).len(), 1);
}
