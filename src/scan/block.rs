//! The batch hot path for one stream. Reads large blocks, runs the one multi-literal search over
//! each whole block, and only around a hit frames the event (back to its header, forward to the
//! next header) and runs the candidate rules on it. Line numbers come from counting newlines in
//! the gaps between hits. The tail of a block whose last event may continue is carried into the
//! next one, so events never straddle two blocks. Lines longer than `MAX_LINE_BYTES` are cut
//! (and counted) so memory stays bounded whatever the input.

use std::io::{self, Read};

use crate::event::frame::{self, MAX_EVENT_BYTES};
use crate::event::{Layout, layout};
use crate::finding::{Origin, fingerprint::fingerprint};
use crate::matching::{Hit, Matcher};

/// Bytes read per block.
pub const BLOCK_BYTES: usize = 1 << 20;
/// Longest line kept; the rest of a longer line is skipped (the line still counts as one line).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Bytes of the first block checked for NUL (binary files are skipped).
const BINARY_PROBE_BYTES: usize = 64 * 1024;

/// What the scan of one stream saw.
#[derive(Clone, Debug, Default)]
pub struct StreamStats {
    pub bytes: u64,
    pub lines: u64,
    /// Events framed around literal hits and checked against rules.
    pub events: u64,
    /// Lines longer than `MAX_LINE_BYTES`, cut.
    pub cut_lines: u64,
    pub layout: Option<Layout>,
    pub binary: bool,
    /// A read error (e.g. a truncated gzip member); what was read before it was scanned.
    pub error: Option<String>,
}

/// Everything the scan of one stream needs to know.
pub struct StreamContext<'a> {
    pub matcher: &'a Matcher,
    /// Which rules apply to this path (`files` globs).
    pub allowed: Vec<bool>,
    pub origin: &'a Origin,
    /// Only events whose timestamp key is within these bounds (untimed events always pass).
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Scans a whole stream, calling `emit` with each occurrence in stream order.
pub fn scan_stream(
    reader: &mut dyn Read,
    ctx: &StreamContext,
    emit: &mut dyn FnMut(&Hit),
) -> StreamStats {
    let mut stats = StreamStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK_BYTES * 2);
    let mut base_line: u64 = 1;
    let mut layout: Option<Layout> = None;
    let mut skipping = false; // inside an over-long line, dropping bytes up to its newline
    let mut eof = false;
    let mut cands = Vec::new();
    while !eof {
        // 1. Fill: read up to one block of new bytes after the carried tail.
        let start = buf.len();
        let target = start + BLOCK_BYTES;
        buf.resize(target, 0);
        let mut filled = start;
        while filled < target {
            match reader.read(&mut buf[filled..target]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    stats.bytes += n as u64;
                    let mut n = n;
                    if skipping {
                        match memchr::memchr(b'\n', &buf[filled..filled + n]) {
                            Some(i) => {
                                buf.copy_within(filled + i + 1..filled + n, filled);
                                n -= i + 1;
                                skipping = false;
                            }
                            None => n = 0,
                        }
                    }
                    filled += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    stats.error = Some(format!("read error after {} bytes: {e}", stats.bytes));
                    eof = true;
                    break;
                }
            }
        }
        buf.truncate(filled);
        let layout = match layout {
            Some(l) => l,
            None => {
                if buf.is_empty() && eof {
                    break;
                }
                if memchr::memchr(0, &buf[..buf.len().min(BINARY_PROBE_BYTES)]).is_some() {
                    stats.binary = true;
                    return stats;
                }
                let l = layout::detect(&buf);
                layout = Some(l);
                stats.layout = Some(l);
                l
            }
        };

        // 2. Bound: whole lines only; cut a line that grew past the maximum.
        let mut complete = if eof {
            buf.len()
        } else {
            memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)
        };
        if !eof && buf.len() - complete > MAX_LINE_BYTES {
            buf.truncate(complete + MAX_LINE_BYTES);
            buf.push(b'\n');
            stats.cut_lines += 1;
            skipping = true;
            complete = buf.len();
        }
        // The last event may go on in the next block: stop before its header.
        let hi = if eof {
            complete
        } else {
            match frame::last_header(layout, &buf, 0, complete) {
                Some(h) if h > 0 => h,
                _ if complete > MAX_EVENT_BYTES => complete,
                _ => continue,
            }
        };

        // 3. Search, frame around hits, count lines in the gaps.
        let mut pos = 0;
        let mut counted_to = 0;
        let mut line = base_line;
        while let Some(hit) = ctx.matcher.next_hit(&buf, pos, hi) {
            let s = frame::event_start(layout, &buf, pos, hit);
            let e = frame::event_end(layout, &buf, s, hi);
            line += count_lines(&buf[counted_to..s]);
            counted_to = s;
            stats.events += 1;
            check_event(ctx, layout, &buf[s..e], line, &mut cands, emit);
            pos = e.max(hit + 1);
        }
        let newlines = count_lines(&buf[counted_to..hi]);
        line += newlines;
        stats.lines = line - 1;
        base_line = line;
        if eof && hi > 0 && buf[hi - 1] != b'\n' {
            stats.lines += 1;
        }
        buf.drain(..hi);
    }
    stats
}

#[inline]
fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// Runs the candidate rules on one event and emits what fires.
fn check_event(
    ctx: &StreamContext,
    layout: Layout,
    event: &[u8],
    line: u64,
    cands: &mut Vec<(u32, usize)>,
    emit: &mut dyn FnMut(&Hit),
) {
    ctx.matcher.candidates(event, cands);
    cands.retain(|(r, _)| ctx.allowed[*r as usize]);
    if cands.is_empty() {
        return;
    }
    let header = frame::line_at(event, 0, event.len());
    let (stamp, level) = layout.header(header);
    if let Some(k) = stamp.map(|s| s.key())
        && (ctx.since.is_some_and(|s| k < s) || ctx.until.is_some_and(|u| k > u))
    {
        return;
    }
    for &(ri, at) in cands.iter() {
        let Some(fields) = ctx.matcher.confirm(ri, event, level) else {
            continue;
        };
        let rule = &ctx.matcher.rules[ri as usize];
        let grouped: Vec<(&str, &str)> = rule
            .group_by
            .iter()
            .map(|g| {
                (
                    g.as_str(),
                    fields
                        .iter()
                        .find(|(k, _)| k == g)
                        .map_or("", |(_, v)| v.as_str()),
                )
            })
            .collect();
        let fingerprint = fingerprint(
            &rule.id,
            &grouped,
            ctx.origin.service,
            ctx.origin.host.as_deref(),
        );
        emit(&Hit {
            rule: ri,
            line,
            stamp,
            level,
            fields,
            fingerprint,
            event,
            hit_at: at,
        });
    }
}
