//! One input, as many streams as its content holds. What a stream is comes from its first
//! bytes (`source::open::sniff`), never from its name: compressed (decompressed and looked at
//! again), a tar or zip archive (each member a stream of its own, named
//! `ARCHIVE!/member/path`), `yarn logs` output (each container's each log file a stream of its
//! own, with the file's line numbers), or text, which `block` scans. Nesting (a zip of per-host
//! `.tgz` files holding rotated `.log.3.gz`) is followed to `MAX_DEPTH` layers, and the output
//! of all decompression in one input is bounded against the bytes read from disk
//! (`MAX_EXPANSION`): a decompression bomb is stopped, never followed to the end.

use std::io::{self, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::{FileReport, Options, block};
use crate::finding::FileAggregator;
use crate::matching::Matcher;
use crate::source::archive::{self, MEMBER_SEPARATOR, MemberKind, ZipFileIndex};
use crate::source::open::{Compression, FIRST_READ_BYTES, Kind, sniff};
use crate::source::origin::{classify_path, refine_by_content};
use crate::source::yarn::Sections;
use crate::source::{Input, Origin};

/// Why a binary file is skipped (the split path of `scan` says it too).
pub(super) const BINARY_FILE: &str = "binary file (NUL byte in the first block): skipped";

/// Layers of compression and archives followed inside one input (`a.zip` holding `h.tgz`
/// holding `x.log.3.gz` is 4: zip, gzip, tar, gzip). Deeper streams are skipped and listed.
pub const MAX_DEPTH: u32 = 6;
/// Decompressed output beyond this many times the input's bytes on disk, past
/// `EXPANSION_FLOOR` bytes, stops the input: real logs compress 5-50 times, a bomb millions.
pub const MAX_EXPANSION: u64 = 10_000;
pub const EXPANSION_FLOOR: u64 = 256 << 20;

/// Stops a decompressed stream that grows past `MAX_EXPANSION` times the input's disk bytes.
struct Bounded<R> {
    inner: R,
    out: u64,
    disk: Arc<AtomicU64>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > EXPANSION_FLOOR {
            let disk = self.disk.load(Ordering::Relaxed).max(1);
            if self.out / disk > MAX_EXPANSION {
                return Err(io::Error::other(format!(
                    "{} bytes decompressed from {disk} on disk, over {MAX_EXPANSION} times: stopped (a decompression bomb?)",
                    self.out
                )));
            }
        }
        Ok(n)
    }
}

/// Reads up to `n` bytes (fewer only at the end of the stream or on an error).
fn fill_head(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n.min(FIRST_READ_BYTES));
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The first bytes of a stream, and the stream: a read error within the first bytes is kept
/// for the reader of the rest, so what came before the damage is still scanned and the error
/// is said where reading stops (inside an archive: in the member being read).
pub(super) fn head_and_rest<'r>(r: &'r mut dyn Read, n: usize) -> (Vec<u8>, Box<dyn Read + 'r>) {
    let mut head = Vec::with_capacity(n.min(FIRST_READ_BYTES));
    match r.take(n as u64).read_to_end(&mut head) {
        Ok(_) => (head, Box::new(r)),
        Err(e) => (head, Box::new(Failing(Some(e)))),
    }
}

/// Gives its error at the first read, then the end.
struct Failing(Option<io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Scans the streams of one input.
pub(super) struct InputScan<'a> {
    pub matcher: &'a Matcher,
    pub opts: &'a Options,
    pub index: usize,
    /// Bytes of this input read from disk so far.
    pub disk: Arc<AtomicU64>,
    /// The latest event time counted in the input's own text (Accumulo's X.log: `copies`).
    pub until: Option<i64>,
    /// Accumulo debug logs met among the archive members (their plain logs count once).
    pub families: super::copies::MemberFamilies,
    /// Accumulo plain logs read before any of their debug logs: (member path, family).
    pub late_plain: std::sync::Mutex<Vec<(String, (std::path::PathBuf, String))>>,
    pub input: &'a crate::source::Input,
}

/// Where a stream sits in its input.
#[derive(Clone, Copy)]
pub(super) struct Place<'p> {
    /// Layers of compression and archives around it.
    pub depth: u32,
    /// The compressor of its bytes, when they were compressed.
    pub compression: Option<Compression>,
    /// Inside an archive: the member path below the outermost archive (`-g` applies to it).
    pub member: Option<&'p str>,
}

impl InputScan<'_> {
    fn report(&self, path: &str) -> FileReport {
        FileReport::new(self.index, path.to_string())
    }

    /// Scans the stream named `path`, whose first bytes `head` were read from `rest`.
    pub fn stream(
        &self,
        path: &str,
        head: Vec<u8>,
        rest: &mut dyn Read,
        place: Place,
        out: &mut Vec<FileReport>,
    ) {
        let kind = sniff(&head);
        if kind != Kind::Text && kind != Kind::YarnLogs && place.depth >= MAX_DEPTH {
            let mut r = self.report(path);
            r.archive = true;
            r.skipped = Some(format!(
                "nested more than {MAX_DEPTH} layers of compression and archives deep: skipped"
            ));
            out.push(r);
            return;
        }
        match kind {
            Kind::Compressed(c) => {
                let joined = Cursor::new(head).chain(rest);
                let mut decoded = match c.decoder(joined) {
                    Ok(d) => Bounded {
                        inner: d,
                        out: 0,
                        disk: self.disk.clone(),
                    },
                    Err(e) => {
                        let mut r = self.report(path);
                        r.error = Some(format!("{} data unreadable: {e}", c.name()));
                        out.push(r);
                        return;
                    }
                };
                let (head, mut rest) = head_and_rest(&mut decoded, FIRST_READ_BYTES);
                let inner = Place {
                    depth: place.depth + 1,
                    compression: Some(c),
                    ..place
                };
                self.stream(path, head, &mut rest, inner, out);
            }
            Kind::Tar | Kind::Zip => {
                let mut joined = Cursor::new(head).chain(rest);
                self.archive(kind, path, &mut joined, place, out);
            }
            Kind::YarnLogs => self.yarn(path, head, rest, place, out),
            Kind::Text => {
                if let Some(m) = place.member
                    && !self.opts.member_wanted(m)
                {
                    return;
                }
                let r = self.text(path, head, rest, place, None);
                out.push(r);
            }
        }
    }

    /// A member of an archive named `archive_path`, its content in `content`.
    fn member(
        &self,
        archive_path: &str,
        m: &archive::Member,
        content: &mut dyn Read,
        place: Place,
        out: &mut Vec<FileReport>,
    ) {
        let path = format!("{archive_path}{MEMBER_SEPARATOR}{}", m.name);
        if let Some(reason) = m.skip_reason() {
            let mut r = self.report(&path);
            r.archive = true;
            r.skipped = Some(reason);
            out.push(r);
            return;
        }
        if m.kind != MemberKind::File {
            return;
        }
        let member_path = match place.member {
            Some(outer) => format!("{outer}/{}", m.name),
            None => m.name.clone(),
        };
        let (head, mut rest) = head_and_rest(content, FIRST_READ_BYTES);
        let inner = Place {
            depth: place.depth + 1,
            compression: None,
            member: Some(&member_path),
        };
        self.stream(&path, head, &mut rest, inner, out);
    }

    /// Says where reading an archive stopped: on the member whose read failed when there is
    /// one (what came before was scanned), else on the archive.
    fn archive_error(
        &self,
        path: &str,
        e: archive::ArchiveError,
        first_report: usize,
        out: &mut Vec<FileReport>,
    ) {
        let member_path = e
            .member
            .as_ref()
            .map(|m| format!("{path}{MEMBER_SEPARATOR}{m}"));
        if let Some(mp) = &member_path
            && let Some(r) = out[first_report..].iter_mut().rev().find(|r| &r.path == mp)
        {
            // The member's own read error is the cause; the archive's is its consequence.
            let cause = match &r.stats.error {
                Some(inner) => inner
                    .split_once(" bytes: ")
                    .map_or(inner.as_str(), |(_, cause)| cause)
                    .to_string(),
                None => e.message.clone(),
            };
            r.error = Some(format!(
                "archive damaged or cut short: reading stopped in this member after {} bytes of it ({cause}); what came before was scanned",
                r.stats.bytes
            ));
            return;
        }
        let mut r = self.report(member_path.as_deref().unwrap_or(path));
        r.archive = true;
        r.error = Some(format!(
            "archive damaged or cut short: {}; what came before was scanned",
            e.message
        ));
        out.push(r);
    }

    /// A tar or a zip read in one pass: each member a stream of its own.
    fn archive(
        &self,
        kind: Kind,
        path: &str,
        r: &mut dyn Read,
        place: Place,
        out: &mut Vec<FileReport>,
    ) {
        let first = out.len();
        let inner = Place {
            depth: place.depth + 1,
            ..place
        };
        let mut each = |m: &archive::Member, content: &mut dyn Read| {
            self.member(path, m, content, inner, out);
            true
        };
        let result = if kind == Kind::Tar {
            archive::tar_members(r, &mut each)
        } else {
            archive::zip_stream_members(r, &mut each)
        };
        if let Err(e) = result {
            self.archive_error(path, e, first, out);
        }
        // An Accumulo X.log read before its X.debug.log family (tar order is the order files
        // were added): read it again, now that the family's first event is known.
        if kind == Kind::Tar && place.depth <= 1 {
            let late =
                std::mem::take(&mut *self.late_plain.lock().unwrap_or_else(|e| e.into_inner()));
            for (member, family) in late {
                if self.families.counted_elsewhere(&family).is_none() {
                    continue;
                }
                let member_path = format!("{path}{MEMBER_SEPARATOR}{member}");
                if let Some(again) = self.rescan_tar_member(&member, inner)
                    && let Some(slot) = out[first..].iter_mut().find(|r| r.path == member_path)
                {
                    *slot = again;
                }
            }
        }
    }

    /// Reads member `name` of the tar this input is (or holds under one compression) again.
    fn rescan_tar_member(&self, name: &str, place: Place) -> Option<FileReport> {
        let Input::File(_) = self.input else {
            return None;
        };
        let opened = crate::source::open::open_inline(self.input).ok()?;
        let mut reader = opened.into_reader();
        let (head, mut rest) = head_and_rest(&mut reader, FIRST_READ_BYTES);
        if sniff(&head) != Kind::Tar {
            return None;
        }
        let mut joined = Cursor::new(head).chain(&mut rest);
        let path = self.input.display();
        let mut found = Vec::new();
        let _ = archive::tar_members(&mut joined, &mut |m, content| {
            if m.name != name {
                return true;
            }
            self.member(&path, m, content, place, &mut found);
            false
        });
        found.pop()
    }

    /// A zip file on disk: its members in parallel, reported in the archive's order.
    pub fn zip_file(&self, path: &str, file: std::fs::File, out: &mut Vec<FileReport>) -> bool {
        let mut counters = vec![self.disk.clone()];
        counters.extend(self.opts.progress.clone());
        let Ok(index) = ZipFileIndex::open(file, counters) else {
            return false;
        };
        let place = Place {
            depth: 1,
            compression: None,
            member: None,
        };
        // Accumulo's debug logs first: their plain logs, scanned in parallel with them, must
        // know from when their events are counted there.
        let mut zip = index.clone();
        for i in 0..zip.len() {
            let Ok(m) = zip.member(i) else { continue };
            if let Some((dir, stem, true)) = super::copies::member_family(&m.name)
                && m.skip_reason().is_none()
            {
                let _ = zip.read_member(i, |r| {
                    if let Ok(head) = fill_head(r, FIRST_READ_BYTES) {
                        let path = format!("{path}{MEMBER_SEPARATOR}{}", m.name);
                        self.families.saw_debug_log((dir, stem), &path, &head);
                    }
                });
            }
        }
        let parts: Vec<Vec<FileReport>> = (0..index.len())
            .into_par_iter()
            .with_max_len(1)
            .map(|i| {
                let mut zip = index.clone();
                let mut reports = Vec::new();
                match zip.member(i) {
                    Ok(m) if m.skip_reason().is_some() || m.kind != MemberKind::File => {
                        self.member(path, &m, &mut io::empty(), place, &mut reports);
                    }
                    Ok(m) => {
                        let read = zip.read_member(i, |content| {
                            self.member(path, &m, content, place, &mut reports);
                        });
                        if let Err(e) = read {
                            let mut r = self.report(&format!("{path}{MEMBER_SEPARATOR}{}", m.name));
                            r.error = Some(format!("cannot read this member: {e}"));
                            reports.push(r);
                        }
                    }
                    Err(e) => self.archive_error(path, e, 0, &mut reports),
                }
                reports
            })
            .collect();
        out.extend(parts.into_iter().flatten());
        true
    }

    /// `yarn logs` output: each section scanned as a stream of its own.
    fn yarn(
        &self,
        path: &str,
        head: Vec<u8>,
        rest: &mut dyn Read,
        place: Place,
        out: &mut Vec<FileReport>,
    ) {
        if let Some(m) = place.member
            && !self.opts.member_wanted(m)
        {
            return;
        }
        let joined = Cursor::new(head).chain(rest);
        let mut sections = Sections::new(io::BufReader::with_capacity(256 * 1024, joined));
        let mut any = false;
        loop {
            let section = match sections.next_section() {
                Ok(Some(s)) => s,
                Ok(None) => break,
                Err(e) => {
                    let mut r = self.report(path);
                    r.error = Some(format!(
                        "yarn logs output unreadable: {e}; what came before was scanned"
                    ));
                    out.push(r);
                    break;
                }
            };
            any = true;
            let mut content = sections.content();
            let (head, mut rest) = head_and_rest(&mut content, FIRST_READ_BYTES);
            let r = self.text(path, head, &mut rest, place, Some(&section));
            let failed = r.error.is_some();
            out.push(r);
            if failed {
                break;
            }
        }
        if !any {
            let mut r = self.report(path);
            r.skipped = Some("yarn logs output with no log section: nothing to scan".into());
            r.archive = true;
            out.push(r);
        }
    }

    /// A text stream (or a binary one, skipped), or a section of `yarn logs` output.
    fn text(
        &self,
        path: &str,
        head: Vec<u8>,
        rest: &mut dyn Read,
        place: Place,
        section: Option<&crate::source::yarn::Section>,
    ) -> FileReport {
        let mut report = self.report(path);
        report.compressed = place.compression;
        let name = path;
        // Stdin without `--stdin-name` is nobody's: its name says nothing.
        let (mut origin, mut clue) = if path == super::STDIN_PATH {
            Default::default()
        } else {
            classify_path(name)
        };
        let mut first_line = 1;
        if let Some(s) = section {
            // A container's logs say who wrote them (a Spark driver, an executor, an MR
            // application master); the path of the `yarn logs` file does not.
            origin = Origin::default();
            origin.container = Some(s.container.clone());
            origin.application = s.application.clone();
            if s.host.is_some() {
                clue.named = s.host.clone();
            }
            report.section = Some(s.log_type.clone());
            first_line = s.first_line;
        }
        refine_by_content(&mut origin, &head);
        report.origin = origin;
        report.clue = clue;
        let mut until = match (place.member, section) {
            (None, None) => self.until,
            _ => self.opts.until,
        };
        // Accumulo writes its INFO-and-above lines to X.log and X.debug.log: count them once.
        if let (Some(m), None) = (place.member, section)
            && let Some((dir, stem, debug)) = super::copies::member_family(m)
        {
            if debug {
                self.families.saw_debug_log((dir, stem), path, &head);
            } else if let Some(c) = self
                .families
                .counted_elsewhere(&(dir.clone(), stem.clone()))
            {
                until = Some(until.map_or(c.from_key - 1, |u| u.min(c.from_key - 1)));
                report.note = Some(c.note());
            } else {
                // Its debug log may come later in the archive.
                self.late_plain
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((m.to_string(), (dir, stem)));
            }
        }
        let ctx =
            block::StreamContext::new(self.matcher, name, &report.origin, self.opts.since, until);
        let new_aggregator = || {
            FileAggregator::new(
                &self.matcher.rules,
                0,
                report.origin.clone(),
                self.opts.max_evidence,
                self.opts.keep_occurrences,
            )
        };
        // A decompressed stream or an archive member can only be read from its start; a long
        // one is scanned in parallel chunks (not for NDJSON, written in order as it is found).
        if self.opts.threads > 1
            && self.opts.split_bytes > 0
            && !self.opts.keep_occurrences
            && section.is_none()
            && (place.compression.is_some() || place.member.is_some())
            && head.len() >= FIRST_READ_BYTES
            && !block::looks_binary(&head)
        {
            let plan = super::chunks::Plan {
                layout: crate::event::layout::detect(&head),
                threads: self.opts.threads,
                chunk_bytes: (self.opts.split_bytes as usize).min(super::chunks::CHUNK_BYTES),
                max_evidence: self.opts.max_evidence,
            };
            let (stats, part) =
                super::chunks::scan_chunked(head, rest, &ctx, &plan, &new_aggregator);
            report.findings = part.findings;
            report.unknown = part.unknown;
            report.unknown_other = part.unknown_other;
            report.ended_stopping = crate::finding::phase::ended_stopping(part.end_phase);
            report.restarts = part.restarts;
            report.error = stream_error(&stats, place);
            report.stats = stats;
            return report;
        }
        let mut agg = new_aggregator().at_stream_start();
        let mut reader = Cursor::new(head).chain(rest);
        let stats =
            block::scan_reader_from(&mut reader, &ctx, None, first_line, &mut |h| agg.push(h));
        if stats.binary {
            report.skipped = Some(match place.member {
                Some(_) => "binary member (NUL byte in the first block): skipped".to_string(),
                None => BINARY_FILE.to_string(),
            });
        }
        report.error = stream_error(&stats, place);
        report.stats = stats;
        report.occurrences = agg.admitted.take().unwrap_or_default();
        let part = agg.finish();
        report.findings = part.findings;
        report.unknown = part.unknown;
        report.unknown_other = part.unknown_other;
        report.ended_stopping = crate::finding::phase::ended_stopping(part.end_phase);
        report.restarts = part.restarts;
        report
    }
}

/// How a text stream's read error is reported: what kind of data it was, how far it got.
fn stream_error(stats: &block::StreamStats, place: Place) -> Option<String> {
    let e = stats.error.as_ref()?;
    let what = match place.compression {
        Some(c) => format!("{} data", c.name()),
        None if place.member.is_some() => "member".to_string(),
        None => "file".to_string(),
    };
    Some(if e.contains("decompression bomb") {
        format!("{what}: {e}; what came before was scanned")
    } else {
        format!("{what} damaged or unreadable: {e}; what came before was scanned")
    })
}
