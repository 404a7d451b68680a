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
    /// Its birth time where the file system keeps one: an inode freed while the file was
    /// closed can be reused by a new file, which is then told apart by it.
    pub created: Option<SystemTime>,
    /// Not seen under a followed name by the last discovery since then.
    pub gone_since: Option<Instant>,
    /// Reopen at the next step (a file appeared in its folder).
    pub wanted: bool,
}

impl Parked {
    /// Is `m` this file (same device and inode, and same birth time where it is kept)?
    pub fn same_file(&self, m: &fs::Metadata) -> bool {
        Ident::of(m) == self.ident
            && (self.created.is_none() || m.created().ok().is_none_or(|c| Some(c) == self.created))
    }
}

/// Why reopening failed, for the summarised warnings.
pub(super) const REOPEN: &str = "files could not be opened";

impl<'m> Follower<'m> {
    /// Is a file with this identity followed (open or parked)?
    pub(super) fn follows(&self, ident: Ident) -> bool {
        self.readers.iter().any(|r| r.ident == ident && !r.closed)
            || self
                .parked
                .iter()
                .any(|p| p.ident == ident && p.gone_since.is_none())
    }

    pub(super) fn open_count(&self) -> usize {
        self.readers.iter().filter(|r| !r.closed).count()
    }

    /// Parks one reader so another file can be opened: the least recently active idle one
    /// (read to its end, not opened or grown in this step), or with `any`, the least recently
    /// active one that can be parked at all (its work waits for a later step). False when none
    /// can.
    pub(super) fn park_one(&mut self, any: bool) -> bool {
        let mut cands: Vec<(u64, u64, usize)> = self
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
            .map(|(i, r)| (r.active, r.id, i))
            .collect();
        cands.sort_unstable();
        // Only a file its name still leads to: one renamed or deleted since the last look is
        // read to its end through its descriptor first.
        let pick = cands.into_iter().map(|(_, _, i)| i).find(|&i| {
            let r = &self.readers[i];
            fs::metadata(&r.name).is_ok_and(|m| Ident::of(&m) == r.ident)
        });
        let Some(i) = pick else { return false };
        let r = self.readers.remove(i);
        self.park(r);
        true
    }

    fn park(&mut self, r: Reader) {
        let meta = r.file.metadata().ok();
        let born = meta.as_ref().and_then(born);
        let created = meta.and_then(|m| m.created().ok());
        self.parked.push(Parked {
            id: r.id,
            ident: r.ident,
            name: r.name,
            s: r.s,
            size_seen: r.size_seen,
            mtime_seen: r.mtime_seen,
            looked: r.looked,
            born,
            created,
            gone_since: None,
            wanted: false,
        });
        self.parks += 1;
    }

    /// Makes room for one more open file within the budget.
    pub(super) fn make_room(&mut self) {
        if self.pumping {
            // Past the budget for the rest of the step (`enforce_budget` follows).
            return;
        }
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
        let wall = SystemTime::now();
        let mut j = 0;
        let mut left_wanting = false;
        let mut room = true;
        while j < self.parked.len() {
            let p = &self.parked[j];
            let wanted = p.wanted;
            let work = wanted
                || p.s.counting.is_some()
                || (p.size_seen != u64::MAX && p.s.off < p.size_seen)
                || (p.s.has_lines() && now >= p.s.last_growth + flush_after);
            let meta = fs::metadata(&p.name)
                .ok()
                .filter(|m| Ident::of(m) == p.ident);
            let changed = meta.as_ref().is_some_and(|m| {
                m.len() != p.size_seen || m.modified().ok() != p.mtime_seen || m.nlink() == 0
            });
            if meta.is_some() && !changed {
                // Looked at, unchanged (as `pump` records a look at an open file: files
                // created since are what it may have been rotated to).
                self.parked[j].looked = Some(wall);
            }
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
                // A file that changed is read now even past the budget (up to `hard_max_open`):
                // it may be deleted or moved away before the next step; so is one that may
                // have been copied (to compare the copy with). Work that can wait (counting,
                // completing an event) waits for room.
                let cap = if changed || wanted {
                    self.cfg.hard_max_open.max(self.cfg.max_open)
                } else {
                    self.cfg.max_open
                };
                if self.open_count() >= cap {
                    // No room for this one; a changed one may still have some.
                    left_wanting = true;
                    j += 1;
                    continue;
                }
            }
            let p = &self.parked[j];
            match File::open(&p.name) {
                Ok(f) if f.metadata().is_ok_and(|m| p.same_file(&m)) => {
                    let p = self.parked.remove(j);
                    self.unpark(p, f, None);
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

    /// Opens a parked file again; with `gone`, as a file no longer under a followed name (read
    /// to its end and closed after `drain_after`, as open files renamed away are).
    fn unpark(&mut self, p: Parked, file: File, gone: Option<(PathBuf, Instant)>) {
        let (name, gone_since) = match gone {
            Some((n, t)) => (n, Some(t)),
            None => (p.name, None),
        };
        let mut s = p.s;
        s.path = name.display().to_string();
        let r = Reader {
            id: p.id,
            file,
            ident: p.ident,
            name,
            in_roots: gone_since.is_none(),
            gone_since,
            twin: None,
            undecided: false,
            s,
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

    /// Parked files not found under a followed name by discovery: one renamed beside its old
    /// name (to a name the globs leave out) is found there by identity and opened to be read
    /// to its end; the others (deleted, moved to another folder) wait for `expire_parked`.
    pub(super) fn parked_gone(&mut self, seen: &std::collections::HashSet<u64>, now: Instant) {
        let mut j = 0;
        while j < self.parked.len() {
            let p = &mut self.parked[j];
            if seen.contains(&p.id) {
                j += 1;
                continue;
            }
            if p.gone_since.replace(p.gone_since.unwrap_or(now)).is_some() {
                // Looked for when it went.
                j += 1;
                continue;
            }
            let found = super::resume::find_by_ident(&parent_of(&p.name), p.ident)
                .filter(|(_, m)| p.same_file(m));
            let opened = found.and_then(|(path, _)| {
                File::open(&path)
                    .ok()
                    .filter(|f| f.metadata().is_ok_and(|m| p.same_file(&m)))
                    .map(|f| (path, f))
            });
            match opened {
                Some((path, f)) => {
                    let p = self.parked.remove(j);
                    let name = super::relative_like(&p.name, path);
                    self.unpark(p, f, Some((name, now)));
                }
                None => j += 1,
            }
        }
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
