//! The batch hot path. A `Scanner` takes a buffer that starts at an event boundary, runs the one
//! multi-literal search over the whole buffer, and only around a hit frames the event (back to
//! its header, forward to the next header) and runs the candidate rules on it. Line numbers come
//! from counting newlines in the gaps between hits. It consumes the buffer up to the start of
//! its last event (which may go on in the next buffer) and says how far it got, so events never
//! straddle two buffers. `scan_reader` feeds it blocks read from any `Read` (files, stdin, gzip),
//! cutting lines longer than `MAX_LINE_BYTES` so memory stays bounded whatever the input.

use std::io::{self, Read};

use crate::event::frame::{self, MAX_EVENT_BYTES};
use crate::event::{Layout, Stamp, layout};
use crate::finding::{Origin, fingerprint::fingerprint};
use crate::matching::{Hit, Matcher, UNKNOWN};

/// Bytes read per block.
pub const BLOCK_BYTES: usize = 1 << 20;
/// Longest line kept; the rest of a longer line is skipped (the line still counts as one line).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Bytes of the first block checked for NUL (binary files are skipped).
pub const BINARY_PROBE_BYTES: usize = 64 * 1024;

/// What the scan of one stream (or one part of a file) saw.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
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
    /// The stream's last timed header line: its number, time and text (for logs that went
    /// silent, `report`).
    pub last_time: Option<(u64, Stamp, String)>,
    /// The time of its first timed line (with `last_time` and `lines`: its usual spacing).
    pub first_time: Option<Stamp>,
}

impl StreamStats {
    /// Takes in the times of the next part of the stream, whose first line is
    /// `lines_before + 1`.
    pub fn absorb_times(&mut self, lines_before: u64, part: &mut StreamStats) {
        if let Some((line, st, text)) = part.last_time.take() {
            self.last_time = Some((line + lines_before, st, text));
        }
        if self.first_time.is_none() {
            self.first_time = part.first_time;
        }
    }
}

/// Everything the scan of one stream needs to know.
pub struct StreamContext<'a> {
    pub matcher: &'a Matcher,
    /// Which rules apply to this path (`files` globs).
    pub allowed: std::borrow::Cow<'a, [bool]>,
    pub origin: &'a Origin,
    /// Only events whose timestamp key is within these bounds (untimed events always pass).
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl<'a> StreamContext<'a> {
    /// The context for a stream read from `path` (the rules whose `files` globs match it).
    pub fn new(
        matcher: &'a Matcher,
        path: &str,
        origin: &'a Origin,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Self {
        let allowed = matcher.rules_for_path(path).into();
        StreamContext {
            matcher,
            allowed,
            origin,
            since,
            until,
        }
    }

    /// A context in which every rule applies and no time bound is set (rule examples,
    /// benchmarks, fuzzing).
    pub fn all_rules(matcher: &'a Matcher, origin: &'a Origin) -> Self {
        let allowed = vec![true; matcher.rules.len()].into();
        StreamContext {
            matcher,
            allowed,
            origin,
            since: None,
            until: None,
        }
    }
}

/// Is this the start of a binary file?
pub fn looks_binary(head: &[u8]) -> bool {
    memchr::memchr(0, &head[..head.len().min(BINARY_PROBE_BYTES)]).is_some()
}

/// Scans consecutive buffers of one stream.
pub struct Scanner<'c, 'm> {
    ctx: &'c StreamContext<'m>,
    layout: Layout,
    /// Line number of the first byte of the next buffer.
    line: u64,
    /// Newlines seen, and whether the last byte consumed ended a line.
    newlines: u64,
    ended_with_newline: bool,
    pub events: u64,
    cands: Vec<(u32, usize)>,
    /// Per rule without grouped fields: its fingerprint in this stream, once computed.
    fingerprints: Vec<Option<u64>>,
    /// The time of the last timed header consumed before the current buffer.
    before: Option<Stamp>,
}

impl<'c, 'm> Scanner<'c, 'm> {
    /// `first_line` is the line number of the first byte (1 for a whole file).
    pub fn new(ctx: &'c StreamContext<'m>, layout: Layout, first_line: u64) -> Self {
        Scanner {
            ctx,
            layout,
            line: first_line,
            newlines: 0,
            ended_with_newline: true,
            events: 0,
            cands: Vec::new(),
            fingerprints: vec![None; ctx.matcher.rules.len()],
            before: None,
        }
    }

    /// Lines consumed so far (a last line without a newline counts).
    pub fn lines(&self) -> u64 {
        self.newlines + u64::from(!self.ended_with_newline)
    }

    /// The time of the last header of `buf`, when it has one.
    fn last_stamp(&self, buf: &[u8]) -> Option<Stamp> {
        let h = frame::last_header(self.layout, buf, 0, buf.len())?;
        self.layout.header(frame::line_at(buf, h, buf.len())).0
    }

    /// The time of the first timed header among the first lines of `buf`.
    fn first_stamp(&self, buf: &[u8]) -> Option<Stamp> {
        buf.split(|&b| b == b'\n')
            .take(1000)
            .find_map(|l| self.layout.header(l).0)
    }

    /// The last timed header line of `buf` (which starts at this scanner's next line).
    fn last_timed_header(&self, buf: &[u8]) -> Option<(u64, Stamp, String)> {
        let h = frame::last_header(self.layout, buf, 0, buf.len())?;
        let line = frame::line_at(buf, h, buf.len());
        let st = self.layout.header(line).0?;
        let text = String::from_utf8_lossy(&line[..line.len().min(300)]).into_owned();
        Some((self.line + count_lines(&buf[..h]), st, text))
    }

    /// The time of the last timed header in `before` (the buffer up to an event), else of the
    /// last one consumed before this buffer.
    fn stamp_before(&self, before: &[u8]) -> Option<Stamp> {
        match frame::last_header(self.layout, before, 0, before.len()) {
            Some(h) => {
                self.layout
                    .header(frame::line_at(before, h, before.len()))
                    .0
            }
            None => self.before,
        }
    }

    /// Scans `buf`, which starts at an event boundary. When `last`, all of it is consumed;
    /// otherwise it stops at the start of the last event in it (that event may go on) and
    /// returns how many bytes it consumed: 0 when it needs more data to see one whole event.
    pub fn scan(&mut self, buf: &[u8], last: bool, emit: &mut dyn FnMut(&Hit)) -> usize {
        let complete = if last {
            buf.len()
        } else {
            memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1)
        };
        let hi = if last {
            complete
        } else {
            match frame::last_header(self.layout, buf, 0, complete) {
                Some(h) if h > 0 => h,
                _ if complete > MAX_EVENT_BYTES => complete,
                _ => return 0,
            }
        };
        let mut pos = 0;
        let mut counted_to = 0;
        let mut cursor = self.ctx.matcher.cursor();
        let mut next = cursor.next_hit(buf, pos, hi);
        while let Some((hit, rules)) = next {
            let s = frame::event_start(self.layout, buf, pos, hit);
            let e = frame::event_end(self.layout, buf, s, hi);
            self.line += count_lines(&buf[counted_to..s]);
            counted_to = s;
            self.events += 1;
            // Every literal hit inside the event makes its rules candidates.
            self.cands.clear();
            add_candidates(&mut self.cands, rules, hit - s);
            next = cursor.next_hit(buf, hit + 1, hi);
            while let Some((h, rules)) = next.filter(|(h, _)| *h < e) {
                add_candidates(&mut self.cands, rules, h - s);
                next = cursor.next_hit(buf, h + 1, hi);
            }
            self.check_event(&buf[s..e], &buf[..s], emit);
            pos = e.max(hit + 1);
            if next.is_some_and(|(h, _)| h < pos) {
                next = cursor.next_hit(buf, pos, hi);
            }
        }
        self.line += count_lines(&buf[counted_to..hi]);
        if hi > 0 {
            self.ended_with_newline = buf[hi - 1] == b'\n';
        }
        self.newlines = self.line - 1;
        hi
    }

    /// Runs the candidate rules (`self.cands`) on one event (`before` is the buffer up to it)
    /// and emits what fires.
    fn check_event(&mut self, event: &[u8], before: &[u8], emit: &mut dyn FnMut(&Hit)) {
        let ctx = self.ctx;
        self.cands.sort_unstable();
        // A level word's probe (`UNKNOWN`, the largest index) sorts last.
        let probed = self.cands.last().is_some_and(|(r, _)| *r == UNKNOWN);
        if probed {
            self.cands.pop();
        }
        self.cands.retain(|(r, _)| ctx.allowed[*r as usize]);
        if self.cands.is_empty() && !probed {
            return;
        }
        let header = frame::line_at(event, 0, event.len());
        let (stamp, level) = self.layout.header(header);
        if let Some(k) = stamp.map(|s| s.key())
            && (ctx.since.is_some_and(|s| k < s) || ctx.until.is_some_and(|u| k > u))
        {
            return;
        }
        let mut fired = false;
        for &(ri, at) in self.cands.iter() {
            let Some(fields) = ctx.matcher.confirm(ri, event, level) else {
                continue;
            };
            fired = true;
            let rule = &ctx.matcher.rules[ri as usize];
            let fingerprint = match &fields {
                // No grouped fields: one fingerprint per rule in this stream.
                _ if rule.group_by.is_empty() => *self.fingerprints[ri as usize]
                    .get_or_insert_with(|| {
                        fingerprint(
                            &rule.id,
                            &[],
                            ctx.origin.service,
                            ctx.origin.host.as_deref(),
                        )
                    }),
                Some(fields) => crate::finding::fingerprint::of(rule, fields, ctx.origin),
                None => fingerprint(
                    &rule.id,
                    &[],
                    ctx.origin.service,
                    ctx.origin.host.as_deref(),
                ),
            };
            let hit = Hit {
                rule: ri,
                line: self.line,
                stamp,
                level,
                fingerprint,
                event,
                hit_at: at,
                regex: rule.regex.as_ref(),
                fields: fields.map(std::cell::OnceCell::from).unwrap_or_default(),
                prev_stamp: if rule.marks == Some(crate::finding::phase::Mark::Starting) {
                    self.stamp_before(before)
                } else {
                    None
                },
            };
            emit(&hit);
        }
        // An error event no rule matched: an unknown error, grouped by template later.
        if !fired && probed && ctx.matcher.unknown.wants(level, header) {
            emit(&Hit {
                rule: UNKNOWN,
                line: self.line,
                stamp,
                level,
                fingerprint: 0,
                event,
                hit_at: 0,
                regex: None,
                fields: Default::default(),
                prev_stamp: None,
            });
        }
    }
}

/// Adds `rules` hit at `at` (the first hit of each rule is kept).
fn add_candidates(cands: &mut Vec<(u32, usize)>, rules: &[u32], at: usize) {
    for &r in rules {
        if !cands.iter().any(|(c, _)| *c == r) {
            cands.push((r, at));
        }
    }
}

#[inline]
fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// Reads and scans a whole stream from its first byte, calling `emit` with each occurrence in
/// stream order. Detects binary files and the layout from the first block.
pub fn scan_reader(
    reader: &mut dyn Read,
    ctx: &StreamContext,
    emit: &mut dyn FnMut(&Hit),
) -> StreamStats {
    scan_reader_as(reader, ctx, None, emit)
}

/// As `scan_reader`; with `layout` given, the stream is a part of a file whose layout (and
/// text-ness) is already known, and it starts at an event boundary.
pub fn scan_reader_as(
    reader: &mut dyn Read,
    ctx: &StreamContext,
    layout: Option<Layout>,
    emit: &mut dyn FnMut(&Hit),
) -> StreamStats {
    scan_reader_from(reader, ctx, layout, 1, emit)
}

/// As `scan_reader_as`, for a stream whose first byte is on line `first_line` of the file it
/// is part of (a `yarn logs` section): occurrences carry the file's line numbers, `lines`
/// counts the stream's own.
pub fn scan_reader_from(
    reader: &mut dyn Read,
    ctx: &StreamContext,
    layout: Option<Layout>,
    first_line: u64,
    emit: &mut dyn FnMut(&Hit),
) -> StreamStats {
    // `buf[..len]` holds the carried tail and the new bytes; the buffer is reused across the
    // streams a thread scans, never zeroed again.
    let mut buf = READ_BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
    if buf.len() < BLOCK_BYTES * 2 {
        buf.resize(BLOCK_BYTES * 2, 0);
    }
    let stats = fill_and_scan(reader, ctx, layout, first_line.max(1), emit, &mut buf);
    // Keep one ordinary-sized buffer per thread; an over-grown one (a long event) is freed.
    buf.truncate(BLOCK_BYTES * 2);
    READ_BUFFER.with(|b| *b.borrow_mut() = buf);
    stats
}

thread_local! {
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn fill_and_scan(
    reader: &mut dyn Read,
    ctx: &StreamContext,
    layout: Option<Layout>,
    first_line: u64,
    emit: &mut dyn FnMut(&Hit),
    buf: &mut Vec<u8>,
) -> StreamStats {
    let mut stats = StreamStats {
        layout,
        ..StreamStats::default()
    };
    let mut len = 0;
    let mut scanner: Option<Scanner> = layout.map(|l| Scanner::new(ctx, l, first_line));
    let mut skipping = false; // inside an over-long line, dropping bytes up to its newline
    let mut eof = false;
    while !eof {
        // Fill: read up to one block of new bytes after the carried tail.
        let target = len + BLOCK_BYTES;
        if buf.len() < target + 1 {
            buf.resize(target + 1, 0);
        }
        while len < target {
            match reader.read(&mut buf[len..target]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    stats.bytes += n as u64;
                    let mut n = n;
                    if skipping {
                        match memchr::memchr(b'\n', &buf[len..len + n]) {
                            Some(i) => {
                                buf.copy_within(len + i + 1..len + n, len);
                                n -= i + 1;
                                skipping = false;
                            }
                            None => n = 0,
                        }
                    }
                    len += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    stats.error = Some(format!("read error after {} bytes: {e}", stats.bytes));
                    eof = true;
                    break;
                }
            }
        }
        let sc = match &mut scanner {
            Some(s) => s,
            None => {
                if len == 0 && eof {
                    break;
                }
                if looks_binary(&buf[..len]) {
                    stats.binary = true;
                    return stats;
                }
                let l = layout::detect(&buf[..len]);
                stats.layout = Some(l);
                scanner.insert(Scanner::new(ctx, l, first_line))
            }
        };
        // Cut a line that grew past the maximum: keep its start, drop the rest up to its end.
        let complete = memchr::memrchr(b'\n', &buf[..len]).map_or(0, |i| i + 1);
        if !eof && len - complete > MAX_LINE_BYTES {
            len = complete + MAX_LINE_BYTES;
            buf[len] = b'\n';
            len += 1;
            stats.cut_lines += 1;
            skipping = true;
        }
        // One backward search per block: the stream's last timed line, for silences.
        if let Some(t) = sc.last_timed_header(&buf[..len]) {
            stats.last_time = Some(t);
        }
        let consumed = sc.scan(&buf[..len], eof, emit);
        if stats.first_time.is_none() {
            stats.first_time = sc.first_stamp(&buf[..consumed]);
        }
        // What the next buffer's first event comes after (one backward search per block;
        // no line count: only its time is needed).
        if let Some(st) = sc.last_stamp(&buf[..consumed]) {
            sc.before = Some(st);
        }
        buf.copy_within(consumed..len, 0);
        len -= consumed;
    }
    if let Some(s) = scanner {
        stats.lines = s.lines() - (first_line - 1);
        stats.events = s.events;
    }
    stats
}
