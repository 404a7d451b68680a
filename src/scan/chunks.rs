//! One stream scanned on several cores: a decompressed file or an archive member can only be
//! read from its start, but once read, its text can be cut into chunks at event boundaries
//! (the start of the last event in each chunk goes on in the next one) and the chunks scanned
//! in parallel while reading goes on, as `split` does with the ranges of a plain file. The
//! results merge exactly (`aggregate::merge_parts`): the same findings as one pass. At most
//! `IN_FLIGHT_PER_THREAD` chunks per thread wait or run at once, so memory stays bounded; the
//! reading thread scans chunks itself while it waits for room.

use std::io::{self, Read};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::block::{self, StreamContext, StreamStats};
use crate::event::{Layout, frame};
use crate::finding::FileAggregator;
use crate::finding::aggregate::{Part, PartMerger};

/// Bytes per chunk (at most: `--split-bytes` makes them smaller, for tests).
pub const CHUNK_BYTES: usize = 1 << 20;
const IN_FLIGHT_PER_THREAD: usize = 2;

/// Reads until `buf` holds `want` more bytes or the stream ends; returns whether it ended.
fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let mut len = buf.len();
    let target = len + want;
    // Read straight into the buffer (a recycled one: its pages are already there).
    buf.resize(target, 0);
    let result = loop {
        if len == target {
            break Ok(false);
        }
        match r.read(&mut buf[len..target]) {
            Ok(0) => break Ok(true),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    buf.truncate(len);
    result
}

/// Chunk buffers handed back after their scan, so a stream of any length touches only the
/// pages of a few chunks (fresh 4 MiB buffers cost a page fault per 4 KiB).
struct Pool(Mutex<Vec<Vec<u8>>>);

impl Pool {
    fn take(&self) -> Vec<u8> {
        let mut v = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK_BYTES + 64 * 1024));
        v.clear();
        v
    }

    fn give(&self, v: Vec<u8>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(v);
    }
}

/// How a stream is cut and scanned.
pub struct Plan {
    /// The stream's layout (from its first bytes).
    pub layout: Layout,
    pub threads: usize,
    pub chunk_bytes: usize,
    pub max_evidence: usize,
}

/// Scans the stream `head` + `rest` (text) in parallel chunks; returns its stats and findings.
/// `new_aggregator` makes the aggregator of one chunk.
pub fn scan_chunked<'r>(
    head: Vec<u8>,
    rest: &mut dyn Read,
    ctx: &StreamContext,
    plan: &Plan,
    new_aggregator: &(dyn Fn() -> FileAggregator<'r> + Sync),
) -> (StreamStats, Part) {
    let Plan {
        layout,
        threads,
        chunk_bytes,
        max_evidence,
    } = *plan;
    // Parts finish in any order; each is folded in as soon as those before it are, so only
    // the merged result and the few parts ahead of it are held.
    let merging = Mutex::new(Merging {
        next: 0,
        waiting: std::collections::BTreeMap::new(),
        merger: PartMerger::new(&ctx.matcher.rules, max_evidence),
        stats: StreamStats {
            layout: Some(layout),
            ..StreamStats::default()
        },
    });
    let in_flight = AtomicUsize::new(0);
    // Signalled when a chunk's scan ends: the reader waits on it instead of spinning (on two
    // cores a spinning reader takes the core a scan needs).
    let done = (Mutex::new(()), std::sync::Condvar::new());
    let limit = threads.max(1) * IN_FLIGHT_PER_THREAD;
    let mut read_error = None;
    let pool = Pool(Mutex::new(Vec::new()));
    let scan_part = |index: usize, text: &[u8], last_error: Option<String>| {
        let mut agg = if index == 0 {
            new_aggregator().at_stream_start()
        } else {
            new_aggregator()
        };
        let mut reader = text;
        let mut stats = block::scan_reader_as(&mut reader, ctx, Some(layout), &mut |h| agg.push(h));
        if stats.error.is_none() {
            stats.error = last_error;
        }
        merging
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(index, stats, agg.into_parts());
    };
    rayon::in_place_scope(|scope| {
        let mut buf = head;
        let mut index = 0;
        loop {
            let want = chunk_bytes.saturating_sub(buf.len()).max(1024);
            let ended = match fill(rest, &mut buf, want) {
                Ok(e) => e,
                Err(e) => {
                    read_error = Some(e);
                    true
                }
            };
            // Cut before the last event: it may go on in the next chunk.
            let complete = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
            let cut = if ended {
                buf.len()
            } else {
                match frame::last_header(layout, &buf, 0, complete) {
                    Some(h) if h > 0 => h,
                    // No event boundary in a whole chunk (a huge event or line): the rest of
                    // the stream is one part, read by one scanner.
                    _ => {
                        let error = read_error.take();
                        let mut tail = io::Cursor::new(std::mem::take(&mut buf)).chain(&mut *rest);
                        let mut agg = new_aggregator();
                        let mut stats =
                            block::scan_reader_as(&mut tail, ctx, Some(layout), &mut |h| {
                                agg.push(h)
                            });
                        if stats.error.is_none() {
                            stats.error = error
                                .map(|e| format!("read error after {} bytes: {e}", stats.bytes));
                        }
                        merging.lock().unwrap_or_else(|e| e.into_inner()).add(
                            index,
                            stats,
                            agg.into_parts(),
                        );
                        return;
                    }
                }
            };
            let mut carry = pool.take();
            carry.extend_from_slice(&buf[cut..]);
            buf.truncate(cut);
            let text = std::mem::replace(&mut buf, carry);
            // Errors say how far their part got; the merge adds the parts before.
            let last_error = if ended {
                read_error
                    .take()
                    .map(|e| format!("read error after {} bytes: {e}", text.len()))
            } else {
                None
            };
            // Room for this chunk: while there is none, scan a waiting one here, or wait for one
            // to end.
            while in_flight.load(Ordering::Acquire) >= limit {
                if rayon::yield_local() != Some(rayon::Yield::Executed) {
                    let guard = done.0.lock().unwrap_or_else(|e| e.into_inner());
                    if in_flight.load(Ordering::Acquire) >= limit {
                        let _ = done
                            .1
                            .wait_timeout(guard, std::time::Duration::from_millis(2));
                    }
                }
            }
            in_flight.fetch_add(1, Ordering::AcqRel);
            let (scan_part, in_flight, pool, done) = (&scan_part, &in_flight, &pool, &done);
            scope.spawn(move |_| {
                scan_part(index, &text, last_error);
                pool.give(text);
                let _guard = done.0.lock().unwrap_or_else(|e| e.into_inner());
                in_flight.fetch_sub(1, Ordering::AcqRel);
                done.1.notify_one();
            });
            index += 1;
            if ended {
                return;
            }
        }
    });
    let m = merging.into_inner().unwrap_or_else(|e| e.into_inner());
    (m.stats, m.merger.finish())
}

/// The merged result of the parts so far, and the parts that finished ahead of their turn.
struct Merging<'r> {
    next: usize,
    waiting: std::collections::BTreeMap<usize, (StreamStats, Part)>,
    merger: PartMerger<'r>,
    stats: StreamStats,
}

impl Merging<'_> {
    fn add(&mut self, index: usize, stats: StreamStats, part: Part) {
        self.waiting.insert(index, (stats, part));
        while let Some((mut st, part)) = self.waiting.remove(&self.next) {
            if self.stats.error.is_none() {
                self.stats.error = st.error.take().map(|e| absolute(&e, self.stats.bytes));
            }
            let before = self.stats.last_time.as_ref().map(|t| t.1);
            self.merger.push_at(self.stats.lines, before, part);
            self.stats.absorb_times(self.stats.lines, &mut st);
            self.stats.bytes += st.bytes;
            self.stats.lines += st.lines;
            self.stats.events += st.events;
            self.stats.cut_lines += st.cut_lines;
            self.next += 1;
        }
    }
}

/// A part's "read error after N bytes: ..." with N counted from the stream's start.
fn absolute(error: &str, before: u64) -> String {
    let parsed = error
        .strip_prefix("read error after ")
        .and_then(|r| r.split_once(" bytes: "))
        .and_then(|(n, rest)| n.parse::<u64>().ok().map(|n| (n, rest)));
    match parsed {
        Some((n, rest)) => format!("read error after {} bytes: {rest}", before + n),
        None => error.to_string(),
    }
}
