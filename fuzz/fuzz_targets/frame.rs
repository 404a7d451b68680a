//! Fuzz target `frame`: the batch engine (`Scanner::scan`) on arbitrary bytes cut at arbitrary
//! chunk boundaries, with the built-in rule set.
//!
//! Input layout (all of it is used; see fuzz/README.md):
//!
//! * byte 0, bits 0-2: `n`, how many chunk-size bytes follow byte 1 (0 = feed line by line);
//!   bits 3-4: time window (bit 3: `since`, bit 4: `until`);
//! * byte 1: layout, an index into `Layout::ALL`, or `layout::detect` for any value past its end
//!   (seeds use 0xff);
//! * the next `n` bytes: chunk sizes (`1 + byte`), used in turn, cycling;
//! * the rest: the log bytes.
//!
//! The chunks are fed the way `scan_reader` feeds its blocks: the unconsumed tail is carried
//! to the front of the next buffer, and the last chunk is scanned with `last = true`.
//!
//! Invariant checked: the occurrences (rule, line, fingerprint, fields, event bytes) and the
//! line and event counts are the same as when the same bytes are scanned in one piece with
//! `scan_reader` (or `scan_reader_as` with the same layout). Occurrences come in stream order
//! and lie inside the stream.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use logtriage::event::time::{self, TsKind};
use logtriage::event::{Layout, layout};
use logtriage::finding::Origin;
use logtriage::source::origin::classify;
use logtriage::matching::{Hit, Matcher};
use logtriage::scan::block::{Scanner, StreamContext, looks_binary, scan_reader, scan_reader_as};

struct Fixture {
    matcher: Matcher,
    origin: Origin,
    since: i64,
    until: i64,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rules = logtriage::rules::load(&[], false).expect("built-in packs load");
        let key = |s: &[u8]| {
            time::parse_kind(s, TsKind::Iso)
                .expect("a valid time")
                .key()
        };
        Fixture {
            matcher: Matcher::new(rules).expect("built-in rule set compiles"),
            origin: classify("incident/dn1/hadoop-hdfs-datanode-dn1.log"),
            since: key(b"2024-03-11 02:00:00"),
            until: key(b"2024-03-11 03:00:00"),
        }
    })
}

/// What one occurrence is, for comparing two scans.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    rule: u32,
    line: u64,
    fingerprint: u64,
    fields: Vec<(String, String)>,
    event: Vec<u8>,
    evidence: String,
}

fn record(out: &mut Vec<Seen>, h: &Hit) {
    assert!(h.line >= 1, "line numbers are 1-based");
    assert!(
        h.hit_at < h.event.len(),
        "hit offset {} outside the event ({} bytes)",
        h.hit_at,
        h.event.len()
    );
    if let Some(prev) = out.last() {
        assert!(prev.line <= h.line, "occurrences out of stream order");
    }
    // The owned form (evidence text, stamp text, hit line) is what every consumer builds.
    let occ = h.occurrence();
    out.push(Seen {
        rule: h.rule,
        line: h.line,
        fingerprint: h.fingerprint,
        fields: h.fields().clone(),
        event: h.event.to_vec(),
        evidence: occ.text,
    });
}

fuzz_target!(|data: &[u8]| {
    let [ctl, lay, rest @ ..] = data else {
        return;
    };
    let n = (*ctl & 7) as usize;
    if rest.len() < n {
        return;
    }
    let (sizes, log) = rest.split_at(n);
    let f = fixture();
    let mut ctx = StreamContext::all_rules(&f.matcher, &f.origin);
    ctx.since = (ctl & 8 != 0).then_some(f.since);
    ctx.until = (ctl & 16 != 0).then_some(f.until);
    let forced = Layout::ALL.get(*lay as usize).copied();
    let layout = forced.unwrap_or_else(|| layout::detect(log));

    // One piece, as the batch sweep reads a file.
    let mut whole = Vec::new();
    let stats = if forced.is_none() && !looks_binary(log) {
        let stats = scan_reader(&mut &log[..], &ctx, &mut |h| record(&mut whole, h));
        // An empty stream is never looked at, so it has no layout.
        let expect = (!log.is_empty()).then_some(layout);
        assert_eq!(stats.layout, expect, "scan_reader detected another layout");
        stats
    } else {
        scan_reader_as(&mut &log[..], &ctx, Some(layout), &mut |h| {
            record(&mut whole, h)
        })
    };
    assert_eq!(stats.bytes, log.len() as u64);
    assert!(!stats.binary);
    for s in &whole {
        assert!(s.line <= stats.lines, "occurrence past the last line");
    }

    // Chunked, carrying the unconsumed tail like `scan_reader` does.
    let mut chunked = Vec::new();
    let mut sc = Scanner::new(&ctx, layout, 1);
    let mut buf: Vec<u8> = Vec::new();
    let mut off = 0;
    let mut i = 0;
    loop {
        let take = if n == 0 {
            memchr_nl(&log[off..]).map_or(log.len() - off, |p| p + 1)
        } else {
            (1 + sizes[i % n] as usize).min(log.len() - off)
        };
        i += 1;
        buf.extend_from_slice(&log[off..off + take]);
        off += take;
        let last = off == log.len();
        let consumed = sc.scan(&buf, last, &mut |h| record(&mut chunked, h));
        assert!(consumed <= buf.len(), "consumed past the buffer");
        if last {
            assert_eq!(consumed, buf.len(), "the last scan must consume everything");
            break;
        }
        buf.drain(..consumed);
    }

    let key = |v: &[Seen]| v.iter().map(|s| (s.rule, s.line)).collect::<Vec<_>>();
    assert_eq!(
        key(&chunked),
        key(&whole),
        "(rule, line) of occurrences differ between chunked and one-piece scans ({layout:?})"
    );
    assert_eq!(
        chunked, whole,
        "occurrences differ between chunked and one-piece scans ({layout:?})"
    );
    assert_eq!(sc.lines(), stats.lines, "line counts differ");
    assert_eq!(sc.events, stats.events, "event counts differ");
});

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}
