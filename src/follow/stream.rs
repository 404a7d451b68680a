//! One followed file's reading state, and how it feeds the batch engine's `Scanner`.
//!
//! `pending` holds the bytes read but not yet framed; it always starts at an event boundary (the
//! header of the event that may still grow), at file offset `boundary` and line `line`. Each
//! read appends to it and scans its whole lines with `last = false`: the scanner frames and
//! checks every event up to the last header seen, and the last event waits for the next header.
//! When the file has been quiet for `--flush-after`, the whole lines are scanned with
//! `last = true`. A partial line (no newline yet) is never scanned while the file can still
//! grow. Lines longer than `MAX_LINE_BYTES` are cut as the batch engine cuts them (the offset
//! bookkeeping remembers the bytes dropped), so memory stays bounded.
//!
//! Threshold rules are decided here, per log: an occurrence of a threshold rule is held until
//! `count` of its fingerprint fall within the window in this file (with the file it replaced
//! under its name, when it was rotated: its `lineage`), then the held ones and every later one
//! are delivered. While the line number of the read offset is still being counted (a
//! large file followed from its end), occurrences are held and delivered once it is known.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::time::Instant;

use super::identity::{HEAD_BYTES, RECENT_BYTES, read_at};
use crate::event::{Layout, frame, layout};
use crate::finding::phase;
use crate::finding::{Origin, aggregate::ThresholdState};
use crate::matching::{Matcher, Occurrence};
use crate::scan::block::{MAX_LINE_BYTES, Scanner, StreamContext};

/// Bytes of a file's start read to recognise its layout.
const LAYOUT_PROBE: usize = 64 * 1024;
/// A layout recognised from fewer whole lines than this (in a file shorter than
/// `LAYOUT_PROBE`) is recognised again as the file grows.
const LAYOUT_SETTLE_LINES: usize = 50;

/// The line number of the read position is being counted: `newlines` seen in `[0, done)`, up to
/// `upto` (the offset the stream started at).
#[derive(Clone, Debug)]
pub struct Counting {
    pub upto: u64,
    pub done: u64,
    pub newlines: u64,
}

pub struct Threshold {
    state: ThresholdState,
    held: VecDeque<Occurrence>,
}

/// Threshold rules' progress, by (lineage, fingerprint): a file and the files that replace it
/// under its name (rotation) count as one log.
pub type Thresholds = HashMap<(String, u64), Threshold>;

pub struct Stream {
    /// The name reported with each occurrence (the file's current name).
    pub path: String,
    /// Service and host, from the name the file had when it was first followed (fingerprints
    /// stay the same when it is renamed by rotation).
    pub origin: Origin,
    /// Which rules apply to this file (`files` globs), by rule index.
    allowed: Vec<bool>,
    /// The file's first bytes (up to `HEAD_BYTES`).
    pub head: Vec<u8>,
    pub layout: Option<Layout>,
    layout_settled: bool,
    /// File offset of the next byte to read.
    pub off: u64,
    /// File offset of `pending[0]`.
    pub boundary: u64,
    pending: Vec<u8>,
    /// (position in `pending`, bytes): from that position on, file offsets are that much further
    /// than positions say (bytes of over-long lines dropped; the `\n` added after a cut).
    shifts: VecDeque<(usize, i64)>,
    skipping_long: bool,
    /// Line number of `pending[0]` (counted from `Counting::upto` while `counting`).
    pub line: u64,
    pub counting: Option<Counting>,
    held: Vec<Occurrence>,
    /// Drop leading continuation lines: they belong to an event whose header came before the
    /// point where reading started.
    pub skip_cont: bool,
    /// When bytes were last read.
    pub last_growth: Instant,
    /// The last bytes read (up to `RECENT_BYTES`), ending at `off`.
    pub recent: Vec<u8>,
    /// The followed name this stream's log is known by (kept through renames and copies):
    /// threshold rules count per lineage.
    pub lineage: String,
    pub cut_lines: u64,
    /// The daemon's phase (start-up, shutdown, election), from the markers read so far: a
    /// failure expected there is reported at low, as the batch scan does (`finding::phase`).
    phase: phase::State,
    /// Rules (by id) already reported for the event at `boundary`, which was not complete yet
    /// (`peek_last`: a `check` run ended in it): not reported again when it completes.
    pub reported: Vec<String>,
}

impl Stream {
    /// A stream reading `file` from `at`, a line start that may be mid-file (following from the
    /// end): line numbers up to `at` are counted as it goes, and lines continuing an event that
    /// began before `at` are skipped.
    pub fn from_line_start(
        path: String,
        origin: Origin,
        allowed: Vec<bool>,
        file: &File,
        at: u64,
        now: Instant,
    ) -> Stream {
        let mut s = Stream::new(path, origin, allowed, file, at, 1, now);
        if at > 0 {
            s.skip_cont = true;
            s.counting = Some(Counting {
                upto: at,
                done: 0,
                newlines: 0,
            });
        }
        s
    }

    /// A stream reading `file` from `at` (a line start), where line `line` starts.
    pub fn new(
        path: String,
        origin: Origin,
        allowed: Vec<bool>,
        file: &File,
        at: u64,
        line: u64,
        now: Instant,
    ) -> Stream {
        let head = read_at(file, 0, HEAD_BYTES).unwrap_or_default();
        let head = if (head.len() as u64) > at && at < HEAD_BYTES as u64 {
            head[..at as usize].to_vec()
        } else {
            head
        };
        let from = at.saturating_sub(RECENT_BYTES as u64);
        let recent = read_at(file, from, (at - from) as usize).unwrap_or_default();
        let lineage = path.clone();
        Stream {
            path,
            origin,
            allowed,
            head,
            layout: None,
            layout_settled: false,
            off: at,
            boundary: at,
            pending: Vec::new(),
            shifts: VecDeque::new(),
            skipping_long: false,
            line,
            counting: None,
            held: Vec::new(),
            skip_cont: false,
            last_growth: now,
            recent,
            lineage,
            cut_lines: 0,
            phase: phase::State::RUNNING,
            reported: Vec::new(),
        }
    }

    /// A stream for the same file from its first byte (after a truncation).
    pub fn renewed(&self, now: Instant) -> Stream {
        Stream {
            path: self.path.clone(),
            origin: self.origin.clone(),
            allowed: self.allowed.clone(),
            head: Vec::new(),
            layout: None,
            layout_settled: false,
            off: 0,
            boundary: 0,
            pending: Vec::new(),
            shifts: VecDeque::new(),
            skipping_long: false,
            line: 1,
            counting: None,
            held: Vec::new(),
            skip_cont: false,
            last_growth: now,
            recent: Vec::new(),
            lineage: self.lineage.clone(),
            cut_lines: 0,
            // A truncated log starts again: a copytruncate keeps the daemon's phase.
            phase: self.phase,
            reported: Vec::new(),
        }
    }

    /// Are there whole lines waiting to be framed?
    pub fn has_lines(&self) -> bool {
        memchr::memchr(b'\n', &self.pending).is_some()
    }

    /// Appends bytes read at `off`.
    pub fn push_bytes(&mut self, data: &[u8], now: Instant) {
        if data.is_empty() {
            return;
        }
        let hl = self.head.len() as u64;
        if self.head.len() < HEAD_BYTES && self.off <= hl && hl < self.off + data.len() as u64 {
            let from = (hl - self.off) as usize;
            let take = (HEAD_BYTES - self.head.len()).min(data.len() - from);
            self.head.extend_from_slice(&data[from..from + take]);
        }
        if data.len() >= RECENT_BYTES {
            self.recent.clear();
            self.recent
                .extend_from_slice(&data[data.len() - RECENT_BYTES..]);
        } else {
            let keep = RECENT_BYTES - data.len();
            if self.recent.len() > keep {
                self.recent.drain(..self.recent.len() - keep);
            }
            self.recent.extend_from_slice(data);
        }
        self.off += data.len() as u64;
        self.last_growth = now;
        let mut data = data;
        if self.skipping_long {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.shift(i as i64 + 1);
                    self.skipping_long = false;
                    data = &data[i + 1..];
                }
                None => {
                    self.shift(data.len() as i64);
                    return;
                }
            }
        }
        self.pending.extend_from_slice(data);
        let complete = memchr::memrchr(b'\n', &self.pending).map_or(0, |i| i + 1);
        if self.pending.len() - complete > MAX_LINE_BYTES {
            let cut = complete + MAX_LINE_BYTES;
            let dropped = self.pending.len() - cut;
            self.pending.truncate(cut);
            self.pending.push(b'\n');
            self.shift(dropped as i64 - 1);
            self.skipping_long = true;
            self.cut_lines += 1;
        }
    }

    fn shift(&mut self, by: i64) {
        let pos = self.pending.len();
        match self.shifts.back_mut() {
            Some((p, d)) if *p == pos => *d += by,
            _ => self.shifts.push_back((pos, by)),
        }
    }

    /// Drops the first `n` bytes of `pending`: framed (or skipped).
    fn consume(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.line += memchr::memchr_iter(b'\n', &self.pending[..n]).count() as u64;
        let mut adv = n as i64;
        while let Some(&(p, d)) = self.shifts.front() {
            if p > n {
                break;
            }
            adv += d;
            self.shifts.pop_front();
        }
        for s in self.shifts.iter_mut() {
            s.0 -= n;
        }
        self.boundary = (self.boundary as i64 + adv) as u64;
        self.pending.drain(..n);
    }

    /// Recognises the layout from the file's first whole lines (again while it is short).
    pub fn ensure_layout(&mut self, file: Option<&File>) {
        if self.layout_settled {
            return;
        }
        let probe = file
            .and_then(|f| read_at(f, 0, LAYOUT_PROBE).ok())
            .unwrap_or_default();
        let whole = memchr::memrchr(b'\n', &probe).map_or(0, |i| i + 1);
        let (sample, full) = if whole > 0 {
            (&probe[..whole], probe.len() >= LAYOUT_PROBE)
        } else {
            let w = memchr::memrchr(b'\n', &self.pending).map_or(0, |i| i + 1);
            (&self.pending[..w], probe.len() >= LAYOUT_PROBE)
        };
        if sample.is_empty() {
            return;
        }
        self.layout = Some(layout::detect(sample));
        self.layout_settled =
            full || memchr::memchr_iter(b'\n', sample).count() >= LAYOUT_SETTLE_LINES;
    }

    /// Frames and checks the pending whole lines (`include_partial`: all of `pending`, for a
    /// file that can no longer grow). With `last = false` the last event waits for the next
    /// header. Occurrences go to `out` (thresholds applied).
    pub fn scan(
        &mut self,
        matcher: &Matcher,
        last: bool,
        include_partial: bool,
        th: &mut Thresholds,
        out: &mut Vec<Occurrence>,
    ) {
        let mut end = if include_partial {
            self.pending.len()
        } else {
            memchr::memrchr(b'\n', &self.pending).map_or(0, |i| i + 1)
        };
        if end == 0 {
            return;
        }
        if self.layout.is_none() {
            self.ensure_layout(None);
        }
        let Some(layout) = self.layout else {
            return;
        };
        if self.skip_cont {
            let mut start = 0;
            while start < end {
                if layout.is_header(frame::line_at(&self.pending, start, end)) {
                    self.skip_cont = false;
                    break;
                }
                start = frame::next_line(&self.pending, start, end);
            }
            self.consume(start);
            end -= start;
            if self.skip_cont || end == 0 {
                return;
            }
        }
        let first_line = self.line;
        let (mut occs, consumed) = self.scan_events(matcher, layout, end, last);
        self.consume(consumed);
        if !self.reported.is_empty() {
            // The event at the old boundary was reported in part before it was complete.
            occs.retain(|o| {
                o.line != first_line || !self.reported.contains(&matcher.rules[o.rule as usize].id)
            });
            if consumed > 0 {
                self.reported.clear();
            }
        }
        for mut o in occs {
            follow_phase(&mut self.phase, &matcher.rules[o.rule as usize], &mut o);
            self.deliver(o, matcher, th, out);
        }
    }

    /// The occurrences of the events in `pending[..end]` (`last`: the final one is complete)
    /// and how many bytes they took; nothing is consumed.
    fn scan_events(
        &self,
        matcher: &Matcher,
        layout: Layout,
        end: usize,
        last: bool,
    ) -> (Vec<Occurrence>, usize) {
        let ctx = StreamContext {
            matcher,
            allowed: self.allowed.as_slice().into(),
            origin: &self.origin,
            since: None,
            until: None,
        };
        let mut occs = Vec::new();
        let mut sc = Scanner::new(&ctx, layout, self.line);
        let consumed = sc.scan(&self.pending[..end], last, &mut |h| {
            occs.push(h.occurrence())
        });
        (occs, consumed)
    }

    /// The pending whole lines taken as complete events, without consuming them: the last
    /// event's occurrences are reported now, and it stays pending (the checkpoint points at its
    /// header) with its rules in `reported`, so the next read neither loses the lines that
    /// continue it nor reports it again. A partial last line is not scanned.
    pub fn peek_last(&mut self, matcher: &Matcher, th: &mut Thresholds, out: &mut Vec<Occurrence>) {
        // The complete events first (and leading continuation lines skipped), for real.
        self.scan(matcher, false, false, th, out);
        let end = memchr::memrchr(b'\n', &self.pending).map_or(0, |i| i + 1);
        if end == 0 || self.skip_cont {
            return;
        }
        let Some(layout) = self.layout else {
            return;
        };
        let (occs, _) = self.scan_events(matcher, layout, end, true);
        // The phase moves on when the event is consumed, not now.
        let mut ph = self.phase;
        for mut o in occs {
            let rule = &matcher.rules[o.rule as usize];
            follow_phase(&mut ph, rule, &mut o);
            if o.line != self.line || self.reported.contains(&rule.id) {
                continue;
            }
            self.reported.push(rule.id.clone());
            self.deliver(o, matcher, th, out);
        }
    }

    /// Applies thresholds, or holds the occurrence while the line number is being counted.
    fn deliver(
        &mut self,
        o: Occurrence,
        matcher: &Matcher,
        th: &mut Thresholds,
        out: &mut Vec<Occurrence>,
    ) {
        if self.counting.is_some() {
            self.held.push(o);
            return;
        }
        let Some(t) = &matcher.rules[o.rule as usize].threshold else {
            out.push(o);
            return;
        };
        let th = th
            .entry((self.lineage.clone(), o.fingerprint))
            .or_insert_with(|| Threshold {
                state: ThresholdState::new(t),
                held: VecDeque::new(),
            });
        if th.state.reached {
            out.push(o);
            return;
        }
        if th.state.push(o.stamp.map(|s| s.key())) {
            out.extend(th.held.drain(..));
            out.push(o);
        } else {
            th.held.push_back(o);
            let keep = (t.count as usize).saturating_sub(1);
            while th.held.len() > keep {
                th.held.pop_front();
            }
        }
    }

    /// The line number of the start offset is known: `newlines` lines come before it.
    pub fn finish_counting(
        &mut self,
        newlines: u64,
        matcher: &Matcher,
        th: &mut Thresholds,
        out: &mut Vec<Occurrence>,
    ) {
        if self.counting.take().is_none() {
            return;
        }
        self.line += newlines;
        for mut o in std::mem::take(&mut self.held) {
            o.line += newlines;
            self.deliver(o, matcher, th, out);
        }
    }
}

/// Moves the stream's phase through a marker rule's occurrence, and judges an occurrence of a
/// rule expected in a phase by it (its phase and fingerprint salt).
fn follow_phase(state: &mut phase::State, rule: &crate::rules::Rule, o: &mut Occurrence) {
    if let Some(m) = rule.marks {
        *state = state.after(m, o.stamp);
    }
    if !rule.expected_in.is_empty() {
        let p = state.judge(&rule.expected_in, o.stamp.map(|t| t.key()));
        o.phase = p;
        o.fingerprint ^= phase::Phase::salt(p);
    }
}
