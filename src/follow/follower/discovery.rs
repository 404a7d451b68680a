//! Discovery: walking the PATH arguments for files, and opening the ones not followed yet
//! (from their start, from their end, or undecided when they appear while following).

use std::collections::HashSet;
use std::fs::{self, File, Metadata};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use super::{BIRTH_MARGIN, Follower, Start, relative_like};
use crate::follow::identity::{Ident, born, current_path, is_compressed, last_line_start, read_at};
use crate::follow::stream::Stream;
use crate::scan::block::{BINARY_PROBE_BYTES, looks_binary};
use crate::source::origin::classify;
use crate::source::{self, Input};

impl<'m> Follower<'m> {
    pub(super) fn discover(&mut self, now: Instant) {
        let previous = self.discovered_at.replace(SystemTime::now());
        let walked = match source::walk(&self.cfg.roots, &self.cfg.globs, self.cfg.follow_links) {
            Ok(w) => w,
            Err(e) => {
                self.warn_once(e.clone(), format!("logtriage: {e}"));
                return;
            }
        };
        // A problem at the start is told at once; one that comes up later only when it lasts
        // (a rotation leaves the followed name missing for a moment).
        let mut problems = HashSet::new();
        for p in walked.errors.iter().chain(walked.skipped.iter()) {
            problems.insert(p.path.clone());
            let since = *self.problem_since.entry(p.path.clone()).or_insert(now);
            if !self.started || now >= since + self.cfg.drain_after {
                self.warn_once(p.path.clone(), format!("{}: {}", p.path, p.message));
            }
        }
        self.problem_since.retain(|k, _| problems.contains(k));
        let mut found: Vec<(PathBuf, Metadata)> = Vec::new();
        let mut idents = HashSet::new();
        for input in walked.inputs {
            let Input::File(p) = input else { continue };
            match fs::metadata(&p) {
                Ok(m) if m.is_file() => {
                    self.warned.remove(&p.display().to_string());
                    if idents.insert(Ident::of(&m)) {
                        found.push((p, m));
                    }
                }
                Ok(_) => self.warn_once(
                    p.display().to_string(),
                    format!("{}: not a regular file: not followed", p.display()),
                ),
                // Deleted between the walk and this look (a finished application's folder
                // removed): nothing to tell.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.started => {}
                Err(e) => self.warn_once(
                    p.display().to_string(),
                    format!("{}: cannot read: {e}", p.display()),
                ),
            }
        }
        // Accumulo writes its INFO-and-above lines to X.log and again to X.debug.log: when
        // both are here, only the debug log is followed, so each event is reported once.
        let paths: Vec<&std::path::Path> = found.iter().map(|(p, _)| p.as_path()).collect();
        let copies = crate::scan::copies::plain_copies(&paths);
        let mut skip = HashSet::new();
        let mut notes = Vec::new();
        for (i, debug_logs) in copies {
            skip.insert(i);
            notes.push((
                format!("accumulo copy: {}", paths[i].display()),
                format!(
                    "{}: not followed: Accumulo writes its lines to {} too, which is followed",
                    paths[i].display(),
                    debug_logs[0].display()
                ),
            ));
        }
        for (key, message) in notes {
            self.warn_once(key, message);
        }
        let mut found: Vec<(PathBuf, Metadata)> = found
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, f)| f)
            .collect();
        let mut renewed = HashSet::new();
        let mut seen = HashSet::new();
        let mut saved_at = None;
        if self.floor.is_none() {
            self.floor = self.discovered_at;
        }
        if let Some(state) = self.resume.take() {
            saved_at = Some(state.saved_at());
            self.floor = saved_at;
            (renewed, seen) = self.resume_state(state, &mut found, now);
        }
        if self.started && !self.parked.is_empty() {
            // A file new in a folder of closed (parked) files may be a copy of one of them
            // (copytruncate): they are reopened, to be compared with it.
            let mut dirs = HashSet::new();
            for (p, m) in &found {
                let ident = Ident::of(m);
                if !self.follows(ident) && !self.ignored.contains_key(&ident) {
                    dirs.insert(super::parent_of(p));
                }
            }
            for d in dirs {
                self.want_folder(&d);
            }
        }
        for (p, m) in found {
            let ident = Ident::of(&m);
            if let Some(pk) = self.parked.iter_mut().find(|pk| pk.same_file(&m)) {
                if seen.insert(pk.id) && pk.name != p {
                    pk.name = p;
                    pk.s.path = pk.name.display().to_string();
                }
                pk.gone_since = None;
                continue;
            }
            if let Some(r) = self
                .readers
                .iter_mut()
                .find(|r| r.ident == ident && !r.closed)
            {
                if seen.insert(r.id) && r.name != p {
                    r.name = p;
                    r.s.path = r.name.display().to_string();
                }
                r.in_roots = true;
                r.gone_since = None;
                continue;
            }
            if let Some(&(size, mtime)) = self.ignored.get(&ident) {
                if size == m.len() && mtime == m.modified().ok() {
                    continue;
                }
                self.ignored.remove(&ident);
            }
            let born_since_checkpoint = saved_at.is_some_and(|s: SystemTime| {
                let s = s.checked_sub(BIRTH_MARGIN).unwrap_or(s);
                born(&m).is_some_and(|b| b >= s)
            });
            // A file new under a followed name (since the last look, or since the checkpoint):
            // files that held this name in between (rotated away twice) were never seen.
            let (start, fresh_since) = if renewed.contains(&ident) {
                (Start::Beginning, saved_at)
            } else if self.started {
                (Start::Appeared, previous)
            } else if born_since_checkpoint {
                (Start::Beginning, saved_at)
            } else if self.cfg.from_start {
                (Start::Beginning, None)
            } else {
                (Start::End, None)
            };
            let name = p.clone();
            if let Some(id) = self.open(p, &m, start, now) {
                seen.insert(id);
            }
            if let Some(since) = fresh_since {
                self.adopt_fresh_rotations(&name, since, BIRTH_MARGIN, now);
            }
        }
        for r in self.readers.iter_mut() {
            if !seen.contains(&r.id) {
                if let Some(p) = current_path(&r.file).map(|p| relative_like(&r.name, p))
                    && p != r.name
                {
                    // Renamed to a name that is not followed: reported (and checkpointed)
                    // under that name from now on.
                    r.s.path = p.display().to_string();
                    r.name = p;
                }
                r.in_roots = false;
                r.gone_since.get_or_insert(now);
            }
        }
        self.parked_gone(&seen, now);
        self.started = true;
    }

    /// Opens a file found under a followed name that is not followed yet.
    fn open(&mut self, p: PathBuf, meta: &Metadata, start: Start, now: Instant) -> Option<u64> {
        let key = p.display().to_string();
        let file = match File::open(&p) {
            Ok(f) => f,
            Err(e) => {
                // Counted per cause, not told file by file (thousands of files, one cause).
                self.tally(super::budget::REOPEN, e.to_string());
                return None;
            }
        };
        let ident = Ident::of(meta);
        let size = meta.len();
        let probe = read_at(&file, 0, BINARY_PROBE_BYTES.min(size as usize)).unwrap_or_default();
        if is_compressed(&probe) {
            self.ignored.insert(ident, (size, meta.modified().ok()));
            return None;
        }
        if looks_binary(&probe) {
            self.warn_once(
                format!("binary:{key}"),
                format!("{key}: binary file (NUL byte in its first 64 KiB): not followed"),
            );
            self.ignored.insert(ident, (size, meta.modified().ok()));
            return None;
        }
        let origin = classify(&key);
        let allowed = self.allowed(&key);
        let mut undecided = false;
        let s = match start {
            Start::Beginning => Stream::new(key, origin, allowed, &file, 0, 1, now),
            Start::End => {
                let at = last_line_start(&file, size).unwrap_or(size);
                Stream::from_line_start(key, origin, allowed, &file, at, now)
            }
            Start::Appeared => {
                if let Some(f) = self.finished.remove(&ident)
                    && f.born == born(meta)
                    && f.off <= size
                {
                    // Read before, to its end, under a name no longer followed.
                    Stream::new(key, origin, allowed, &file, f.off, f.line, now)
                } else {
                    // A new file, or a copy of a followed one (`cp` creates it empty, then
                    // fills it): decided once it holds a whole line (`decide`).
                    undecided = true;
                    Stream::new(key, origin, allowed, &file, 0, 1, now)
                }
            }
        };
        let id = self.push_reader(file, ident, p, true, None, undecided, s);
        Some(id)
    }
}
