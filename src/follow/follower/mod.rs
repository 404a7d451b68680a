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

mod budget;
mod discovery;
mod reading;
mod resume;
mod rotation;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use self::reading::{emit, emit_from};
use self::resume::entry_of;
use self::rotation::has_evidence;
use super::checkpoint::{self, State};
use super::identity::Ident;
use super::stream::{Stream, Thresholds};
use crate::finding::Origin;
use crate::matching::{Matcher, Occurrence};

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
    /// Files held open at most (the least recently active ones past it are closed and watched
    /// by path: `budget`).
    pub max_open: usize,
    /// Files held open at most even for a closed file that changed (read at once, before it
    /// can be deleted or moved away): the open-file limit less a margin.
    pub hard_max_open: usize,
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
            max_open: usize::MAX,
            hard_max_open: usize::MAX,
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
    /// The step it was last opened or grew in (the least recently active are parked first).
    active: u64,
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
    /// Followed files closed to stay within `max_open` (`budget`).
    parked: Vec<budget::Parked>,
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
    /// Problems shared by many files, counted per cause (summarised warnings).
    tallies: BTreeMap<(&'static str, String), usize>,
    /// Steps taken (`Reader::active`).
    step: u64,
    parks: u64,
    reopens: u64,
    pumping: bool,
}

impl<'m> Follower<'m> {
    /// A follower; with `state`, the first step resumes each file where that state left it.
    pub fn new(matcher: &'m Matcher, cfg: Config, state: Option<State>) -> Follower<'m> {
        Follower {
            matcher,
            cfg,
            readers: Vec::new(),
            parked: Vec::new(),
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
            tallies: BTreeMap::new(),
            step: 0,
            parks: 0,
            reopens: 0,
            pumping: false,
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
            + self.parked.len()
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
        self.step += 1;
        if discover || !self.started {
            self.discover(now);
        }
        self.check_parked(now);
        self.claim_stashes(now);
        // Readers are pumped by index: none is parked until the loop is over.
        self.pumping = true;
        for i in 0..self.readers.len() {
            self.pump(i, now, &mut out);
        }
        self.pumping = false;
        self.settle_twins(now);
        self.close_drained(now, &mut out);
        self.expire_stashes(now, &mut out);
        self.expire_parked(now, &mut out);
        self.count_lines(&mut out, false);
        self.readers.retain(|r| !r.closed);
        self.enforce_budget();
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
        // Closed files: as open ones; one that left the followed names is not resumed (not in
        // the checkpoint), so its last event is completed now.
        for p in self.parked.iter_mut() {
            if !resumable || p.gone_since.is_some() {
                let mut occs = Vec::new();
                p.s.ensure_layout(None);
                p.s.scan(matcher, true, false, &mut self.thresholds, &mut occs);
                emit(&p.s, occs, &mut out);
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

    /// The end of a run that reads each file to its current end and stops (`logtriage check`,
    /// run again later from the checkpoint): a last read, then the last event of every file is
    /// taken as complete at its end — no later line comes within this run — and reported, but
    /// stays pending in the checkpoint with the rules it was reported for: the next run reads it
    /// again with the lines that continue it, and reports only what they add. A partial last
    /// line (no newline yet) waits for the next run. A deleted file's event is completed.
    pub fn finish_run(&mut self, now: Instant) -> Vec<Emitted> {
        let mut out = self.poll_once(now, false);
        self.count_lines(&mut out, true);
        let matcher = self.matcher;
        for r in self.readers.iter_mut() {
            if r.twin.is_some() || r.closed || !r.s.has_lines() {
                continue;
            }
            let deleted = r.file.metadata().map_or(true, |m| m.nlink() == 0);
            let mut occs = Vec::new();
            r.s.ensure_layout(Some(&r.file));
            if deleted {
                r.s.scan(matcher, true, true, &mut self.thresholds, &mut occs);
            } else {
                r.s.peek_last(matcher, &mut self.thresholds, &mut occs);
            }
            emit_from(r, occs, &mut out);
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
        for p in &self.parked {
            if p.s.has_lines() {
                at(p.s.last_growth + self.cfg.flush_after);
            }
            if let Some(g) = p.gone_since {
                at(g.max(p.s.last_growth) + self.cfg.drain_after);
            }
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
        for p in &self.parked {
            add(parent_of(&p.name), false);
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
        // A closed file that left the followed names (deleted, moved away): nothing to resume.
        for p in self.parked.iter().filter(|p| p.gone_since.is_none()) {
            let mut e = entry_of(&p.s, p.ident, &p.name.display().to_string());
            if !has_evidence(&p.s) {
                e.mtime_ns = p.mtime_seen.map(checkpoint::nanos);
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
        self.make_room();
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
            active: self.step,
        });
        id
    }

    fn allowed(&self, path: &str) -> Vec<bool> {
        self.matcher.rules_for_path(path)
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

/// The regular files in `dir` whose path passes `wanted`, with their metadata, sorted by path
/// (none when the folder cannot be read). Only wanted files are `stat`ed.
fn files_in(dir: &Path, wanted: impl Fn(&Path) -> bool) -> Vec<(PathBuf, Metadata)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, Metadata)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| wanted(p))
        .filter_map(|p| {
            fs::metadata(&p)
                .ok()
                .filter(Metadata::is_file)
                .map(|m| (p, m))
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
