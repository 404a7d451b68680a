//! `logtriage tail` latency and throughput (not a timed test: numbers for BENCHMARKS.md).
//!
//! `cargo bench --bench tail_latency` runs the release binary on a temp folder and measures the
//! time from the `write` of a failure event to its NDJSON line on the follower's stdout:
//! - `next-header`: 1,000 events at 100 events/s, each write holding the event and the next
//!   event's header (the event is complete at once);
//! - `next-event`: 1,000 events at 100 events/s, each event alone in its write: it is complete
//!   when the next one's header arrives, 10 ms later;
//! - `flush-after`: 100 events each followed by silence, so each ends at the end of the file
//!   and is complete only after `--flush-after` (default 500 ms; also 100 ms);
//! - `throughput`: 50 files appended at 200,000 lines/s in total for 10 s (one failure line in
//!   1,000): the follower's CPU time, peak memory, and whether it kept up.
//!
//! `TAIL_BENCH=next-header,throughput` runs only some.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_logtriage")
}

fn pack() -> String {
    format!("{}/tests/packs/engine.toml", env!("CARGO_MANIFEST_DIR"))
}

fn fail(id: u64) -> String {
    format!(
        "2024-03-11 02:14:31,010 ERROR [com.koverse.server.ThriftServer] - id={id} accept failed\n\
         java.io.IOException: Too many open files\n\
         \tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n"
    )
}

const OK: &str = "2024-03-11 02:14:31,011 INFO  [com.koverse.server.Server] - fine\n";

struct Follower {
    child: Child,
    rx: mpsc::Receiver<(u64, Instant)>,
}

fn start(dir: &Path, extra: &[&str]) -> Follower {
    let mut child = Command::new(bin())
        .args([
            "tail",
            "--format",
            "ndjson",
            "--cooldown",
            "0",
            "--no-builtin-rules",
        ])
        .arg("--rules")
        .arg(pack())
        .args(extra)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("logtriage runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let at = Instant::now();
            if let Some(i) = line.find("id=") {
                let id: u64 = line[i + 3..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u64::MAX);
                let _ = tx.send((id, at));
            }
        }
    });
    let stderr = child.stderr.take().unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stderr);
        let mut line = String::new();
        while r.read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.contains("following") {
                let _ = ready_tx.send(());
            }
            line.clear();
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("follower ready");
    Follower { child, rx }
}

impl Follower {
    fn cpu_and_rss(&self) -> (Duration, u64) {
        let pid = self.child.id();
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let f: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let tick = 100.0; // USER_HZ
        let ut: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0);
        let st: f64 = f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let hwm = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (Duration::from_secs_f64((ut + st) / tick), hwm)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn append(p: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut lat: Vec<Duration>, expected: usize) {
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if lat.is_empty() {
        println!("{name:<28} no events reported (expected {expected})");
        return;
    }
    println!(
        "{name:<28} n={:<5} p50 {:7.2} ms  p90 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms{}",
        lat.len(),
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.90)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap()),
        if lat.len() == expected {
            String::new()
        } else {
            format!("  (expected {expected})")
        }
    );
}

/// Writes `n` events, one every `every`; `tail` is written after each event in the same write.
fn paced(name: &str, n: u64, every: Duration, tail: &str, extra: &[&str]) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("koverse-server.log");
    let mut w = append(&p);
    w.write_all(OK.as_bytes()).unwrap();
    let f = start(d.path(), extra);
    let mut written = vec![None; n as usize];
    let t0 = Instant::now();
    for id in 0..n {
        let due = t0 + every * id as u32;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let text = fail(id) + tail;
        written[id as usize] = Some(Instant::now());
        w.write_all(text.as_bytes()).unwrap();
    }
    // The last event ends with the next write (or after --flush-after).
    std::thread::sleep(Duration::from_millis(20));
    w.write_all(OK.as_bytes()).unwrap();
    let mut lat = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while lat.len() < n as usize {
        let left = deadline.saturating_duration_since(Instant::now());
        match f.rx.recv_timeout(left) {
            Ok((id, at)) => {
                if let Some(Some(w)) = written.get(id as usize) {
                    lat.push(at.duration_since(*w));
                }
            }
            Err(_) => break,
        }
    }
    f.stop();
    report(name, lat, n as usize);
}

fn throughput(files: usize, lines_per_s: u64, secs: u64) {
    let d = tempfile::tempdir().unwrap();
    let mut ws: Vec<File> = (0..files)
        .map(|i| append(&d.path().join(format!("app{i}.log"))))
        .collect();
    let f = start(d.path(), &[]);
    let (cpu0, _) = f.cpu_and_rss();
    let line = "2024-03-11 02:14:31,011 INFO  [com.koverse.server.Server] - handled request 1234567 in 12 ms for user someone@example.com\n";
    let mut expected = 0u64;
    let t0 = Instant::now();
    let batch_every = Duration::from_millis(10);
    let per_batch = lines_per_s / 100;
    let mut sent = 0u64;
    let mut id = 0u64;
    for b in 0..secs * 100 {
        let due = t0 + batch_every * b as u32;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        // Spread the batch over the files, one write per file.
        let per_file = (per_batch as usize).div_ceil(files);
        for w in ws.iter_mut() {
            let mut buf = String::with_capacity(per_file * line.len() + 200);
            for _ in 0..per_file {
                sent += 1;
                if sent.is_multiple_of(1000) {
                    buf.push_str(&fail(id));
                    id += 1;
                    expected += 1;
                } else {
                    buf.push_str(line);
                }
            }
            w.write_all(buf.as_bytes()).unwrap();
        }
    }
    let wrote_for = t0.elapsed();
    for w in ws.iter_mut() {
        w.write_all(OK.as_bytes()).unwrap();
    }
    let mut got = 0u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while got < expected {
        match f
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(_) => got += 1,
            Err(_) => break,
        }
    }
    let caught_up = t0.elapsed();
    let (cpu1, rss) = f.cpu_and_rss();
    f.stop();
    let cpu = cpu1 - cpu0;
    println!(
        "throughput                   {files} files, {} lines in {:.1} s ({:.0} lines/s written); \
         follower CPU {:.2} s ({:.0}% of one core), peak RSS {} MiB; {got}/{expected} failures \
         reported, all by {:.1} s",
        sent,
        wrote_for.as_secs_f64(),
        sent as f64 / wrote_for.as_secs_f64(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wrote_for.as_secs_f64(),
        rss / 1024,
        caught_up.as_secs_f64(),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let only = std::env::var("TAIL_BENCH").unwrap_or_default();
    let want = |n: &str| only.is_empty() || only.split(',').any(|o| o == n);
    println!(
        "logtriage tail latency, write -> NDJSON line ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let ten = Duration::from_millis(10);
    if want("next-header") {
        paced("next-header (100/s)", 1000, ten, OK, &[]);
    }
    if want("next-event") {
        paced("next-event (100/s)", 1000, ten, "", &[]);
    }
    if want("flush-after") {
        paced(
            "flush-after 500ms (isolated)",
            100,
            Duration::from_millis(700),
            "",
            &[],
        );
        paced(
            "flush-after 100ms (isolated)",
            100,
            Duration::from_millis(250),
            "",
            &["--flush-after", "100ms"],
        );
    }
    if want("poll") {
        paced(
            "next-header --poll 100ms",
            200,
            ten,
            OK,
            &["--poll", "100ms"],
        );
    }
    if want("throughput") {
        throughput(50, 200_000, 10);
    }
}
