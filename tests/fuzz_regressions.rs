//! Regression tests for what the fuzz targets in `fuzz/` found, and a deterministic form of the
//! `frame` target's invariant over the bundled samples. Inputs that crashed a target are kept
//! byte for byte in `tests/fuzz-regressions/`, named after the target. A test still marked
//! `#[ignore]` would be a bug not fixed yet (none is now).

use std::path::Path;

use logtriage::event::layout;
use logtriage::event::time::{self, TsKind, Zone};
use logtriage::finding::Origin;
use logtriage::matching::{Hit, Matcher};
use logtriage::rules::pack::parse_pack;
use logtriage::scan::block::{Scanner, StreamContext, scan_reader};

fn input(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `layout_time`: `2024-03-11 02:00:00-9990` (no newline). `time::zone` took any two digits
/// as the hours and minutes of an offset, so this was an offset of -99 h 90 min, and
/// `Stamp::iso` printed it as `-100:30`: not ISO 8601, and it did not parse back. Fixed: an
/// offset must be within ±23:59, else the line has no zone.
#[test]
fn zone_offset_out_of_range() {
    let line = input("layout_time-zone-offset-out-of-range");
    let st = time::parse_kind(&line, TsKind::Iso).expect("the date and time are valid");
    if let Some(Zone::Offset(m)) = st.zone {
        assert!(
            m.abs() <= 23 * 60 + 59,
            "offset of {m} minutes accepted from {:?}",
            String::from_utf8_lossy(&line)
        );
    }
    let iso = st.iso();
    let back = time::parse_kind(iso.as_bytes(), TsKind::Iso).expect("the normalised form parses");
    assert_eq!(back.end, iso.len(), "{iso:?} is not all timestamp");
    assert_eq!(back.key(), st.key());
}

/// In-range offsets keep working (the fix for the test above must not drop them).
#[test]
fn zone_offsets_in_range() {
    for (text, minutes) in [
        ("2024-03-11 02:00:00+01:00 x", 60),
        ("2024-03-11 02:00:00-0530 x", -330),
        ("2024-03-11 02:00:00+23:59 x", 23 * 60 + 59),
    ] {
        let st = time::parse_kind(text.as_bytes(), TsKind::Iso).unwrap();
        assert_eq!(st.zone, Some(Zone::Offset(minutes)), "{text}");
        let iso = st.iso();
        let back = time::parse_kind(iso.as_bytes(), TsKind::Iso).unwrap();
        assert_eq!((back.end, back.zone), (iso.len(), st.zone), "{iso}");
    }
}

// ---------------------------------------------------------------------------------------------
// The `frame` target's invariant, on the bundled samples: scanning a stream in chunks (carrying
// the unconsumed tail, as `scan_reader` does) finds the same occurrences at the same lines as
// scanning it in one piece.
// ---------------------------------------------------------------------------------------------

type Seen = (u32, u64, u64, Vec<u8>);

fn seen(out: &mut Vec<Seen>, h: &Hit) {
    out.push((h.rule, h.line, h.fingerprint, h.event.to_vec()));
}

fn scan_chunked(ctx: &StreamContext, log: &[u8], sizes: &[usize]) -> (Vec<Seen>, u64) {
    let mut out = Vec::new();
    let mut sc = Scanner::new(ctx, layout::detect(log), 1);
    let mut buf = Vec::new();
    let (mut off, mut i) = (0, 0);
    loop {
        let take = sizes[i % sizes.len()].min(log.len() - off);
        i += 1;
        buf.extend_from_slice(&log[off..off + take]);
        off += take;
        let last = off == log.len();
        let consumed = sc.scan(&buf, last, &mut |h| seen(&mut out, h));
        if last {
            assert_eq!(consumed, buf.len());
            break;
        }
        buf.drain(..consumed);
    }
    (out, sc.lines())
}

#[test]
fn chunked_scan_equals_one_piece_scan_on_samples() {
    let rules = logtriage::rules::load(&[], false).unwrap();
    let matcher = Matcher::new(rules).unwrap();
    let origin = Origin::default();
    let ctx = StreamContext::all_rules(&matcher, &origin);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        "samples/accumulo/master_node1.log",
        "samples/accumulo/tserver_node3.log",
        "samples/koverse-server/koverse-server.log",
        "samples/koverse-server/server.err",
        "tests/fixtures/cluster/nn1/postgresql/postgresql-2024-06-18_000000.log",
        "tests/fixtures/cluster/app1/kafka/server.log",
        "tests/fixtures/cluster/zk2/zookeeper/zookeeper.log",
    ];
    let mut total = 0;
    for f in files {
        let log = std::fs::read(root.join(f)).unwrap();
        let mut whole = Vec::new();
        let stats = scan_reader(&mut &log[..], &ctx, &mut |h| seen(&mut whole, h));
        total += whole.len();
        for sizes in [&[1][..], &[7, 300, 2], &[64], &[4096]] {
            let (chunked, lines) = scan_chunked(&ctx, &log, sizes);
            let key = |v: &[Seen]| v.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>();
            assert_eq!(key(&chunked), key(&whole), "{f}, chunks of {sizes:?}");
            assert!(chunked == whole, "{f}, chunks of {sizes:?}: events differ");
            assert_eq!(lines, stats.lines, "{f}, chunks of {sizes:?}");
        }
    }
    assert!(total > 0, "the samples hold findings");
}

// ---------------------------------------------------------------------------------------------
// `rule_pack`
// ---------------------------------------------------------------------------------------------

/// `rule_pack`: `[[rule]]\nid=\xd8` (13 bytes). Read as a pack file is (lossily: the byte is
/// U+FFFD), it is a TOML syntax error at the id's value; `rules::pack::rule_id_near`, which
/// looks for the rule id to name in the error, takes the value's first `char` as its quote and
/// slices `&rest[1..]`: one byte into a three-byte character, a panic ("byte index 1 is not a
/// char boundary"). Any `id =` followed by a non-ASCII character in a pack with a syntax error
/// does it.
#[test]
fn non_ascii_id_after_syntax_error() {
    let bytes = input("rule_pack-non-ascii-id-after-syntax-error");
    let text = String::from_utf8_lossy(&bytes);
    let e = parse_pack("fuzz.toml", &text).unwrap_err();
    assert_eq!((e[0].file.as_str(), e[0].line), ("fuzz.toml", 2));
}

/// The same through the real binary: a user's pack with that byte is an error (exit 2, the
/// file named), not a panic.
#[test]
fn non_ascii_id_after_syntax_error_through_the_binary() {
    let d = tempfile::tempdir().unwrap();
    let pack = d.path().join("bad.toml");
    std::fs::write(&pack, input("rule_pack-non-ascii-id-after-syntax-error")).unwrap();
    let out = assert_cmd::Command::cargo_bin("logtriage")
        .unwrap()
        .args(["scan", "--no-builtin-rules", "--rules"])
        .arg(&pack)
        .arg("/dev/null")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("bad.toml:2"), "{err}");
}

/// `rule_pack`: a threshold `within = "999999999999999d"`. `rules::pack::parse_duration_ms`
/// parses the number as an `i64` and returns `n * mult` unchecked: 999999999999999 days in
/// milliseconds overflows. A debug build panics ("attempt to multiply with overflow"); a release
/// build wraps to a negative window, so the rule's threshold can never be met and the rule is
/// silently dead. Found reading the `rule_pack` target's paths (the 10-minute run did not reach
/// a 12-digit duration) and confirmed with the fuzz target binary on this input.
#[test]
fn threshold_within_overflow() {
    let text = String::from_utf8(input("rule_pack-threshold-within-overflow.toml")).unwrap();
    match parse_pack("fuzz.toml", &text) {
        Ok(rules) => {
            let t = rules[0].threshold.as_ref().unwrap();
            panic!(
                "accepted a window of {} ms from {:?}",
                t.within_ms, t.within
            );
        }
        Err(e) => assert_eq!(
            (e[0].line, e[0].rule.as_deref()),
            (1, Some("a.b")),
            "{}",
            e[0]
        ),
    }
    assert_eq!(
        logtriage::rules::pack::parse_duration_ms("999999999999999d"),
        None
    );
}

/// A syntax error in a pack still names the line, and the rule when its id is plain.
#[test]
fn pack_syntax_errors_name_line_and_rule() {
    let e = parse_pack("fuzz.toml", "[[rule]]\nid = \"a.b\"\ntitle = \n").unwrap_err();
    assert_eq!(
        (e[0].file.as_str(), e[0].line, e[0].rule.as_deref()),
        ("fuzz.toml", 3, Some("a.b"))
    );
}
