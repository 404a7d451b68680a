//! The follower: every followed file and what happens to it. One `poll_once(now, discover)` step
//! (1) walks the PATH arguments for files (when asked: on a file-system event in a folder, and
//! periodically), (2) reads what each file gained and frames it (`stream`), (3) completes events
//! that have been quiet for `flush_after`, closes files that left the followed names once they
//! are quiet, and counts line numbers of files followed from their end. Time comes from the
//! caller, so a test can drive it step by step without waiting.
//!
//! Rotation, as it looks from here:
//! - rename-and-create: the renamed file keeps its inode, so it is the same file under a new
//!   name (or under no followed name: it is read to its end, writers may still append for a
//!   moment, and closed after `drain_after` of quiet); the new file is a new file, read from its
//!   first line.
//! - delete-and-recreate, symlink swap: as rename; the old file is read to its end through the
//!   open descriptor.
//! - copytruncate: the copy appears first, holding what was read so far and maybe more (lines
//!   written after the last read). It is recognised (same first bytes, same bytes before the
//!   read offset) and kept dormant; when the original shrinks, reading goes on in the copy from
//!   the offset where the original was left, and the original is read again from its start. A
//!   copy whose original is never truncated is a backup: it is then followed from its end.
//! - truncation in place: the size drops (or the bytes before the read offset change): the file
//!   is read from its start; what was pending is completed (or continued in a copy, if one
//!   shows up).
//! - between two looks a file can be created, written and rotated away, or written, copied and
//!   truncated before a whole line of it was read (too little to recognise a copy by). Files
//!   named as rotations of a followed name (`x.log.1`, `x.log-20240311`), created since the last
//!   look, never followed and not a copy of a followed file are then read from their start.
//! - a file that appears is decided once it holds a whole line (`cp` creates a copy empty and
//!   fills it): the rest of a truncated file, a copy (dormant), or a new file.
//!
//! `tests/tail_model.rs` checks all of this against a model, step by step.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::checkpoint::{self, Entry, State};
use super::identity::{
    HEAD_BYTES, Ident, born, count_newlines, current_path, fnv64, holds_at, holds_before,
    is_compressed, last_line_start, read_at,
};
use super::stream::{Counting, Stream, Thresholds};
use crate::finding::{Origin, classify::classify};
use crate::matching::{Matcher, Occurrence};
use crate::scan::block::{BINARY_PROBE_BYTES, looks_binary};
use crate::source::{self, Input};

/// Bytes read per `read` call.
const CHUNK: usize = 256 * 1024;
/// File systems stamp times with a coarse clock: a file created this long before a look may
/// carry an earlier birth time. (After a restart, files created after the checkpoint's last
/// look, give or take this, are new: they are read from their start.)
const BIRTH_MARGIN: Duration = Duration::from_millis(50);

#[derive(Clone, Debug)]
pub struct Config {
    /// Files and folders to follow.
    pub roots: Vec<PathBuf>,
    /// `-g` globs (with `!` excludes) for files inside folders.
    pub globs: Vec<String>,
    /// Follow symbolic links to folders.
    pub follow_links: bool,
    /// Read files that exist at the start from their first line.
    pub from_start: bool,
    /// An event at the end of a file is complete after this long with nothing new.
    pub flush_after: Duration,
    /// A file no longer under a followed name is closed after this long with nothing new; a
    /// copy whose original was not truncated within this long is a backup.
    pub drain_after: Duration,
    /// Bytes read from one file in one step (the rest waits for the next step).
    pub read_budget: usize,
    /// Bytes counted for line numbers in one step.
    pub count_budget: u64,
}

impl Config {
    pub fn new(roots: Vec<PathBuf>) -> Config {
        Config {
            roots,
            globs: Vec::new(),
            follow_links: false,
            from_start: false,
            flush_after: Duration::from_millis(500),
            drain_after: Duration::from_secs(5),
            read_budget: 8 << 20,
            count_budget: 32 << 20,
        }
    }
}

/// One occurrence found while following, with the file it was found in.
#[derive(Clone, Debug)]
pub struct Emitted {
    pub occ: Occurrence,
    pub path: String,
    pub origin: Origin,
}

/// A dormant copy of another file (copytruncate in progress, or a backup).
struct Twin {
    of: u64,
    size: u64,
    changed: Instant,
}

struct Reader {
    id: u64,
    file: File,
    ident: Ident,
    name: PathBuf,
    /// Seen under a followed name by the last discovery.
    in_roots: bool,
    gone_since: Option<Instant>,
    twin: Option<Twin>,
    /// Appeared while following, not yet known to be a new file or a copy.
    undecided: bool,
    s: Stream,
    size_seen: u64,
    mtime_seen: Option<SystemTime>,
    /// Wall time of the last look at it.
    looked: Option<SystemTime>,
    closed: bool,
}

/// The stream of a file that was truncated, waiting (for `drain_after`) for a copy that holds
/// its rest.
struct Finished {
    born: Option<SystemTime>,
    off: u64,
    line: u64,
}

/// Files remembered as finished (the oldest are forgotten past this).
const FINISHED_KEPT: usize = 4096;

struct Stash {
    s: Stream,
    from: u64,
    ident: Ident,
    dir: Option<PathBuf>,
    since: Instant,
}

enum Start {
    /// From the first line.
    Beginning,
    /// From the start of the last line (files present when following starts).
    End,
    /// Appeared while following: a copy of a followed file, or a new file.
    Appeared,
}

pub struct Follower<'m> {
    matcher: &'m Matcher,
    cfg: Config,
    readers: Vec<Reader>,
    stashes: Vec<Stash>,
    /// Compressed or binary files, not followed: (size, mtime) when looked at.
    ignored: HashMap<Ident, (u64, Option<SystemTime>)>,
    /// Files read to their end and closed (renamed away, deleted): if one shows up again under
    /// a followed name, reading goes on where it stopped.
    finished: HashMap<Ident, Finished>,
    resume: Option<State>,
    started: bool,
    next_id: u64,
    warnings: Vec<String>,
    warned: HashSet<String>,
    /// Since when each path with a problem (missing, unreadable) has had it.
    problem_since: HashMap<String, Instant>,
    discovered_at: Option<SystemTime>,
    /// Files born before this were there when following started (or were seen by the run a
    /// checkpoint comes from): never taken for fresh rotations.
    floor: Option<SystemTime>,
    busy: bool,
    scratch: Vec<u8>,
    /// Every file read from (by identity), for the summary.
    seen_files: HashSet<Ident>,
    thresholds: Thresholds,
}

impl<'m> Follower<'m> {
    /// A follower; with `state`, the first step resumes each file where that state left it.
    pub fn new(matcher: &'m Matcher, cfg: Config, state: Option<State>) -> Follower<'m> {
        Follower {
            matcher,
            cfg,
            readers: Vec::new(),
            stashes: Vec::new(),
            ignored: HashMap::new(),
            finished: HashMap::new(),
            resume: state,
            started: false,
            next_id: 1,
            warnings: Vec::new(),
            warned: HashSet::new(),
            problem_since: HashMap::new(),
            discovered_at: None,
            floor: None,
            busy: false,
            scratch: Vec::new(),
            seen_files: HashSet::new(),
            thresholds: Thresholds::new(),
        }
    }

    /// Warnings since the last call (unreadable folders, vanished roots, binary files...).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Files followed since the start (rotated copies and new files included).
    pub fn files_seen(&self) -> usize {
        self.seen_files.len()
    }

    /// Files being read now.
    pub fn files_followed(&self) -> usize {
        self.readers
            .iter()
            .filter(|r| !r.closed && r.twin.is_none())
            .count()
    }

    fn warn_once(&mut self, key: String, message: String) {
        if self.warned.insert(key) {
            self.warnings.push(message);
        }
    }

    /// One step: discover files (when `discover`, and always on the first step), read what
    /// they gained, complete quiet events, close drained files. Returns the occurrences found,
    /// in the order of the files' first appearance, each file's in file order.
    pub fn poll_once(&mut self, now: Instant, discover: bool) -> Vec<Emitted> {
        let mut out = Vec::new();
        self.busy = false;
        if discover || !self.started {
            self.discover(now);
        }
        self.claim_stashes(now);
        for i in 0..self.readers.len() {
            self.pump(i, now, &mut out);
        }
        self.settle_twins(now);
        self.close_drained(now, &mut out);
        self.expire_stashes(now, &mut out);
        self.count_lines(&mut out, false);
        self.readers.retain(|r| !r.closed);
        out
    }

    /// The last step before exit: a final discovery and read, then every event that can be
    /// completed is. With `resumable` (a state file is kept), the last event of a file that
    /// still exists stays pending: the checkpoint points at it, and the next run reads it whole.
    pub fn shutdown(&mut self, now: Instant, resumable: bool) -> Vec<Emitted> {
        let mut out = self.poll_once(now, true);
        self.count_lines(&mut out, true);
        let matcher = self.matcher;
        for r in self.readers.iter_mut() {
            if r.twin.is_some() || r.closed {
                continue;
            }
            let deleted = r.file.metadata().map_or(true, |m| m.nlink() == 0);
            if !resumable || deleted {
                let mut occs = Vec::new();
                r.s.ensure_layout(Some(&r.file));
                r.s.scan(matcher, true, deleted, &mut self.thresholds, &mut occs);
                emit_from(r, occs, &mut out);
            }
        }
        for st in self.stashes.iter_mut() {
            let mut occs = Vec::new();
            st.s.scan(matcher, true, false, &mut self.thresholds, &mut occs);
            emit(&st.s, occs, &mut out);
            st.s.skip_cont = true;
        }
        out
    }

    /// When the next step is due without any file-system event: an event to complete, a file
    /// to close, a copy to decide, more to read or count.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        if self.busy {
            return Some(now);
        }
        let mut next: Option<Instant> = None;
        let mut at = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        for r in &self.readers {
            if let Some(tw) = &r.twin {
                at(tw.changed + self.cfg.drain_after);
                continue;
            }
            if r.s.counting.is_some() {
                at(now);
            }
            if r.s.has_lines() {
                at(r.s.last_growth + self.cfg.flush_after);
            }
            if let Some(g) = r.gone_since {
                at(g.max(r.s.last_growth) + self.cfg.drain_after);
            }
        }
        for st in &self.stashes {
            at(st.since + self.cfg.drain_after);
        }
        next
    }

    /// Folders to watch for events: (path, recursive).
    pub fn watch_targets(&self) -> Vec<(PathBuf, bool)> {
        let mut out: Vec<(PathBuf, bool)> = Vec::new();
        let mut add = |p: PathBuf, rec: bool| {
            if !out.iter().any(|(q, r)| *q == p && *r == rec) {
                out.push((p, rec));
            }
        };
        for root in &self.cfg.roots {
            if root.is_dir() {
                add(root.clone(), true);
            } else {
                add(parent_of(root), false);
                if let Ok(real) = fs::canonicalize(root) {
                    add(parent_of(&real), false);
                }
            }
        }
        for r in &self.readers {
            if !r.closed
                && let Ok(real) = fs::canonicalize(&r.name)
            {
                add(parent_of(&real), false);
            }
        }
        out
    }

    /// The checkpoint: where each file has been reported up to.
    pub fn checkpoint(&self) -> State {
        let saved_at = self.discovered_at.unwrap_or_else(SystemTime::now);
        let mut files = Vec::new();
        for r in &self.readers {
            if r.closed || r.twin.is_some() {
                continue;
            }
            if r.file.metadata().is_ok_and(|m| m.nlink() == 0) {
                // Deleted: nothing to resume after a restart.
                continue;
            }
            let mut e = entry_of(&r.s, r.ident, &r.name.display().to_string());
            if !has_evidence(&r.s) {
                e.mtime_ns = r.mtime_seen.map(checkpoint::nanos);
            }
            files.push(e);
        }
        for st in &self.stashes {
            files.push(entry_of(&st.s, st.ident, &st.s.path));
        }
        State {
            version: checkpoint::VERSION,
            saved_at_ns: checkpoint::nanos(saved_at),
            files,
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn discover(&mut self, now: Instant) {
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
                Err(e) => self.warn_once(
                    p.display().to_string(),
                    format!("{}: cannot read: {e}", p.display()),
                ),
            }
        }
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
        for (p, m) in found {
            let ident = Ident::of(&m);
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
        self.started = true;
    }

    /// Opens a file found under a followed name that is not followed yet.
    fn open(&mut self, p: PathBuf, meta: &Metadata, start: Start, now: Instant) -> Option<u64> {
        let key = p.display().to_string();
        let file = match File::open(&p) {
            Ok(f) => f,
            Err(e) => {
                self.warn_once(
                    format!("open:{key}"),
                    format!("{key}: cannot open: {e} (will retry)"),
                );
                return None;
            }
        };
        self.warned.remove(&format!("open:{key}"));
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
                let mut s = Stream::new(key, origin, allowed, &file, at, 1, now);
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

    /// Starts reading `file` (known as `name`) through stream `s`; returns the reader's id.
    #[allow(clippy::too_many_arguments)]
    fn push_reader(
        &mut self,
        file: File,
        ident: Ident,
        name: PathBuf,
        in_roots: bool,
        gone_since: Option<Instant>,
        undecided: bool,
        s: Stream,
    ) -> u64 {
        let id = self.next_id();
        self.readers.push(Reader {
            id,
            file,
            ident,
            name,
            in_roots,
            gone_since,
            twin: None,
            undecided,
            s,
            size_seen: u64::MAX,
            mtime_seen: None,
            looked: None,
            closed: false,
        });
        id
    }

    fn allowed(&self, path: &str) -> Vec<bool> {
        self.matcher
            .rules
            .iter()
            .map(|r| r.applies_to(path))
            .collect()
    }

    /// Is a file that just appeared a copy (complete or in progress) of a followed file?
    fn twin_of(&self, file: &File, size: u64, ident: Ident) -> Option<u64> {
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
                let n = (super::identity::RECENT_BYTES as u64).min(size);
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
    fn twin_consistent(&self, i: usize, size: u64, of: u64) -> Option<bool> {
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
        let n = (super::identity::RECENT_BYTES as u64).min(size);
        let theirs = read_at(&r.file, size - n, n as usize).ok()?;
        Some(theirs.len() as u64 == n && holds_at(file, size - n, &theirs))
    }

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
    fn pump(&mut self, i: usize, now: Instant, out: &mut Vec<Emitted>) {
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

    /// Follows `file` as the continuation of stream `s` (a copy or a rotated name found outside
    /// the followed names: it is read to its end and closed).
    fn adopt(&mut self, p: PathBuf, meta: Metadata, file: File, s: Stream, now: Instant) -> u64 {
        self.push_reader(file, Ident::of(&meta), p, false, Some(now), false, s)
    }

    /// Files beside `name`, named as its rotations (`name.1`, `name-20240311`), created since
    /// `since`, never followed, and not copies of a followed file: they held what was written
    /// to `name` between two looks (rotated away before it could be read, or copied before a
    /// truncation when too little had been read to recognise the copy). Each is read from its
    /// start to its end.
    fn adopt_fresh_rotations(
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
        let Ok(entries) = fs::read_dir(parent_of(name)) else {
            return;
        };
        let mut names: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.len() > base.len()
                        && n.starts_with(base.as_str())
                        && matches!(n.as_bytes()[base.len()], b'.' | b'-' | b'_')
                })
            })
            .collect();
        names.sort();
        for p in names {
            let Ok(m) = fs::metadata(&p) else { continue };
            let ident = Ident::of(&m);
            if !m.is_file()
                || m.len() == 0
                || born(&m).is_none_or(|b| b < since)
                || self.ignored.contains_key(&ident)
                || self.readers.iter().any(|r| r.ident == ident && !r.closed)
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
        let n = (super::identity::RECENT_BYTES as u64).min(size);
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
    fn find_copy(
        &self,
        dir: &Path,
        s: &Stream,
        exclude: &[Ident],
    ) -> Option<(PathBuf, Metadata, File)> {
        let entries = fs::read_dir(dir).ok()?;
        let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let Ok(m) = fs::metadata(&p) else { continue };
            let ident = Ident::of(&m);
            if !m.is_file()
                || m.len() < s.off
                || exclude.contains(&ident)
                || self.readers.iter().any(|r| r.ident == ident && !r.closed)
            {
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
    fn claim_stashes(&mut self, _now: Instant) {
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
    fn settle_twins(&mut self, now: Instant) {
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
            let mut s = Stream::new(
                r.s.path.clone(),
                r.s.origin.clone(),
                self.matcher
                    .rules
                    .iter()
                    .map(|x| x.applies_to(&r.s.path))
                    .collect(),
                &r.file,
                at,
                1,
                now,
            );
            if at > 0 {
                s.skip_cont = true;
                s.counting = Some(Counting {
                    upto: at,
                    done: 0,
                    newlines: 0,
                });
            }
            r.s = s;
            r.twin = None;
            r.size_seen = u64::MAX;
        }
    }

    /// Files no longer under a followed name, quiet for `drain_after`: their last event is
    /// complete, they are closed.
    fn close_drained(&mut self, now: Instant, out: &mut Vec<Emitted>) {
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

    /// Truncated files' streams that no copy continued: their last event is complete.
    fn expire_stashes(&mut self, now: Instant, out: &mut Vec<Emitted>) {
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

    /// Counts line numbers for files followed from their end (a budget per step, unless `all`).
    fn count_lines(&mut self, out: &mut Vec<Emitted>, all: bool) {
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

    /// Resumes each checkpointed file: at its own name, at another name beside it (rotated
    /// while stopped), or in a copy (copytruncate while stopped). Returns the identities of
    /// followed files that are not what the checkpoint saw (truncated, or a reused inode):
    /// they are read from their start.
    fn resume_state(
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
                None if self.readers.iter().any(|r| r.ident == ident) => None,
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
            if let Ok(entries) = fs::read_dir(&dir) {
                let mut names: Vec<PathBuf> = entries.flatten().map(|d| d.path()).collect();
                names.sort();
                for p in names {
                    let Ok(m) = fs::metadata(&p) else { continue };
                    let id = Ident::of(&m);
                    if !m.is_file()
                        || m.len() < e.read_to
                        || self.readers.iter().any(|r| r.ident == id)
                    {
                        continue;
                    }
                    if let Ok(f) = File::open(&p)
                        && verify(&f, m.len(), &e)
                    {
                        copy = Some((p, m, f));
                        break;
                    }
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
fn find_by_ident(dir: &Path, ident: Ident) -> Option<(PathBuf, Metadata)> {
    for p in fs::read_dir(dir).ok()?.flatten().map(|d| d.path()) {
        if let Ok(m) = fs::metadata(&p)
            && m.is_file()
            && Ident::of(&m) == ident
        {
            return Some((p, m));
        }
    }
    None
}

/// Does `file` (of `size` bytes) hold stream `s`'s bytes: the same first bytes, the same bytes
/// before its read offset?
fn continues_in(s: &Stream, file: &File, size: u64) -> bool {
    has_evidence(s)
        && size >= s.off
        && !s.head.is_empty()
        && holds_at(file, 0, &s.head)
        && holds_before(file, s.off, &s.recent)
}

/// Has enough of the file been read to recognise a copy of it: a whole line at least?
fn has_evidence(s: &Stream) -> bool {
    s.off > HEAD_BYTES as u64 || memchr::memchr(b'\n', &s.head).is_some()
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

fn entry_of(s: &Stream, ident: Ident, path: &str) -> Entry {
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
    }
}

/// Emits a reader's occurrences under the file's current name: when its name no longer leads
/// to it (renamed since the last look), where it is now.
fn emit_from(r: &mut Reader, occs: Vec<Occurrence>, out: &mut Vec<Emitted>) {
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

fn emit(s: &Stream, occs: Vec<Occurrence>, out: &mut Vec<Emitted>) {
    for occ in occs {
        out.push(Emitted {
            occ,
            path: s.path.clone(),
            origin: s.origin.clone(),
        });
    }
}

/// `new` (absolute), relative to the working folder when `old` was given relative.
fn relative_like(old: &Path, new: PathBuf) -> PathBuf {
    if old.is_relative()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = new.strip_prefix(&cwd)
    {
        return rel.to_path_buf();
    }
    new
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
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
