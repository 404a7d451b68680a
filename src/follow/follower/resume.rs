//! Restarting from a checkpoint: each saved file found again (under its name, renamed, or in a
//! copy) and checked to be the same file, and the entries a checkpoint is made of.

use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Follower, files_in, parent_of};
use crate::follow::checkpoint::{self, Entry, State};
use crate::follow::identity::{HEAD_BYTES, Ident, fnv64, read_at};
use crate::follow::stream::{Counting, Stream};
use crate::source::origin::classify;

impl<'m> Follower<'m> {
    /// Resumes each checkpointed file: at its own name, at another name beside it (rotated
    /// while stopped), or in a copy (copytruncate while stopped). Returns the identities of
    /// followed files that are not what the checkpoint saw (truncated, or a reused inode):
    /// they are read from their start.
    pub(super) fn resume_state(
        &mut self,
        state: State,
        found: &mut Vec<(PathBuf, Metadata)>,
        now: Instant,
    ) -> (HashSet<Ident>, HashSet<u64>) {
        let mut renewed = HashSet::new();
        let mut seen = HashSet::new();
        let state_saved_at = state.saved_at();
        for e in state.files {
            let ident = Ident {
                dev: e.dev,
                ino: e.ino,
            };
            let dir = parent_of(Path::new(&e.path));
            // Where the file is now: under a followed name, or beside it (renamed while stopped
            // to a name that is not followed).
            let at_root = found.iter().position(|(_, m)| Ident::of(m) == ident);
            let here = match at_root {
                Some(k) => Some(found[k].clone()),
                None if self.follows(ident) => None,
                None => find_by_ident(&dir, ident),
            };
            if e.mtime_ns.is_some()
                && here
                    .as_ref()
                    .is_none_or(|(_, m)| m.modified().ok().map(checkpoint::nanos) != e.mtime_ns)
            {
                // Not a whole line had been read, and it changed while stopped: a copy made
                // then holds what was written before a truncation.
                self.adopt_fresh_rotations(Path::new(&e.path), state_saved_at, Duration::ZERO, now);
            }
            let mut rewritten = false;
            if let Some((p, m)) = here
                && let Ok(f) = File::open(&p)
            {
                if verify(&f, m.len(), &e) {
                    match at_root {
                        Some(k) => {
                            found.remove(k);
                            seen.insert(self.resume_at(p, m, f, &e, true, now));
                        }
                        None => {
                            self.resume_at(p, m, f, &e, false, now);
                        }
                    }
                    continue;
                }
                // Truncated (or rewritten) while stopped: what it holds now is new.
                rewritten = true;
                match at_root {
                    Some(_) => {
                        renewed.insert(ident);
                    }
                    None => {
                        let key = p.display().to_string();
                        let s = Stream::new(
                            key.clone(),
                            classify(&e.path),
                            self.allowed(&key),
                            &f,
                            0,
                            1,
                            now,
                        );
                        self.adopt(p, m, f, s, now);
                    }
                }
            }
            if e.mtime_ns.is_some() {
                // Too little had been read to recognise a copy by (see above).
                continue;
            }
            // Copied, then truncated while stopped (copytruncate): the copy holds the rest.
            if let Some(k) = found.iter().position(|(p, m)| {
                Ident::of(m) != ident
                    && m.len() >= e.read_to
                    && File::open(p).is_ok_and(|f| verify(&f, m.len(), &e))
            }) {
                let (p, m) = found.remove(k);
                if let Ok(f) = File::open(&p) {
                    seen.insert(self.resume_at(p, m, f, &e, true, now));
                    continue;
                }
            }
            let mut copy = None;
            for (p, m) in files_in(&dir, |_| true) {
                let id = Ident::of(&m);
                if m.len() < e.read_to || self.follows(id) {
                    continue;
                }
                if let Ok(f) = File::open(&p)
                    && verify(&f, m.len(), &e)
                {
                    copy = Some((p, m, f));
                    break;
                }
            }
            if let Some((p, m, f)) = copy {
                self.resume_at(p, m, f, &e, false, now);
                continue;
            }
            let line = e.line.map_or(String::new(), |l| format!(" after line {l}"));
            let what = if rewritten {
                "was truncated while stopped, and no copy of it was found"
            } else {
                "is gone (deleted, or compressed, while stopped)"
            };
            self.warn_once(
                format!("resume:{}", e.path),
                format!(
                    "{}: the file followed before the restart {what}: what was written to it{line} before that was not read",
                    e.path
                ),
            );
        }
        (renewed, seen)
    }

    fn resume_at(
        &mut self,
        p: PathBuf,
        m: Metadata,
        f: File,
        e: &Entry,
        in_roots: bool,
        now: Instant,
    ) -> u64 {
        let key = p.display().to_string();
        let origin = classify(&e.path);
        let allowed = self.allowed(&key);
        let mut s = Stream::new(key, origin, allowed, &f, e.offset, e.line.unwrap_or(1), now);
        s.skip_cont = e.skip_continuation;
        s.reported = e.reported.clone();
        if e.line.is_none() && e.offset > 0 {
            s.counting = Some(Counting {
                upto: e.offset,
                done: 0,
                newlines: 0,
            });
        }

        self.push_reader(
            f,
            Ident::of(&m),
            p,
            in_roots,
            (!in_roots).then_some(now),
            false,
            s,
        )
    }
}

/// The file in `dir` with this identity.
pub(super) fn find_by_ident(dir: &Path, ident: Ident) -> Option<(PathBuf, Metadata)> {
    files_in(dir, |_| true)
        .into_iter()
        .find(|(_, m)| Ident::of(m) == ident)
}

/// Is this the file (or a copy of it) the checkpoint entry describes?
fn verify(f: &File, size: u64, e: &Entry) -> bool {
    if size < e.read_to || size < e.head_len as u64 {
        return false;
    }
    let head = read_at(f, 0, e.head_len as usize).unwrap_or_default();
    if head.len() != e.head_len as usize || checkpoint::hex(fnv64(&head)) != e.head_hash {
        return false;
    }
    let from = e.read_to.saturating_sub(e.recent_len as u64);
    let recent = read_at(f, from, (e.read_to - from) as usize).unwrap_or_default();
    checkpoint::hex(fnv64(&recent)) == e.recent_hash
}

pub(super) fn entry_of(s: &Stream, ident: Ident, path: &str) -> Entry {
    let head = &s.head[..s.head.len().min(HEAD_BYTES)];
    Entry {
        path: path.to_string(),
        dev: ident.dev,
        ino: ident.ino,
        head_len: head.len() as u32,
        head_hash: checkpoint::hex(fnv64(head)),
        offset: s.boundary,
        line: if s.counting.is_some() {
            None
        } else {
            Some(s.line)
        },
        read_to: s.off,
        recent_len: s.recent.len() as u32,
        recent_hash: checkpoint::hex(fnv64(&s.recent)),
        skip_continuation: s.skip_cont,
        mtime_ns: None,
        reported: s.reported.clone(),
    }
}
