//! The receiver (a small HTTP server on 127.0.0.1 that records requests and answers scripted
//! statuses) and the follower (`logtriage tail` run with the engine test pack) of
//! `tests/tail_alerts.rs`.

use std::collections::VecDeque;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, append};

pub const WAIT: Duration = Duration::from_secs(10);

pub fn fail(id: u32) -> String {
    format!(
        "2024-03-11 02:14:{:02},{:03} ERROR [com.koverse.server.ThriftServer] - id={id} accept failed\n\
         java.io.IOException: Too many open files\n\
         \tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n",
        id % 60,
        id % 1000
    )
}

pub fn ok(id: u32) -> String {
    format!("2024-03-11 02:15:00,000 INFO  [com.koverse.server.Server] - id={id} fine\n")
}

pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- The receiver -------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Req {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status answered, and when.
    pub status: u16,
    pub answered: Instant,
}

impl Req {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Server {
    pub port: u16,
    reqs: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    /// Answers the scripted statuses in turn, then `then`; each after `delay`.
    pub fn start(script: &[u16], then: u16, delay: Duration) -> Server {
        let script: Vec<(u16, Duration)> = script.iter().map(|&s| (s, delay)).collect();
        Server::scripted(&script, then, delay)
    }

    /// Answers each scripted status after its delay, then `then` after `delay`.
    pub fn scripted(script: &[(u16, Duration)], then: u16, delay: Duration) -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let reqs = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(
            script
                .iter()
                .copied()
                .collect::<VecDeque<(u16, Duration)>>(),
        ));
        let r = reqs.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { break };
                let (r, script) = (r.clone(), script.clone());
                std::thread::spawn(move || serve(conn, &r, &script, then, delay));
            }
        });
        Server { port, reqs }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn reqs(&self) -> Vec<Req> {
        self.reqs.lock().unwrap().clone()
    }

    pub fn ok(&self) -> Vec<Req> {
        self.reqs()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }
}

fn serve(
    mut c: TcpStream,
    reqs: &Mutex<Vec<Req>>,
    script: &Mutex<VecDeque<(u16, Duration)>>,
    then: u16,
    delay: Duration,
) {
    let mut r = BufReader::new(c.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    let (status, delay) = script.lock().unwrap().pop_front().unwrap_or((then, delay));
    std::thread::sleep(delay);
    let reply = format!("HTTP/1.1 {status} S\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = c.write_all(reply.as_bytes());
    reqs.lock().unwrap().push(Req {
        headers,
        body,
        status,
        answered: Instant::now(),
    });
}

// ---- The follower -------------------------------------------------------------------------

pub struct Tail {
    child: Child,
    out: Arc<Mutex<Vec<(Instant, String)>>>,
    err: Arc<Mutex<String>>,
}

impl Tail {
    pub fn start(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Tail {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_logtriage"));
        cmd.arg("tail")
            .arg("--no-builtin-rules")
            .arg("--rules")
            .arg(common::engine_pack())
            .args(["--format", "ndjson"])
            .args(args)
            .arg(dir)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("logtriage runs");
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let o = out.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => o.lock().unwrap().push((Instant::now(), l)),
                    Err(_) => break,
                }
            }
        });
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

    pub fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<(Instant, String)> {
        self.out.lock().unwrap().clone()
    }

    pub fn wait_stderr(&self, what: &str) {
        wait_for(&format!("stderr to say {what:?}"), || {
            self.stderr().contains(what)
        });
    }

    /// Waits for `n` lines on stdout; returns them, parsed, with when each arrived.
    pub fn wait_lines(&self, n: usize) -> Vec<(Instant, Value)> {
        wait_for(&format!("{n} lines on stdout"), || self.lines().len() >= n);
        self.lines()
            .into_iter()
            .map(|(t, l)| (t, serde_json::from_str(&l).unwrap()))
            .collect()
    }

    /// SIGTERM, then waits for the exit and the summary: (exit code, stdout, stderr).
    pub fn stop(mut self) -> (Option<i32>, String, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(t0.elapsed() < WAIT, "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        wait_for("the summary", || {
            self.stderr().contains("logtriage tail: stopped")
        });
        std::thread::sleep(Duration::from_millis(50));
        let out: Vec<String> = self.lines().into_iter().map(|(_, l)| l).collect();
        (status.code(), out.join("\n"), self.stderr())
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn logs(d: &tempfile::TempDir) -> (PathBuf, fs::File) {
    let p = d.path().join("logs");
    fs::create_dir_all(&p).unwrap();
    let w = append(&p.join("app.log"));
    (p, w)
}

pub fn put(f: &mut fs::File, s: &str) {
    f.write_all(s.as_bytes()).unwrap();
}

/// Short retries, so that every test is fast.
pub const FAST: [&str; 6] = [
    "--cooldown",
    "0",
    "--webhook-backoff",
    "50ms",
    "--alert-grace",
    "500ms",
];
