//! Rotations and copies: recognising a copy of a followed file (a twin), keeping the stream
//! of a truncated file until a copy that holds its rest turns up (a stash), and adopting
//! rotated files created between two looks.

use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::reading::emit;
use super::{Emitted, Follower, files_in, parent_of};
use crate::follow::identity::{
    HEAD_BYTES, Ident, born, holds_at, holds_before, is_compressed, last_line_start, read_at,
};
use crate::follow::stream::Stream;
use crate::scan::block::{BINARY_PROBE_BYTES, looks_binary};
use crate::source::origin::classify;

impl<'m> Follower<'m> {
    /// Is a file that just appeared a copy (complete or in progress) of a followed file?
    pub(super) fn twin_of(&self, file: &File, size: u64, ident: Ident) -> Option<u64> {
        if size == 0 {
            return None;
        }
        for r in &self.readers {
            if r.closed || r.twin.is_some() || r.ident == ident || !has_evidence(&r.s) {
                continue;
            }
            // At least a whole line of it, or a file just created with the same first bytes
            // would pass for a copy.
            let head = &r.s.head[..r.s.head.len().min(size as usize)];
            if memchr::memchr(b'\n', head).is_none() || !holds_at(file, 0, head) {
                continue;
            }
            if size >= r.s.off {
                if holds_before(file, r.s.off, &r.s.recent) {
                    return Some(r.id);
                }
            } else {
                let n = (crate::follow::identity::RECENT_BYTES as u64).min(size);
                if let Ok(theirs) = read_at(&r.file, size - n, n as usize)
                    && theirs.len() as u64 == n
                    && holds_at(file, size - n, &theirs)
                {
                    return Some(r.id);
                }
            }
        }
        None
    }

    /// Is reader `i` (`size` bytes), a dormant copy of `of`, still a copy of it?
    pub(super) fn twin_consistent(&self, i: usize, size: u64, of: u64) -> Option<bool> {
        let file = &self.readers[i].file;
        if let Some(st) = self.stashes.iter().find(|st| st.from == of) {
            let s = &st.s;
            return Some(if size >= s.off {
                continues_in(s, file, size)
            } else {
                holds_at(file, 0, &s.head[..s.head.len().min(size as usize)])
            });
        }
        let r = self.readers.iter().find(|r| r.id == of && !r.closed)?;
        if size >= r.s.off {
            return Some(continues_in(&r.s, file, size));
        }
        let n = (crate::follow::identity::RECENT_BYTES as u64).min(size);
        let theirs = read_at(&r.file, size - n, n as usize).ok()?;
        Some(theirs.len() as u64 == n && holds_at(file, size - n, &theirs))
    }

    /// Follows `file` as the continuation of stream `s` (a copy or a rotated name found outside
    /// the followed names: it is read to its end and closed).
    pub(super) fn adopt(
        &mut self,
        p: PathBuf,
        meta: Metadata,
        file: File,
        s: Stream,
        now: Instant,
    ) -> u64 {
        self.push_reader(file, Ident::of(&meta), p, false, Some(now), false, s)
    }

    /// Files beside `name`, named as its rotations (`name.1`, `name-20240311`), created since
    /// `since`, never followed, and not copies of a followed file: they held what was written
    /// to `name` between two looks (rotated away before it could be read, or copied before a
    /// truncation when too little had been read to recognise the copy). Each is read from its
    /// start to its end.
    pub(super) fn adopt_fresh_rotations(
        &mut self,
        name: &Path,
        since: SystemTime,
        margin: Duration,
        now: Instant,
    ) {
        let mut since = since.checked_sub(margin).unwrap_or(since);
        if let Some(f) = self.floor {
            since = since.max(f);
        }
        let Some(base) = name.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return;
        };
        let rotated = files_in(&parent_of(name), |p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.len() > base.len()
                    && n.starts_with(base.as_str())
                    && matches!(n.as_bytes()[base.len()], b'.' | b'-' | b'_')
            })
        });
        for (p, m) in rotated {
            let ident = Ident::of(&m);
            if m.len() == 0
                || born(&m).is_none_or(|b| b < since)
                || self.ignored.contains_key(&ident)
                || self.follows(ident)
                || self
                    .finished
                    .get(&ident)
                    .is_some_and(|f| f.born == born(&m))
            {
                continue;
            }
            let Ok(f) = File::open(&p) else { continue };
            let probe = read_at(&f, 0, BINARY_PROBE_BYTES).unwrap_or_default();
            if is_compressed(&probe)
                || looks_binary(&probe)
                || memchr::memchr(b'\n', &probe).is_none()
            {
                // Nothing to report yet (no whole line), or not a text log.
                continue;
            }
            // A copy of a followed file (copytruncate, done or in progress) goes on from where
            // that file was read to, when the original is truncated: not from its start.
            let size = m.len();
            if self
                .readers
                .iter()
                .filter(|r| !r.closed && r.twin.is_none())
                .map(|r| &r.s)
                .chain(self.stashes.iter().map(|st| &st.s))
                .chain(self.parked.iter().map(|p| &p.s))
                .any(|s| continues_in(s, &f, size))
                || self.twin_of(&f, size, ident).is_some()
                || self.mirrors_a_followed_file(&f, size, ident)
            {
                continue;
            }
            let key = p.display().to_string();
            let mut s = Stream::new(
                key.clone(),
                classify(&name.display().to_string()),
                self.allowed(&key),
                &f,
                0,
                1,
                now,
            );
            s.lineage = name.display().to_string();
            self.adopt(p, m, f, s, now);
            self.busy = true;
        }
    }

    /// Does `file` (`size` bytes, with a whole line) hold what a followed file holds now, up to
    /// its size: a copy of it (done or in progress), of which the original is read itself?
    fn mirrors_a_followed_file(&self, file: &File, size: u64, ident: Ident) -> bool {
        let n = (crate::follow::identity::RECENT_BYTES as u64).min(size);
        let Ok(head) = read_at(file, 0, HEAD_BYTES.min(size as usize)) else {
            return false;
        };
        let Ok(tail) = read_at(file, size - n, n as usize) else {
            return false;
        };
        self.readers.iter().any(|r| {
            !r.closed
                && r.ident != ident
                && r.file.metadata().is_ok_and(|m| m.len() >= size)
                && holds_at(&r.file, 0, &head)
                && holds_at(&r.file, size - n, &tail)
        })
    }

    /// A file in `dir`, not followed yet, that holds `s`'s bytes up to its read offset.
    pub(super) fn find_copy(
        &self,
        dir: &Path,
        s: &Stream,
        exclude: &[Ident],
    ) -> Option<(PathBuf, Metadata, File)> {
        for (p, m) in files_in(dir, |_| true) {
            let ident = Ident::of(&m);
            if m.len() < s.off || exclude.contains(&ident) || self.follows(ident) {
                continue;
            }
            let Ok(f) = File::open(&p) else { continue };
            if continues_in(s, &f, m.len()) {
                return Some((p, m, f));
            }
        }
        None
    }

    /// Stashed streams whose copy has become complete.
    pub(super) fn claim_stashes(&mut self, _now: Instant) {
        let mut i = 0;
        while i < self.stashes.len() {
            let from = self.stashes[i].from;
            let pos = self.readers.iter().position(|t| {
                !t.closed
                    && t.twin.as_ref().is_some_and(|tw| tw.of == from)
                    && continues_in(
                        &self.stashes[i].s,
                        &t.file,
                        t.file.metadata().map_or(0, |m| m.len()),
                    )
            });
            match pos {
                Some(j) => {
                    let mut s = self.stashes.remove(i).s;
                    let t = &mut self.readers[j];
                    s.path = t.name.display().to_string();
                    t.s = s;
                    t.twin = None;
                    t.size_seen = u64::MAX;
                    self.busy = true;
                }
                None => i += 1,
            }
        }
    }

    /// Copies whose original was not truncated: backups, followed from their end.
    pub(super) fn settle_twins(&mut self, now: Instant) {
        let drain = self.cfg.drain_after;
        let live: HashSet<u64> = self
            .readers
            .iter()
            .filter(|r| !r.closed)
            .map(|r| r.id)
            .chain(self.stashes.iter().map(|s| s.from))
            .collect();
        for r in self.readers.iter_mut() {
            let Some(tw) = &r.twin else { continue };
            if !r.in_roots && r.gone_since.is_some_and(|g| now >= g + drain) {
                r.closed = true;
                continue;
            }
            if live.contains(&tw.of) && now < tw.changed + drain {
                continue;
            }
            let size = r.file.metadata().map_or(tw.size, |m| m.len());
            let at = last_line_start(&r.file, size).unwrap_or(size);
            r.s = Stream::from_line_start(
                r.s.path.clone(),
                r.s.origin.clone(),
                self.matcher.rules_for_path(&r.s.path),
                &r.file,
                at,
                now,
            );
            r.twin = None;
            r.size_seen = u64::MAX;
        }
    }

    /// Truncated files' streams that no copy continued: their last event is complete.
    pub(super) fn expire_stashes(&mut self, now: Instant, out: &mut Vec<Emitted>) {
        let matcher = self.matcher;
        let drain = self.cfg.drain_after;
        let mut i = 0;
        while i < self.stashes.len() {
            if now < self.stashes[i].since + drain {
                i += 1;
                continue;
            }
            let mut st = self.stashes.remove(i);
            // A copy beside it may have shown up late.
            if let Some(dir) = st.dir.clone()
                && let Some((p, m, f)) = self.find_copy(&dir, &st.s, &[st.ident])
            {
                st.s.path = p.display().to_string();
                self.adopt(p, m, f, st.s, now);
                self.busy = true;
                continue;
            }
            if let Some(c) = st.s.counting.clone() {
                // The bytes to count are gone: the lines counted so far are all we know.
                st.s.finish_counting(c.newlines, matcher, &mut self.thresholds, &mut Vec::new());
            }
            let mut occs = Vec::new();
            st.s.scan(matcher, true, false, &mut self.thresholds, &mut occs);
            emit(&st.s, occs, out);
        }
    }
}

/// Does `file` (of `size` bytes) hold stream `s`'s bytes: the same first bytes, the same bytes
/// before its read offset?
pub(super) fn continues_in(s: &Stream, file: &File, size: u64) -> bool {
    has_evidence(s)
        && size >= s.off
        && !s.head.is_empty()
        && holds_at(file, 0, &s.head)
        && holds_before(file, s.off, &s.recent)
}

/// Has enough of the file been read to recognise a copy of it: a whole line at least?
pub(super) fn has_evidence(s: &Stream) -> bool {
    s.off > HEAD_BYTES as u64 || memchr::memchr(b'\n', &s.head).is_some()
}
