//! The descriptor budget: at most `Config::max_open` followed files are held open. Past it, the
//! least recently active files are closed ("parked"): their stream (offset, pending lines,
//! identity, first bytes, the bytes before the offset) stays in memory, and they are watched by
//! path — on every step (a file-system event in their folder, or the periodic check) their name
//! is `stat`ed, and a parked file is reopened when its size or modification time changed, when
//! it has work left (unread bytes, line numbers to count, an event to complete), or when a file
//! appears in its folder (it may be a copy of it: copytruncate). A reopened file must have the
//! same device and inode; `pump` then checks its first bytes and the bytes before the offset as
//! for any open file, so a truncation or a rewrite while it was closed is recognised. A parked
//! file renamed under another followed name is found there by discovery (by identity); one that
//! left the followed names (deleted, renamed away) has its last event completed after
//! `drain_after` and is forgotten.
//!
//! What a parked file cannot do that an open one can: be read after it was deleted (what was
//! written to it between the last look and its deletion is lost; an open file is read to its
//! end through its descriptor), and be followed under a name outside the followed names.

use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use super::reading::emit;
use super::{Emitted, FINISHED_KEPT, Finished, Follower, Reader, parent_of};
use crate::follow::identity::{Ident, born};
use crate::follow::stream::Stream;

/// A followed file closed to stay within the descriptor budget.
pub(super) struct Parked {
    pub id: u64,
    pub ident: Ident,
    pub name: PathBuf,
    pub s: Stream,
    pub size_seen: u64,
    pub mtime_seen: Option<SystemTime>,
    pub looked: Option<SystemTime>,
    pub born: Option<SystemTime>,
    /// Not seen under a followed name by the last discovery since then.
    pub gone_since: Option<Instant>,
    /// Reopen at the next step (a file appeared in its folder).
    pub wanted: bool,
}

/// Why reopening failed, for the summarised warnings.
pub(super) const REOPEN: &str = "files could not be opened";

impl<'m> Follower<'m> {
    /// Is a file with this identity followed (open or parked)?
    pub(super) fn follows(&self, ident: Ident) -> bool {
        self.readers.iter().any(|r| r.ident == ident && !r.closed)
            || self.parked.iter().any(|p| p.ident == ident)
    }

    pub(super) fn open_count(&self) -> usize {
        self.readers.iter().filter(|r| !r.closed).count()
    }

    /// Parks one reader so another file can be opened: the least recently active idle one
    /// (read to its end, not opened or grown in this step), or with `any`, the least recently
    /// active one that can be parked at all (its work waits for a later step). False when none
    /// can.
    pub(super) fn park_one(&mut self, any: bool) -> bool {
        let pick = self
            .readers
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                !r.closed
                    && r.twin.is_none()
                    && !r.undecided
                    && r.gone_since.is_none()
                    && r.in_roots
                    && (any
                        || (r.active < self.step
                            && r.s.counting.is_none()
                            && r.s.off == r.size_seen))
            })
            .min_by_key(|(_, r)| (r.active, r.id))
            .map(|(i, _)| i);
        let Some(i) = pick else { return false };
        let r = self.readers.remove(i);
        self.park(r);
        true
    }

    fn park(&mut self, r: Reader) {
        let born = r.file.metadata().ok().and_then(|m| born(&m));
        self.parked.push(Parked {
            id: r.id,
            ident: r.ident,
            name: r.name,
            s: r.s,
            size_seen: r.size_seen,
            mtime_seen: r.mtime_seen,
            looked: r.looked,
            born,
            gone_since: None,
            wanted: false,
        });
        self.parks += 1;
    }

    /// Makes room for one more open file within the budget.
    pub(super) fn make_room(&mut self) {
        while self.open_count() >= self.cfg.max_open {
            if !self.park_one(false) && !self.park_one(true) {
                break;
            }
        }
    }

    /// After a step: parks idle readers past the budget.
    pub(super) fn enforce_budget(&mut self) {
        while self.open_count() > self.cfg.max_open {
            if !self.park_one(false) {
                break;
            }
        }
    }

    /// Marks the parked files in `dir` to be reopened (a file appeared there).
    pub(super) fn want_folder(&mut self, dir: &Path) {
        for p in self.parked.iter_mut() {
            if parent_of(&p.name) == dir {
                p.wanted = true;
            }
        }
    }

    /// Before reading: reopens the parked files that changed or have work left, within the
    /// budget (parking idle ones to make room), in the order they were parked.
    pub(super) fn check_parked(&mut self, now: Instant) {
        if self.parked.is_empty() {
            return;
        }
        let flush_after = self.cfg.flush_after;
        let mut j = 0;
        let mut left_wanting = false;
        let mut room = true;
        while j < self.parked.len() {
            let p = &self.parked[j];
            let work = p.wanted
                || p.s.counting.is_some()
                || (p.size_seen != u64::MAX && p.s.off < p.size_seen)
                || (p.s.has_lines() && now >= p.s.last_growth + flush_after);
            let meta = fs::metadata(&p.name)
                .ok()
                .filter(|m| Ident::of(m) == p.ident);
            let changed = meta.as_ref().is_some_and(|m| {
                m.len() != p.size_seen || m.modified().ok() != p.mtime_seen || m.nlink() == 0
            });
            if !(work || changed) || meta.is_none() {
                j += 1;
                continue;
            }
            if !room {
                left_wanting = true;
                j += 1;
                continue;
            }
            if self.open_count() >= self.cfg.max_open {
                self.make_room_idle();
                if self.open_count() >= self.cfg.max_open {
                    room = false;
                    left_wanting = true;
                    j += 1;
                    continue;
                }
            }
            let p = &self.parked[j];
            match File::open(&p.name) {
                Ok(f) if f.metadata().is_ok_and(|m| Ident::of(&m) == p.ident) => {
                    let p = self.parked.remove(j);
                    self.unpark(p, f);
                }
                Ok(_) => j += 1,
                Err(e) => {
                    self.tally(REOPEN, e.to_string());
                    room = false;
                    left_wanting = true;
                    j += 1;
                }
            }
        }
        if left_wanting && self.open_count() > 0 {
            self.busy = true;
        }
    }

    fn make_room_idle(&mut self) {
        while self.open_count() >= self.cfg.max_open {
            if !self.park_one(false) {
                break;
            }
        }
    }

    fn unpark(&mut self, p: Parked, file: File) {
        let r = Reader {
            id: p.id,
            file,
            ident: p.ident,
            name: p.name,
            in_roots: true,
            gone_since: None,
            twin: None,
            undecided: false,
            s: p.s,
            size_seen: p.size_seen,
            mtime_seen: p.mtime_seen,
            looked: p.looked,
            closed: false,
            active: self.step,
        };
        // Readers stay in the order of their first appearance.
        let at = self.readers.partition_point(|x| x.id < r.id);
        self.readers.insert(at, r);
        self.reopens += 1;
    }

    /// Parked files that left the followed names: after `drain_after`, their last event is
    /// completed and they are forgotten (remembered as finished, like closed files).
    pub(super) fn expire_parked(&mut self, now: Instant, out: &mut Vec<Emitted>) {
        let drain = self.cfg.drain_after;
        let matcher = self.matcher;
        let mut j = 0;
        while j < self.parked.len() {
            let p = &self.parked[j];
            let Some(g) = p.gone_since else {
                j += 1;
                continue;
            };
            if now < g.max(p.s.last_growth) + drain {
                j += 1;
                continue;
            }
            let mut p = self.parked.remove(j);
            let mut occs = Vec::new();
            p.s.ensure_layout(None);
            p.s.scan(matcher, true, true, &mut self.thresholds, &mut occs);
            emit(&p.s, occs, out);
            if self.finished.len() >= FINISHED_KEPT {
                self.finished.clear();
            }
            self.finished.insert(
                p.ident,
                Finished {
                    born: p.born,
                    off: p.s.off,
                    line: p.s.line,
                },
            );
        }
    }

    /// Counts one occurrence of a problem shared by many files (summarised, not one line each).
    pub(super) fn tally(&mut self, what: &'static str, cause: String) {
        *self.tallies.entry((what, cause)).or_insert(0) += 1;
    }

    /// The problems counted since the last call: (what, cause, how many), e.g. ("files could
    /// not be opened", "Too many open files (os error 24)", 412).
    pub fn take_tallies(&mut self) -> Vec<(&'static str, String, usize)> {
        std::mem::take(&mut self.tallies)
            .into_iter()
            .map(|((w, c), n)| (w, c, n))
            .collect()
    }

    /// Files closed to stay within the budget now, times files were closed and reopened.
    pub fn budget_stats(&self) -> (usize, u64, u64) {
        (self.parked.len(), self.parks, self.reopens)
    }
}
