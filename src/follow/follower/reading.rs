//! The per-file reader: what a file that appeared is, reading what a file gained and framing
//! it, truncation, closing drained files, counting line numbers, emitting occurrences.

use std::fs::{self, File};
use std::path::Path;
use std::time::{Instant, SystemTime};

use super::rotation::{continues_in, has_evidence};
use super::{
    BIRTH_MARGIN, Emitted, FINISHED_KEPT, Finished, Follower, Reader, Stash, Twin, parent_of,
    relative_like,
};
use crate::follow::identity::{
    HEAD_BYTES, Ident, born, count_newlines, current_path, holds_at, holds_before, read_at,
};
use crate::follow::stream::Stream;
use crate::matching::Occurrence;

/// Bytes read per `read` call.
const CHUNK: usize = 256 * 1024;

impl<'m> Follower<'m> {
    /// Reader `i` appeared while following: once it holds a whole line, is it the rest of a
    /// truncated file's stream, a copy of a followed file (dormant until its original is
    /// truncated), or a new file? False while it cannot be told yet.
    fn decide(&mut self, i: usize, size: u64, now: Instant) -> bool {
        if size == 0 {
            return false;
        }
        let r = &self.readers[i];
        let head = read_at(&r.file, 0, HEAD_BYTES.min(size as usize)).unwrap_or_default();
        if memchr::memchr(b'\n', &head).is_none() && head.len() < HEAD_BYTES {
            return false;
        }
        // It starts like a file closed for the budget: it may be a copy of it, which can only
        // be told with that file open. It is reopened for the next step, and this one waits.
        let mut wait = false;
        for p in self.parked.iter_mut() {
            let n = p.s.head.len().min(head.len());
            // At least one whole line alike (logs that merely start with a timestamp differ).
            if memchr::memchr(b'\n', &p.s.head[..n]).is_some()
                && p.gone_since.is_none()
                && head[..n] == p.s.head[..n]
            {
                p.wanted = true;
                wait = true;
            }
        }
        if wait {
            self.busy = true;
            return false;
        }
        if let Some(si) = self
            .stashes
            .iter()
            .position(|st| continues_in(&st.s, &r.file, size))
        {
            let mut s = self.stashes.remove(si).s;
            let r = &mut self.readers[i];
            s.path = r.name.display().to_string();
            r.s = s;
        } else if let Some(of) = self.twin_of(&r.file, size, r.ident) {
            self.readers[i].twin = Some(Twin {
                of,
                size,
                changed: now,
            });
        }
        self.readers[i].undecided = false;
        true
    }

    /// Reads what reader `i` gained and frames it.
    pub(super) fn pump(&mut self, i: usize, now: Instant, out: &mut Vec<Emitted>) {
        let matcher = self.matcher;
        let (flush_after, budget) = (self.cfg.flush_after, self.cfg.read_budget);
        let r = &mut self.readers[i];
        if r.closed {
            return;
        }
        let meta = match r.file.metadata() {
            Ok(m) => m,
            Err(e) => {
                let key = r.name.display().to_string();
                let msg = format!("{key}: cannot read: {e}");
                self.warn_once(key, msg);
                return;
            }
        };
        let size = meta.len();
        if let Some(tw) = &r.twin {
            if size == tw.size {
                return;
            }
            // A copy in progress must stay a copy as it grows; if not, it is a new file that
            // merely starts like a followed one (a banner), read from its start.
            let of = tw.of;
            let still = self.twin_consistent(i, size, of);
            let r = &mut self.readers[i];
            if still == Some(false) {
                r.twin = None;
            } else if let Some(tw) = &mut r.twin {
                tw.size = size;
                tw.changed = now;
                return;
            }
        }
        let r = &mut self.readers[i];
        let mtime = meta.modified().ok();
        let changed = size != r.size_seen || mtime != r.mtime_seen;
        let first_look = r.mtime_seen.is_none();
        let prev_look = r.looked.replace(SystemTime::now());
        r.size_seen = size;
        r.mtime_seen = mtime;
        let evidence = has_evidence(&r.s);
        let mut truncated = false;
        if changed
            && (size < r.s.off
                || !holds_before(&r.file, r.s.off, &r.s.recent)
                || !holds_at(&r.file, 0, &r.s.head))
        {
            let fresh = r.s.renewed(now);
            let old = std::mem::replace(&mut r.s, fresh);
            let (from, ident, name) = (r.id, r.ident, r.name.clone());
            self.truncated(old, from, ident, &name, now);
            truncated = true;
        }
        if changed
            && !first_look
            && (truncated || !evidence)
            && let Some(since) = prev_look
        {
            // Truncated, or not one whole line read from it yet, and it changed: it may have
            // been written, copied and truncated since the last look. A copy made since then
            // holds what was written (a copy of what was read is recognised by its bytes).
            let name = self.readers[i].name.clone();
            self.adopt_fresh_rotations(&name, since, BIRTH_MARGIN, now);
        }
        if self.readers[i].undecided
            && (!self.decide(i, size, now) || self.readers[i].twin.is_some())
        {
            return;
        }
        let r = &mut self.readers[i];
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(CHUNK, 0);
        let mut left = budget;
        let mut grew = false;
        let mut occs = Vec::new();
        loop {
            if left == 0 {
                self.busy = true;
                break;
            }
            let want = CHUNK.min(left);
            let got = match read_at_into(&r.file, r.s.off, &mut scratch[..want]) {
                Ok(n) => n,
                Err(e) => {
                    let key = r.name.display().to_string();
                    let msg = format!("{key}: read error: {e}");
                    if self.warned.insert(key) {
                        self.warnings.push(msg);
                    }
                    break;
                }
            };
            if got == 0 {
                break;
            }
            r.s.push_bytes(&scratch[..got], now);
            if !grew {
                self.seen_files.insert(r.ident);
                r.active = self.step;
            }
            grew = true;
            left -= got;
            r.s.ensure_layout(Some(&r.file));
            r.s.scan(matcher, false, false, &mut self.thresholds, &mut occs);
            if got < want {
                break;
            }
        }
        self.scratch = scratch;
        if !grew && r.s.has_lines() && now >= r.s.last_growth + flush_after {
            r.s.ensure_layout(Some(&r.file));
            r.s.scan(matcher, true, false, &mut self.thresholds, &mut occs);
        }
        emit_from(r, occs, out);
    }

    /// A followed file shrank or was rewritten: its old stream goes on in a copy if there is
    /// one, or waits for one; the file is read again from its start.
    fn truncated(&mut self, old: Stream, from: u64, ident: Ident, name: &Path, now: Instant) {
        if !has_evidence(&old) {
            // Not a whole line read: nothing to complete, and too little to recognise a copy
            // by (a copy made since the last look is found as a fresh rotation).
            return;
        }
        // A dormant copy made before the truncation (copytruncate in a followed folder).
        for t in self.readers.iter_mut() {
            if t.closed || t.twin.as_ref().is_none_or(|tw| tw.of != from) {
                continue;
            }
            let size = t.file.metadata().map_or(0, |m| m.len());
            if continues_in(&old, &t.file, size) {
                let mut s = old;
                s.path = t.name.display().to_string();
                t.s = s;
                t.twin = None;
                t.size_seen = u64::MAX;
                self.busy = true;
                return;
            }
        }
        // A copy beside it, under a name that is not followed.
        let dir = Some(parent_of(name));
        if let Some(dir) = &dir
            && let Some((p, m, f)) = self.find_copy(dir, &old, &[])
        {
            let mut s = old;
            s.path = p.display().to_string();
            self.adopt(p, m, f, s, now);
            self.busy = true;
            return;
        }
        self.stashes.push(Stash {
            s: old,
            from,
            ident,
            dir,
            since: now,
        });
    }

    /// Files no longer under a followed name, quiet for `drain_after`: their last event is
    /// complete, they are closed.
    pub(super) fn close_drained(&mut self, now: Instant, out: &mut Vec<Emitted>) {
        let matcher = self.matcher;
        let drain = self.cfg.drain_after;
        for r in self.readers.iter_mut() {
            if r.closed || r.twin.is_some() || r.s.counting.is_some() {
                continue;
            }
            let Some(g) = r.gone_since else { continue };
            if now < g.max(r.s.last_growth) + drain {
                continue;
            }
            let mut occs = Vec::new();
            r.s.ensure_layout(Some(&r.file));
            r.s.scan(matcher, true, true, &mut self.thresholds, &mut occs);
            emit_from(r, occs, out);
            r.closed = true;
            if self.finished.len() >= FINISHED_KEPT {
                self.finished.clear();
            }
            self.finished.insert(
                r.ident,
                Finished {
                    born: r.file.metadata().ok().and_then(|m| born(&m)),
                    off: r.s.off,
                    line: r.s.line,
                },
            );
        }
    }

    /// Counts line numbers for files followed from their end (a budget per step, unless `all`).
    pub(super) fn count_lines(&mut self, out: &mut Vec<Emitted>, all: bool) {
        let matcher = self.matcher;
        let mut budget = if all { u64::MAX } else { self.cfg.count_budget };
        for r in self.readers.iter_mut() {
            if r.closed || budget == 0 {
                continue;
            }
            let Some(c) = &mut r.s.counting else { continue };
            let to = c.upto.min(c.done.saturating_add(budget));
            match count_newlines(&r.file, c.done, to) {
                Ok(n) => {
                    c.newlines += n;
                    budget -= to - c.done;
                    c.done = to;
                }
                Err(_) => c.done = c.upto,
            }
            if c.done >= c.upto {
                let n = c.newlines;
                let mut occs = Vec::new();
                r.s.finish_counting(n, matcher, &mut self.thresholds, &mut occs);
                emit_from(r, occs, out);
            } else {
                self.busy = true;
            }
        }
    }
}

/// Emits a reader's occurrences under the file's current name: when its name no longer leads
/// to it (renamed since the last look), where it is now.
pub(super) fn emit_from(r: &mut Reader, occs: Vec<Occurrence>, out: &mut Vec<Emitted>) {
    if occs.is_empty() {
        return;
    }
    if fs::metadata(&r.name).map_or(true, |m| Ident::of(&m) != r.ident)
        && let Some(p) = current_path(&r.file).map(|p| relative_like(&r.name, p))
    {
        r.s.path = p.display().to_string();
        r.name = p;
    }
    emit(&r.s, occs, out);
}

pub(super) fn emit(s: &Stream, occs: Vec<Occurrence>, out: &mut Vec<Emitted>) {
    for occ in occs {
        out.push(Emitted {
            occ,
            path: s.path.clone(),
            origin: s.origin.clone(),
        });
    }
}

fn read_at_into(file: &File, off: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], off + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
