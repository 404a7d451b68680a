//! Inputs as operators get them: support bundles (tar, compressed tar, zip, a zip of per-host
//! `.tgz`), rotated logs compressed with xz, bzip2 and zstd, damaged and hostile archives. The
//! archives are built here with the crates (not CLI tools a fresh machine may lack), and every
//! case runs the real binary.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{RunExt, gzip, json, tar_of, write};
use serde_json::Value;

fn logtriage() -> Command {
    common::logtriage_scan()
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Every file under samples/ (but the README), as (path below samples/, bytes), sorted.
fn sample_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["accumulo", "koverse-server"] {
        let mut names: Vec<_> = std::fs::read_dir(samples().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        for n in names {
            let bytes = std::fs::read(samples().join(dir).join(&n)).unwrap();
            out.push((format!("{dir}/{n}"), bytes));
        }
    }
    out
}

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        z.start_file(name.as_str(), opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 1).unwrap()
}

/// What a user compares between two sweeps of the same logs: each finding's rule, severity,
/// count, service, host, fingerprint and evidence lines (paths differ: members are named
/// `ARCHIVE!/member`).
fn digest(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let lines: Vec<String> = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| format!("{}:{}", tail(e["path"].as_str().unwrap()), e["line"]))
                .collect();
            format!(
                "{} {} x{} {} {} {} [{}]",
                f["rule"],
                f["severity"],
                f["count"],
                f["service"],
                f["host"],
                f["fingerprint"],
                lines.join(" ")
            )
        })
        .collect();
    out.sort();
    out
}

/// A path without its archive or folder prefix: the part below `samples/` or below the last `!/`.
fn tail(p: &str) -> &str {
    let p = p.rsplit("!/").next().unwrap();
    p.split_once("samples/").map_or(p, |(_, rest)| rest)
}

fn scan_json(paths: &[&Path], extra: &[&str], code: i32) -> Value {
    let out = logtriage()
        .arg("--format=json")
        .args(extra)
        .args(paths)
        .stdout_for(code);
    json(&out)
}

#[test]
fn every_archive_kind_of_the_samples_gives_the_folder_s_findings() {
    let folder = scan_json(&[&samples()], &[], 1);
    let want = digest(&folder);
    assert!(want.len() >= 10, "{want:?}");
    let files = sample_files();
    let tar = tar_of(&files);
    let d = tempfile::tempdir().unwrap();
    // The plain Accumulo log before its debug log: read again once the debug log is known.
    let mut reversed = files.clone();
    reversed.reverse();
    let kinds: Vec<(&str, Vec<u8>)> = vec![
        ("bundle.tar", tar.clone()),
        ("reversed.tar.gz", gzip(&tar_of(&reversed))),
        ("bundle.tar.gz", gzip(&tar)),
        ("bundle.tgz", gzip(&tar)),
        ("bundle.tar.xz", xz(&tar)),
        ("bundle.tar.bz2", bzip2(&tar)),
        ("bundle.tar.zst", zstd(&tar)),
        ("bundle.zip", zip_of(&files)),
        // Recognised by content, not by name.
        ("bundle.dat", xz(&tar)),
        ("zipped.bin", zip_of(&files)),
    ];
    for (name, bytes) in kinds {
        let p = write(d.path(), name, &bytes);
        let v = scan_json(&[&p], &[], 1);
        assert_eq!(digest(&v), want, "{name}");
        // Members are named ARCHIVE!/member, the rotated .gz inside decompressed.
        let sources: Vec<&str> = v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["path"].as_str().unwrap())
            .collect();
        let rotated = format!("{}!/koverse-server/koverse-server.log.1.gz", p.display());
        assert!(sources.contains(&rotated.as_str()), "{name}: {sources:?}");
        let s = v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == rotated.as_str())
            .unwrap();
        assert_eq!(s["compression"], "gzip", "{name}");
        assert_eq!(s["service"], "koverse-server", "{name}");
        assert!(
            v["errors"].as_array().unwrap().is_empty(),
            "{name}: {}",
            v["errors"]
        );
        // The Accumulo plain log defers to its debug log inside the archive too.
        let plain = v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("!/accumulo/master_node1.log")
            })
            .unwrap();
        assert!(
            plain["note"]
                .as_str()
                .is_some_and(|n| n.contains("master_node1.debug.log")),
            "{name}: {plain}"
        );
    }
}

#[test]
fn rotated_logs_compressed_with_xz_bzip2_and_zstd_multi_stream_included() {
    let log = std::fs::read(samples().join("koverse-server/koverse-server.log")).unwrap();
    let d = tempfile::tempdir().unwrap();
    let plain = write(d.path(), "app1/koverse-server/koverse-server.log", &log);
    let want = digest(&scan_json(&[&plain], &[], 1));
    let count = |v: &Value| -> u64 {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["count"].as_u64().unwrap())
            .sum()
    };
    let once = count(&scan_json(&[&plain], &[], 1));
    for (suffix, c) in [
        ("xz", xz as fn(&[u8]) -> Vec<u8>),
        ("bz2", bzip2),
        ("zst", zstd),
    ] {
        let p = write(
            d.path(),
            &format!("app1/koverse-server/koverse-server.log.4.{suffix}"),
            &c(&log),
        );
        let v = scan_json(&[&p], &[], 1);
        let got: Vec<String> = digest(&v)
            .iter()
            .map(|f| f.replace(&format!(".log.4.{suffix}:"), ".log:"))
            .collect();
        assert_eq!(got, want, "{suffix}");
        // Two streams / frames one after another: both are read.
        let mut two = c(&log);
        two.extend(c(&log));
        let p2 = write(d.path(), &format!("twice.log.{suffix}"), &two);
        let v2 = scan_json(&[&p2], &[], 1);
        assert_eq!(count(&v2), 2 * once, "{suffix}: both streams");
        assert_eq!(
            v2["sources"][0]["lines"],
            2 * v["sources"][0]["lines"].as_u64().unwrap()
        );
    }
}

#[test]
fn a_zip_of_per_host_tgz_bundles_is_opened_to_the_rotated_gz_inside() {
    let log = std::fs::read(samples().join("koverse-server/koverse-server.log")).unwrap();
    let host_tgz = |h: &str| {
        gzip(&tar_of(&[
            (
                format!("{h}/koverse-server/koverse-server.log"),
                log.clone(),
            ),
            (
                format!("{h}/koverse-server/koverse-server.log.3.gz"),
                gzip(&log),
            ),
        ]))
    };
    let zip = zip_of(&[
        ("host1.example.com.tgz".to_string(), host_tgz("host1")),
        ("host2.example.com.tgz".to_string(), host_tgz("host2")),
    ]);
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "incident-42.zip", &zip);
    let v = scan_json(&[&p], &[], 1);
    let paths: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    let inner = format!(
        "{}!/host2.example.com.tgz!/host2/koverse-server/koverse-server.log.3.gz",
        p.display()
    );
    assert!(paths.contains(&inner.as_str()), "{paths:?}");
    assert_eq!(paths.len(), 4, "{paths:?}");
    let hosts: std::collections::BTreeSet<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts.into_iter().collect::<Vec<_>>(), ["host1", "host2"]);
}

#[test]
fn a_cut_archive_reports_what_came_before_names_the_member_and_exits_2() {
    let files = sample_files();
    let tgz = gzip(&tar_of(&files));
    let d = tempfile::tempdir().unwrap();
    // Cut well inside: the first members are whole, one is cut, the rest is missing.
    let p = write(d.path(), "incident.tar.gz", &tgz[..tgz.len() * 2 / 3]);
    let out = logtriage().arg("--format=json").arg(&p).assert().code(2);
    let o = out.get_output();
    let v = json(&o.stdout);
    let err = &v["errors"][0];
    let path = err["path"].as_str().unwrap();
    assert!(path.starts_with(&format!("{}!/", p.display())), "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("archive damaged or cut short") && message.contains("bytes"),
        "{message}"
    );
    assert!(
        !v["findings"].as_array().unwrap().is_empty(),
        "what came before is reported"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(path), "{stderr}");
}

#[test]
fn encrypted_members_links_and_devices_are_listed_not_read() {
    use zip::unstable::write::FileOptionsExt;
    let log = std::fs::read(samples().join("koverse-server/koverse-server.log")).unwrap();
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let plain = zip::write::SimpleFileOptions::default();
    z.start_file("app1/koverse-server.log", plain).unwrap();
    z.write_all(&log).unwrap();
    let secret = plain.with_deprecated_encryption(b"hunter2").unwrap();
    z.start_file("app1/secret.log", secret).unwrap();
    z.write_all(&log).unwrap();
    let zip = z.finish().unwrap().into_inner();
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "b.zip", &zip);
    let v = scan_json(&[&p], &[], 1);
    let skipped = v["skipped"].to_string();
    assert!(skipped.contains("b.zip!/app1/secret.log"), "{skipped}");
    assert!(skipped.contains("encrypted"), "{skipped}");
    assert_eq!(v["sources"].as_array().unwrap().len(), 1);

    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(log.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "app1/koverse-server.log", log.as_slice())
        .unwrap();
    let mut l = tar::Header::new_gnu();
    l.set_entry_type(tar::EntryType::Symlink);
    l.set_size(0);
    b.append_link(&mut l, "app1/passwd.log", "/etc/passwd")
        .unwrap();
    let mut c = tar::Header::new_gnu();
    c.set_entry_type(tar::EntryType::Char);
    c.set_size(0);
    c.set_mode(0o644);
    c.set_cksum();
    b.append_data(&mut c, "app1/tty0", std::io::empty())
        .unwrap();
    let p = write(d.path(), "b.tar", &b.into_inner().unwrap());
    let v = scan_json(&[&p], &[], 1);
    let skipped = v["skipped"].to_string();
    assert!(
        skipped.contains("b.tar!/app1/passwd.log") && skipped.contains("never followed"),
        "{skipped}"
    );
    assert!(skipped.contains("b.tar!/app1/tty0"), "{skipped}");
}

#[test]
fn hostile_member_names_are_shown_sanitised_and_nothing_is_written() {
    let log = std::fs::read(samples().join("koverse-server/koverse-server.log")).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    for name in [
        &b"../../etc/koverse-server.log"[..],
        b"evil\x1b[2Jkoverse-server.log",
    ] {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_size(log.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, log.as_slice()).unwrap();
    }
    let d = tempfile::tempdir().unwrap();
    let inner = d.path().join("a/b");
    std::fs::create_dir_all(&inner).unwrap();
    let p = write(&inner, "b.tar", &b.into_inner().unwrap());
    let out = logtriage()
        .arg("--format=human")
        .current_dir(&inner)
        .arg("b.tar")
        .stdout_for(1);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("b.tar!/../../etc/koverse-server.log"),
        "{text}"
    );
    assert!(text.contains("evil\\x1b[2Jkoverse-server.log"), "{text}");
    assert!(!text.contains('\x1b'), "no raw escape reaches the terminal");
    assert!(!d.path().join("etc").exists(), "nothing extracted");
    let listing: Vec<_> = std::fs::read_dir(&inner).unwrap().collect();
    assert_eq!(listing.len(), 1, "only the archive: {}", p.display());
}

/// Runs the binary with `args`; returns its exit code, stdout and peak resident memory (KiB).
/// The binary is started from a fresh copy of this test program (the `measure_child` test
/// below), not from this one: a process started from a big multi-threaded parent counts the
/// parent's memory in its own peak until it execs.
fn run_measured(args: &[&std::ffi::OsStr]) -> (i32, Vec<u8>, i64) {
    let d = tempfile::tempdir().unwrap();
    let out_file = d.path().join("stdout");
    let joined = args
        .iter()
        .map(|a| a.to_string_lossy().to_string())
        .collect::<Vec<_>>()
        .join("\u{1f}");
    let o = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "measure_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LOGTRIAGE_MEASURE_ARGS", joined)
        .env("LOGTRIAGE_MEASURE_OUT", &out_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let field = |k: &str| -> i64 {
        text.lines()
            .find_map(|l| l.split_once(k).map(|(_, v)| v))
            .unwrap_or_else(|| panic!("{k} not in {text}"))
            .trim()
            .parse()
            .unwrap()
    };
    (
        field("CODE=") as i32,
        std::fs::read(&out_file).unwrap(),
        field("PEAK_RSS_KIB="),
    )
}

/// Not a test of its own: when `run_measured` starts this program with its variables set, it
/// runs the binary and prints the exit code and the peak resident memory of that process.
#[test]
fn measure_child() {
    let Ok(args) = std::env::var("LOGTRIAGE_MEASURE_ARGS") else {
        return;
    };
    let out = std::env::var("LOGTRIAGE_MEASURE_OUT").unwrap();
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin!("logtriage"))
        .args(args.split('\u{1f}'))
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    println!("CODE={}", status.code().unwrap_or(-1));
    println!("PEAK_RSS_KIB={}", usage.ru_maxrss);
}

#[test]
fn a_decompression_bomb_is_stopped_in_bounded_memory() {
    // zstd frames of 128 KiB of text each, repeated 8,192 times (1 GiB once decompressed),
    // compressed again: a few hundred bytes on disk.
    let frame = zstd::encode_all(&b"a\n".repeat(64 * 1024)[..], 19).unwrap();
    let inner: Vec<u8> = frame.repeat(8192);
    let bomb = zstd::encode_all(inner.as_slice(), 19).unwrap();
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "koverse-server.log.9.zst", &bomb);
    let (code, stdout, rss_kib) =
        run_measured(&["scan".as_ref(), "--format=json".as_ref(), p.as_os_str()]);
    assert_eq!(code, 2);
    let v = json(&stdout);
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("decompression bomb"), "{message}");
    assert!(rss_kib < 64 * 1024, "peak RSS {rss_kib} KiB");
}

#[test]
fn globs_apply_to_members_inside_a_bundle() {
    let tar = tar_of(&sample_files());
    let d = tempfile::tempdir().unwrap();
    // Found in a folder: the archive is opened, its members filtered.
    write(d.path(), "in/bundle.tar.gz", &gzip(&tar));
    let v = scan_json(
        &[&d.path().join("in")],
        &["-g", "*.log*", "-g", "!*debug*"],
        1,
    );
    let paths: Vec<String> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| tail(s["path"].as_str().unwrap()).to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "accumulo/master_node1.log",
            "accumulo/tserver_node3.log",
            "koverse-server/koverse-server.log",
            "koverse-server/koverse-server.log.1.gz"
        ]
    );
}

#[test]
fn a_member_claiming_100_gib_is_an_error_not_a_wait() {
    let log = std::fs::read(samples().join("koverse-server/koverse-server.log")).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(100 << 30);
    h.set_mode(0o644);
    h.as_gnu_mut().unwrap().name[..18].copy_from_slice(b"koverse-server.log");
    h.set_cksum();
    let mut tar = h.as_bytes().to_vec();
    tar.extend_from_slice(&log);
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "b.tar", &tar);
    let (code, stdout, rss_kib) =
        run_measured(&["scan".as_ref(), "--format=json".as_ref(), p.as_os_str()]);
    assert_eq!(code, 2);
    let v = json(&stdout);
    let e = &v["errors"][0];
    assert_eq!(e["path"], format!("{}!/koverse-server.log", p.display()));
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains(&format!("after {} of the 107374182400 bytes", log.len())),
        "{m}"
    );
    // What it held was scanned.
    assert!(!v["findings"].as_array().unwrap().is_empty());
    assert!(rss_kib < 64 * 1024, "peak RSS {rss_kib} KiB");
}

#[test]
fn damaged_xz_bzip2_and_zstd_files_report_what_came_before() {
    let log = std::fs::read(samples().join("koverse-server/koverse-server.log")).unwrap();
    let big = log.repeat(50);
    let d = tempfile::tempdir().unwrap();
    for (suffix, c, name) in [
        ("xz", xz as fn(&[u8]) -> Vec<u8>, "xz"),
        ("bz2", bzip2, "bzip2"),
        ("zst", zstd, "zstd"),
    ] {
        let mut bytes = c(&big);
        bytes.truncate(bytes.len() / 2);
        let p = write(d.path(), &format!("koverse-server.log.3.{suffix}"), &bytes);
        let out = logtriage().arg("--format=json").arg(&p).assert().code(2);
        let v = json(&out.get_output().stdout);
        let m = v["errors"][0]["message"].as_str().unwrap();
        assert!(
            m.contains(&format!("{name} data damaged or unreadable")) && m.contains("bytes"),
            "{suffix}: {m}"
        );
        assert_eq!(v["errors"][0]["path"], p.display().to_string());
        let stderr = String::from_utf8_lossy(&out.get_output().stderr);
        assert!(stderr.contains(&p.display().to_string()), "{stderr}");
    }
}

#[test]
fn binary_members_are_skipped_and_listed() {
    let log = std::fs::read(samples().join("koverse-server/koverse-server.log")).unwrap();
    let tar = tar_of(&[
        (
            "app1/core.1234".to_string(),
            b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec(),
        ),
        ("app1/koverse-server/koverse-server.log".to_string(), log),
    ]);
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "b.tar", &tar);
    let v = scan_json(&[&p], &[], 1);
    assert_eq!(
        v["skipped"][0]["path"],
        format!("{}!/app1/core.1234", p.display())
    );
    assert!(
        v["skipped"][0]["message"]
            .as_str()
            .unwrap()
            .contains("binary member")
    );
    assert_eq!(v["sources"].as_array().unwrap().len(), 1);
}

#[test]
fn the_seven_host_cluster_as_one_bundle_gives_the_folder_s_findings_on_the_same_hosts() {
    let cluster = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster");
    let key = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f["rule"], f["host"], f["count"], f["fingerprint"]
                )
            })
            .collect();
        k.sort();
        k
    };
    let folder = scan_json(&[&cluster], &[], 1);
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all("cluster", &cluster).unwrap();
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "incident-42.tar.gz",
        &gzip(&b.into_inner().unwrap()),
    );
    let bundle = scan_json(&[&p], &[], 1);
    assert_eq!(key(&bundle), key(&folder));
    assert_eq!(bundle["hosts"], folder["hosts"]);
    assert_eq!(bundle["hosts"].as_array().unwrap().len(), 7);
}

/// Damaged archives of every kind, cut and corrupted at many places: never a panic, never a
/// hang, always a report and an exit code the README documents.
#[test]
fn damaged_archives_never_panic() {
    let files = sample_files();
    let tar = tar_of(&files);
    let kinds: Vec<(&str, Vec<u8>)> = vec![
        ("b.tar", tar.clone()),
        ("b.tar.gz", gzip(&tar)),
        ("b.tar.xz", xz(&tar)),
        ("b.tar.bz2", bzip2(&tar)),
        ("b.tar.zst", zstd(&tar)),
        ("b.zip", zip_of(&files)),
    ];
    let d = tempfile::tempdir().unwrap();
    let mut cases = 0;
    for (name, bytes) in &kinds {
        for k in 1..6 {
            let at = bytes.len() * k / 6;
            // Cut there, and (separately) a run of bytes overwritten there.
            let mut flipped = bytes.clone();
            for b in flipped.iter_mut().skip(at).take(64) {
                *b ^= 0x5a;
            }
            for (what, data) in [("cut", bytes[..at].to_vec()), ("flipped", flipped)] {
                let p = write(d.path(), &format!("{what}-{k}-{name}"), &data);
                let out = logtriage()
                    .arg("--format=json")
                    .arg(&p)
                    .timeout(std::time::Duration::from_secs(60))
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(!stderr.contains("panicked"), "{}: {stderr}", p.display());
                assert!(
                    matches!(out.status.code(), Some(0..=2)),
                    "{}: {:?} {stderr}",
                    p.display(),
                    out.status
                );
                let v = json(&out.stdout);
                assert!(v["sources"].is_array(), "{}", p.display());
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 60);
}
