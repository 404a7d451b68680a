//! `logtriage tail` at NodeManager scale: 3,000 container files (a folder per application and
//! per container, each with `stderr`, `stdout` and `syslog`) under an open-file limit of 256
//! set for the child only (`sh -c 'ulimit -n 256; exec logtriage tail ...'`). Failures written
//! after the start — to a file closed to stay within the descriptor budget, to a file rotated
//! (renamed, recreated) while closed, to a file truncated while closed, to a new container —
//! are each reported exactly once, and stderr has no warning per file.

mod common;

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

fn fail(id: u32) -> String {
    format!(
        "2024-03-11 02:14:{:02},000 ERROR [com.koverse.server.ThriftServer] - id={id} accept failed\n\
         java.io.IOException: Too many open files\n\
         \tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n",
        id % 60
    )
}

const OK: &str = "2024-03-11 02:15:00,000 INFO  [com.koverse.server.Server] - fine\n";

fn append(p: &Path, s: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(p)
        .unwrap();
    f.write_all(s.as_bytes()).unwrap();
}

struct Tail {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<String>>,
}

impl Tail {
    fn start(root: &Path, limit: u32, extra: &str) -> Tail {
        let script = format!(
            "ulimit -n {limit} || exit 99; exec \"$0\" tail --no-builtin-rules --rules \"$1\" --format ndjson --cooldown 0 {extra} \"$2\""
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_logtriage"))
            .arg(common::engine_pack())
            .arg(root)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let o = out.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                o.lock().unwrap().push(l);
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let e = err.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                e.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let t = Tail { child, out, err };
        t.wait(
            |t| t.stderr().contains("logtriage tail: following"),
            "start",
        );
        t
    }

    fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    fn ids(&self) -> Vec<u32> {
        self.out
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let i = l.find("id=")? + 3;
                l[i..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    }

    fn wait(&self, done: impl Fn(&Tail) -> bool, what: &str) {
        let t0 = Instant::now();
        while !done(self) {
            assert!(
                t0.elapsed() < WAIT,
                "{what}: timed out; ids {:?}; stderr: {}",
                self.ids(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let t0 = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(t0.elapsed() < WAIT, "did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.wait(
            |t| t.stderr().contains("logtriage tail: stopped"),
            "summary",
        );
        std::thread::sleep(Duration::from_millis(50));
        self.stderr()
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A NodeManager log folder: `apps` applications of `containers` containers, 3 files each.
fn containers(root: &Path, apps: u32, containers: u32) {
    for a in 1..=apps {
        for c in 1..=containers {
            let d = root.join(format!("application_1_{a:04}/container_1_{a:04}_01_{c:06}"));
            fs::create_dir_all(&d).unwrap();
            for f in ["stderr", "stdout", "syslog"] {
                fs::write(d.join(f), OK).unwrap();
            }
        }
    }
}

fn container(root: &Path, a: u32, c: u32) -> std::path::PathBuf {
    root.join(format!("application_1_{a:04}/container_1_{a:04}_01_{c:06}"))
}

#[test]
fn three_thousand_files_under_256_descriptors_report_every_failure_once() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("containers");
    containers(&root, 10, 100);
    let t = Tail::start(&root, 256, "");
    let err = t.stderr();
    assert!(err.contains("following 3000 files"), "{err}");
    assert!(err.contains("open-file limit 256"), "{err}");

    // A file long closed (parked) gains a failure.
    append(&container(&root, 2, 20).join("syslog"), &fail(1));
    // Rotated while closed: renamed away, a new file under the name with a failure.
    let c = container(&root, 5, 50);
    fs::rename(c.join("stderr"), c.join("stderr.1")).unwrap();
    fs::write(c.join("stderr"), fail(2)).unwrap();
    // Truncated while closed, then written again.
    let c = container(&root, 7, 70);
    fs::write(c.join("stdout"), "").unwrap();
    append(&c.join("stdout"), &fail(3));
    // A new container.
    let c = container(&root, 9, 999);
    fs::create_dir_all(&c).unwrap();
    append(&c.join("syslog"), &fail(4));
    t.wait(
        |t| {
            let ids = t.ids();
            (1..=4).all(|i| ids.contains(&i))
        },
        "all four failures",
    );
    // A finished application's folder deleted.
    fs::remove_dir_all(root.join("application_1_0003")).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let mut ids = t.ids();
    let err = t.stop();
    ids.sort();
    assert_eq!(
        ids,
        vec![1, 2, 3, 4],
        "each failure exactly once; stderr: {err}"
    );
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert!(warnings.len() <= 3, "few warning lines: {warnings:#?}");
    assert!(!err.contains("Too many open files"), "{err}");
    assert!(err.contains("at most 96 files held open"), "{err}");
    assert!(err.contains("watched by path"), "{err}");
}
