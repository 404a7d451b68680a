//! Helpers for the CLI tests: run the real binary on files written to a temp folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Runs a command, checks its exit code, and returns what it wrote on stdout.
pub trait RunExt {
    fn stdout_for(&mut self, code: i32) -> Vec<u8>;
}

impl RunExt for Command {
    fn stdout_for(&mut self, code: i32) -> Vec<u8> {
        self.assert().code(code).get_output().stdout.clone()
    }
}

pub fn engine_pack() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packs/engine.toml")
}

/// `logtriage scan` with only the engine test pack.
pub fn scan_cmd() -> Command {
    let mut c = Command::cargo_bin("logtriage").unwrap();
    c.arg("scan")
        .arg("--no-builtin-rules")
        .arg("--rules")
        .arg(engine_pack())
        .env("NO_COLOR", "1");
    c
}

/// Opens `p` for appending (created if missing), as a log writer does.
pub fn append(p: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap()
}

/// Asserts that the JSON report's first `skipped` entry is the file ending in `name`, for a
/// reason containing `why`.
pub fn assert_skipped(v: &serde_json::Value, name: &str, why: &str) {
    let s = &v["skipped"][0];
    assert!(
        s["path"].as_str().is_some_and(|p| p.ends_with(name)),
        "skipped: {}",
        v["skipped"]
    );
    assert!(
        s["message"].as_str().is_some_and(|m| m.contains(why)),
        "skipped: {}",
        v["skipped"]
    );
}

pub fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

pub fn ndjson(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect()
}

/// The shared real-log corpus, when this checkout has it beside it.
pub fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/corpus is not there");
        None
    }
}

pub const APP_LOG: &str = "\
2024-03-11 02:14:30,001 INFO  [com.koverse.server.Server] - Starting Thrift server on port 7080
2024-03-11 02:14:31,010 ERROR [com.koverse.server.ThriftServer] - Error accepting connection
java.io.IOException: Too many open files
\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)
\tat sun.nio.ch.ServerSocketChannelImpl.accept(ServerSocketChannelImpl.java:422)
\t... 3 more
2024-03-11 02:14:32,000 INFO  [com.koverse.server.Server] - Still serving
2024-03-11 02:15:31,010 ERROR [com.koverse.server.ThriftServer] - Error accepting connection
java.io.IOException: Too many open files
\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)
";

/// `logtriage scan` with the built-in packs, no colour.
pub fn logtriage_scan() -> Command {
    let mut c = Command::cargo_bin("logtriage").unwrap();
    c.arg("scan").env("NO_COLOR", "1");
    c
}

/// A tar archive of (member path, content), in this order.
pub fn tar_of<N: AsRef<str>, D: AsRef<[u8]>>(files: &[(N, D)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let data = data.as_ref();
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name.as_ref(), data).unwrap();
    }
    b.into_inner().unwrap()
}
pub mod cluster_logs;
