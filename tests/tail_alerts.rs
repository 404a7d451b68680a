//! `logtriage tail --webhook` and `--exec` through the real binary, against a small HTTP server
//! on 127.0.0.1 started by each test (it records every request and answers scripted status
//! codes, optionally late). No traffic leaves the loopback address.
//!
//! Every expectation is polled for (up to `WAIT`), never assumed after a fixed sleep.

mod common;
#[path = "tail_alerts/support.rs"]
mod support;

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{FAST, Server, Tail, fail, logs, ok, put, wait_for};

// ---- Webhooks -----------------------------------------------------------------------------

#[test]
fn refusals_then_success_deliver_the_alert_once() {
    let srv = Server::start(&[500, 429], 200, Duration::ZERO);
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let url = srv.url("/hook");
    let mut args = FAST.to_vec();
    args.extend(["--webhook", &url]);
    let t = Tail::start(&args, &[], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    let lines = t.wait_lines(1);
    wait_for("the alert to arrive", || !srv.ok().is_empty());
    // A little longer: nothing more arrives.
    std::thread::sleep(Duration::from_millis(300));
    let reqs = srv.reqs();
    let statuses: Vec<u16> = reqs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 429, 200]);
    // Each try sent the same body: the NDJSON object and its runbook.
    let body = reqs[2].json();
    assert!(reqs.iter().all(|r| r.body == reqs[2].body));
    assert_eq!(reqs[2].header("content-type"), Some("application/json"));
    let mut expect = lines[0].1.clone();
    expect["runbook"] = serde_json::json!([
        "Check the limits of the service user: cat /proc/PID/limits",
        "Raise nofile and restart"
    ]);
    assert_eq!(body, expect);
    // Byte for byte: the printer's line, its keys in its order, and the runbook at its end.
    let line = &t.lines()[0].1;
    let raw = String::from_utf8(reqs[2].body.clone()).unwrap();
    assert_eq!(
        raw,
        format!(
            "{},\"runbook\":{}}}",
            &line[..line.len() - 1],
            expect["runbook"]
        )
    );
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("HTTP 500: retrying alert"), "{err}");
    assert!(
        err.contains(&format!(
            "webhook http://127.0.0.1:{}/hook: 1 sent, 0 failed, 0 dropped",
            srv.port
        )),
        "{err}"
    );
}

#[test]
fn a_slow_receiver_does_not_delay_stdout() {
    let srv = Server::scripted(&[(200, Duration::from_secs(3))], 200, Duration::ZERO);
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let url = srv.url("/slow");
    let mut args = FAST.to_vec();
    args.extend(["--webhook", &url]);
    let t = Tail::start(&args, &[], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    let first = t.wait_lines(1)[0].0;
    put(&mut w, &(fail(2) + &ok(2)));
    let second = t.wait_lines(2)[1].0;
    wait_for("both alerts", || srv.ok().len() == 2);
    let answered = srv.ok()[0].answered;
    // Both lines were out while the receiver still held the first alert.
    assert!(first + Duration::from_secs(2) < answered);
    assert!(second < answered, "the second line waited for the receiver");
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("2 sent, 0 failed"), "{err}");
}

#[test]
fn a_request_past_the_timeout_is_retried() {
    let srv = Server::scripted(&[(200, Duration::from_secs(2))], 200, Duration::ZERO);
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let url = srv.url("/t");
    let mut args = FAST.to_vec();
    args.extend(["--webhook", &url, "--webhook-timeout", "300ms"]);
    let t = Tail::start(&args, &[], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_lines(1);
    t.wait_stderr("timeout");
    t.wait_stderr("retrying alert");
    // The second try is answered at once (the first one's late answer finds no one).
    wait_for("both tries", || srv.ok().len() == 2);
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("1 sent, 0 failed"), "{err}");
}

#[test]
fn connection_refused_is_retried_reported_and_following_goes_on() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let url = format!("http://127.0.0.1:{port}/down?token=q-secret");
    let mut args = FAST.to_vec();
    args.extend(["--webhook", &url, "--webhook-retry-for", "400ms"]);
    let t = Tail::start(&args, &[], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_lines(1);
    t.wait_stderr("retrying alert");
    t.wait_stderr("gave up alert");
    put(&mut w, &(fail(2) + &ok(2)));
    t.wait_lines(2);
    let (code, out, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let shown = format!("webhook http://127.0.0.1:{port}/down:");
    assert!(err.contains(&shown), "{err}");
    assert!(err.contains("0 sent"), "{err}");
    assert!(
        !err.contains("q-secret"),
        "the query string is shown: {err}"
    );
}

#[test]
fn https_checks_the_certificate() {
    // A TLS server with a self-signed certificate for 127.0.0.1 (the openssl command).
    let d = tempfile::tempdir().unwrap();
    let (cert, key) = (d.path().join("c.pem"), d.path().join("k.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no openssl command: https_checks_the_certificate skipped");
        return;
    }
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the TLS server", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let (dir, mut w) = logs(&d);
    let url = format!("https://127.0.0.1:{port}/tls");
    let mut args = FAST.to_vec();
    args.extend(["--webhook", &url]);
    let t = Tail::start(&args, &[], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_lines(1);
    // Not trusted: failed at once, not retried.
    t.wait_stderr("not sent");
    let (code, _, err) = t.stop();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("TLS: "), "{err}");
    assert!(
        err.contains("invalid peer certificate: UnknownIssuer"),
        "{err}"
    );
    assert!(!err.contains("retrying"), "{err}");
    assert!(err.contains("0 sent, 1 failed"), "{err}");
}

#[test]
fn a_full_queue_drops_the_oldest_and_says_so() {
    let srv = Server::start(&[], 200, Duration::from_secs(3));
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let url = srv.url("/q");
    let mut args = FAST.to_vec();
    args.extend(["--webhook", &url, "--webhook-queue", "2"]);
    let t = Tail::start(&args, &[], &dir);
    let text: String = (1..=10).map(fail).collect();
    put(&mut w, &(text + &ok(0)));
    t.wait_lines(10);
    t.wait_stderr("queue full (2 waiting), the oldest dropped");
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with(&format!("  webhook http://127.0.0.1:{}/q:", srv.port)))
        .unwrap_or_else(|| panic!("no summary line: {err}"));
    let n = |what: &str| -> u64 {
        line.split(", ")
            .find_map(|p| p.strip_suffix(what)?.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    };
    let (sent, dropped, left) = (
        n(" sent"),
        n(" dropped (queue full)"),
        n(" not sent at the stop"),
    );
    // Two waiting at most (and one in flight, when the sender took one before the others
    // arrived): the rest dropped, every alert accounted for.
    assert!(dropped >= 7, "{line}");
    assert_eq!(sent + dropped + left, 10, "{line}");
    assert!(left <= 3, "{line}");
}

#[test]
fn slack_pagerduty_and_generic_bodies() {
    let (slack, pd, generic) = (
        Server::start(&[], 200, Duration::ZERO),
        Server::start(&[], 200, Duration::ZERO),
        Server::start(&[], 200, Duration::ZERO),
    );
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let (u1, u2, u3) = (slack.url("/s"), pd.url("/v2/enqueue"), generic.url("/g"));
    let args = [
        "--cooldown",
        "300ms",
        "--alert-grace",
        "500ms",
        "--webhook",
        &u1,
        "--webhook",
        &u2,
        "--webhook",
        &u3,
        "--webhook-format",
        "slack",
        "--webhook-format",
        "pagerduty",
        "--webhook-format",
        "generic",
        "--pagerduty-routing-key-env",
        "PD_KEY",
    ];
    let t = Tail::start(&args, &[("PD_KEY", "rk-0123456789abcdef")], &dir);
    // Three of one failure: one alert, then the count when the cooldown ends.
    put(&mut w, &(fail(1) + &fail(2) + &fail(3) + &ok(3)));
    let finding = t.wait_lines(2)[0].1.clone();
    wait_for("all bodies", || {
        slack.ok().len() == 2 && pd.ok().len() == 2 && generic.ok().len() == 2
    });
    let fp = finding["fingerprint"].as_str().unwrap();

    let s = slack.ok()[0].json();
    let text = s["text"].as_str().unwrap();
    assert!(
        text.contains("HIGH: Process ran out of file handles"),
        "{s}"
    );
    let blocks = s["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let all = serde_json::to_string(blocks).unwrap();
    for want in [
        "*Severity*\\nhigh",
        "*Host*",
        "*Service*",
        "Too many open files",
        "app.log:1",
        "1. Check the limits of the service user",
        fp,
    ] {
        assert!(all.contains(want), "{want:?} not in {all}");
    }
    assert!(
        slack.ok()[1].json()["text"]
            .as_str()
            .unwrap()
            .contains("2 more of Process ran out of file handles")
    );

    let p = pd.ok()[0].json();
    assert_eq!(p["routing_key"], "rk-0123456789abcdef");
    assert_eq!(p["event_action"], "trigger");
    assert_eq!(p["dedup_key"], fp);
    assert_eq!(p["payload"]["severity"], "error");
    assert!(
        ["critical", "error", "warning", "info"]
            .contains(&p["payload"]["severity"].as_str().unwrap())
    );
    assert!(
        p["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("Process ran out of file handles")
    );
    assert!(!p["payload"]["source"].as_str().unwrap().is_empty());
    assert_eq!(pd.ok()[1].json()["dedup_key"], fp);

    let g = generic.ok();
    let mut expect = finding.clone();
    expect["runbook"] = g[0].json()["runbook"].clone();
    assert_eq!(g[0].json(), expect);
    assert_eq!(g[0].json()["runbook"].as_array().unwrap().len(), 2);
    assert_eq!(g[1].json()["repeats"], 2);
    assert_eq!(g[1].json()["fingerprint"], fp);

    let (code, out, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("rk-0123456789abcdef") && !err.contains("rk-0123456789abcdef"));
    assert_eq!(
        err.matches("2 sent, 0 failed, 0 dropped").count(),
        3,
        "{err}"
    );
}

#[test]
fn a_secret_header_reaches_the_server_and_nothing_else() {
    let srv = Server::start(&[503], 200, Duration::ZERO);
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let state = d.path().join("tail.state");
    let url = srv.url("/h");
    let mut args = FAST.to_vec();
    args.extend([
        "--webhook",
        &url,
        "--webhook-header-env",
        "X-Api-Key=HOOK_SECRET",
        "--webhook-header",
        "X-Team: ops",
        "--state",
        state.to_str().unwrap(),
    ]);
    let secret = "s3cr3t-7f9a2b";
    let t = Tail::start(&args, &[("HOOK_SECRET", secret)], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_lines(1);
    wait_for("the alert", || srv.ok().len() == 1);
    let r = &srv.ok()[0];
    assert_eq!(r.header("x-api-key"), Some(secret));
    assert_eq!(r.header("x-team"), Some("ops"));
    let (code, out, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    let st = fs::read_to_string(&state).unwrap();
    for (what, text) in [("stdout", &out), ("stderr", &err), ("state file", &st)] {
        assert!(!text.contains(secret), "the secret is in {what}: {text}");
    }
    // An unset variable is a usage error that names the variable, not a value.
    let bad = Command::new(env!("CARGO_BIN_EXE_logtriage"))
        .args([
            "tail",
            "--webhook",
            &url,
            "--webhook-header-env",
            "X-K=NOT_SET_ANYWHERE",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("NOT_SET_ANYWHERE is not set"));
}

// ---- --exec -------------------------------------------------------------------------------

#[test]
fn exec_gets_the_alert_on_stdin_and_its_environment() {
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let dd = d.path().display().to_string();
    let cmd = r#"cat > "$D/alert.json"; env | grep '^LOGTRIAGE_' > "$D/env.txt"; echo noise; touch "$D/done""#;
    let mut args = FAST.to_vec();
    args.extend(["--exec", cmd]);
    let t = Tail::start(&args, &[("D", &dd)], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    let finding = t.wait_lines(1)[0].1.clone();
    wait_for("the command to run", || d.path().join("done").exists());
    let alert: Value =
        serde_json::from_str(&fs::read_to_string(d.path().join("alert.json")).unwrap()).unwrap();
    assert_eq!(alert["fingerprint"], finding["fingerprint"]);
    assert_eq!(alert["line"], finding["line"]);
    assert_eq!(alert["runbook"][1], "Raise nofile and restart");
    let env = fs::read_to_string(d.path().join("env.txt")).unwrap();
    let fp = finding["fingerprint"].as_str().unwrap();
    for want in [
        "LOGTRIAGE_RULE=test.too-many-open-files".to_string(),
        "LOGTRIAGE_SEVERITY=high".to_string(),
        "LOGTRIAGE_TITLE=Process ran out of file handles".to_string(),
        format!("LOGTRIAGE_FINGERPRINT={fp}"),
        "LOGTRIAGE_HOST=".to_string(),
        "LOGTRIAGE_SERVICE=".to_string(),
    ] {
        assert!(env.contains(&want), "{want} not in {env}");
    }
    let (code, out, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    // The command's stdout went to stderr, not into the NDJSON stream.
    assert!(!out.contains("noise") && err.contains("noise"), "{out}");
    assert!(err.contains("exec: 1 run, 0 failed"), "{err}");
}

#[test]
fn exec_failures_are_reported_and_a_hanging_command_is_killed() {
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let dd = d.path().display().to_string();
    // The first alert fails with exit 3; the second hangs.
    let cmd = r#"if [ -e "$D/once" ]; then sleep 60; else touch "$D/once"; exit 3; fi"#;
    let mut args = FAST.to_vec();
    args.extend(["--exec", cmd, "--exec-timeout", "300ms"]);
    let t = Tail::start(&args, &[("D", &dd)], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_lines(1);
    t.wait_stderr("--exec exited with code 3 (alert test.too-many-open-files");
    put(&mut w, &(fail(2) + &ok(2)));
    t.wait_lines(2);
    let t0 = Instant::now();
    t.wait_stderr("--exec still running after 300 ms: killed");
    assert!(t0.elapsed() < Duration::from_secs(5));
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("exec: 2 run, 1 failed, 1 killed at the timeout, 0 dropped"),
        "{err}"
    );
}

#[test]
fn below_the_alert_severity_nothing_is_sent() {
    let srv = Server::start(&[], 200, Duration::ZERO);
    let d = tempfile::tempdir().unwrap();
    let (dir, mut w) = logs(&d);
    let url = srv.url("/m");
    let mut args = FAST.to_vec();
    args.extend(["--webhook", &url, "--alert-min-severity", "critical"]);
    let t = Tail::start(&args, &[], &dir);
    put(&mut w, &(fail(1) + &ok(1)));
    t.wait_lines(1);
    let (code, _, err) = t.stop();
    assert_eq!(code, Some(0), "{err}");
    assert!(srv.reqs().is_empty());
    assert!(err.contains("0 sent, 0 failed, 0 dropped"), "{err}");
}
