//! The batch engine: scans every input (in parallel over files with rayon), each as the
//! streams its content holds (`stream`: decompressed, archive members, `yarn logs` sections),
//! each stream by `block`; turns each stream's occurrences into per-stream findings, and hands
//! the per-stream reports to the caller strictly in input order, so output never depends on
//! the number of threads.

pub mod block;
pub mod chunks;
pub mod copies;
pub mod split;
pub mod stream;

use std::collections::BTreeMap;
use std::sync::mpsc;

use rayon::prelude::*;

use crate::event::Layout;
use crate::finding::{FileAggregator, Finding};
use crate::matching::{Matcher, Occurrence};
use crate::source::open::{Compression, Kind, open, sniff};
use crate::source::origin::{classify_path, refine_by_content};
use crate::source::{HostClue, Input, Origin};
pub use block::StreamStats;

#[derive(Clone, Debug)]
pub struct Options {
    pub threads: usize,
    pub max_evidence: usize,
    /// Keep every admitted occurrence (for NDJSON).
    pub keep_occurrences: bool,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Files of at least twice this size are scanned in ranges of about this size, in
    /// parallel (0: never). Not when streaming NDJSON, which is written in file order.
    pub split_bytes: u64,
    /// Bytes read from disk so far, for progress.
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// By input index: events from some time on counted from another file (`copies`).
    pub counted_elsewhere: Vec<Option<copies::CountedElsewhere>>,
    /// `-g/--glob`, for archive members' paths (folders are filtered by the walk).
    pub member_globs: Option<ignore::overrides::Override>,
    /// `--stdin-name`: the name stdin's text is classified under and shown as.
    pub stdin_name: Option<String>,
}

/// The path stdin is shown under when `--stdin-name` names it not.
pub const STDIN_PATH: &str = "<stdin>";

impl Options {
    /// The latest event time counted in input `index`.
    fn until(&self, index: usize) -> Option<i64> {
        let copy = self
            .counted_elsewhere
            .get(index)
            .and_then(|c| c.as_ref())
            .map(|c| c.from_key - 1);
        match (self.until, copy) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Does `-g` let an archive member with this path (below its archive) be scanned?
    pub fn member_wanted(&self, member: &str) -> bool {
        self.member_globs
            .as_ref()
            .is_none_or(|g| !g.matched(member, false).is_ignore())
    }
}

/// Default range size for splitting large files.
pub const SPLIT_BYTES: u64 = 32 << 20;

/// The result of scanning one stream: a file, stdin, an archive member, a `yarn logs` section.
/// Serialized as is in a JSON report's `merge` section (`report::streams`).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct FileReport {
    /// The input it came from (of its own sweep: not kept in a report).
    #[serde(skip)]
    pub index: usize,
    /// `file`, `archive!/member/path`; a `yarn logs` section has its file's path.
    pub path: String,
    pub origin: Origin,
    /// What the path (or a YARN banner) says of its host; the sweep decides (`source::hosts`).
    pub clue: HostClue,
    /// The compressor of its bytes, when they were compressed.
    pub compressed: Option<Compression>,
    /// A `yarn logs` section's log type (`stderr`, `syslog`); its container is in `origin`.
    pub section: Option<String>,
    /// Not a text stream: an archive (or a member) that is only listed (skipped, an error).
    pub archive: bool,
    pub stats: StreamStats,
    pub findings: Vec<Finding>,
    /// Error events no rule matched, by template.
    pub unknown: Vec<crate::finding::unknown::Unknown>,
    /// Unknown events past the per-stream template bound.
    pub unknown_other: u64,
    /// The stream ended inside a clean shutdown (its last phase marker asked it to stop).
    pub ended_stopping: bool,
    /// The daemon's start-ups inside the stream (for "down, then restarted").
    pub restarts: Vec<crate::finding::phase::Restart>,
    /// Kept for NDJSON only, never in a JSON report.
    #[serde(skip)]
    pub occurrences: Vec<Occurrence>,
    /// Could not be read, or read only in part.
    pub error: Option<String>,
    /// Read, but the file changed meanwhile (shrank, replaced, removed).
    pub warning: Option<String>,
    /// Part of the file counted elsewhere (`copies`).
    pub note: Option<String>,
    /// Left out on purpose (binary).
    pub skipped: Option<String>,
}

impl FileReport {
    pub fn new(index: usize, path: String) -> Self {
        FileReport {
            index,
            path,
            origin: Origin::default(),
            clue: HostClue::default(),
            compressed: None,
            section: None,
            archive: false,
            stats: StreamStats::default(),
            findings: Vec::new(),
            unknown: Vec::new(),
            unknown_other: 0,
            ended_stopping: false,
            restarts: Vec::new(),
            occurrences: Vec::new(),
            error: None,
            warning: None,
            note: None,
            skipped: None,
        }
    }

    pub fn layout(&self) -> Option<Layout> {
        self.stats.layout
    }
}

/// Scans one input completely: its streams, in order. Notes when the file shrank, was
/// replaced or removed while it was read (what was read is still reported).
pub fn scan_input(
    index: usize,
    input: &Input,
    matcher: &Matcher,
    opts: &Options,
) -> Vec<FileReport> {
    let before = match input {
        Input::File(p) => std::fs::metadata(p).ok().filter(|m| m.is_file()),
        Input::Stdin => None,
    };
    let disk = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut reports = scan_contents(index, input, before.as_ref(), matcher, opts, &disk);
    // A file read to (at least) the size it had when the scan began lost nothing, whatever
    // happened to it since: only the others are checked (one `stat` less per file).
    let read = disk.load(std::sync::atomic::Ordering::Relaxed);
    if let (Input::File(p), Some(before), Some(first)) = (input, &before, reports.first_mut())
        && read < before.len()
    {
        first.warning = changed_while_read(p, before);
    }
    if let Some(note) = opts
        .counted_elsewhere
        .get(index)
        .and_then(|c| c.as_ref())
        .map(|c| c.note())
        && let Some(first) = reports.first_mut()
    {
        first.note = Some(note);
    }
    reports
}

fn changed_while_read(path: &std::path::Path, before: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Err(_) => {
            Some("the file was removed while it was read; what was read is reported".to_string())
        }
        Ok(after) if after.ino() != before.ino() || after.dev() != before.dev() => Some(
            "the file was replaced (rotated) while it was read; the original was read to its end"
                .to_string(),
        ),
        Ok(after) if after.len() < before.len() => Some(format!(
            "the file shrank while it was read (from {} to {} bytes); what was read is reported",
            before.len(),
            after.len()
        )),
        _ => None,
    }
}

/// `meta`: the input's metadata when it is a regular file (large ones are split into ranges).
fn scan_contents(
    index: usize,
    input: &Input,
    meta: Option<&std::fs::Metadata>,
    matcher: &Matcher,
    opts: &Options,
    disk: &std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> Vec<FileReport> {
    let path = match input {
        Input::Stdin => opts
            .stdin_name
            .clone()
            .unwrap_or_else(|| STDIN_PATH.to_string()),
        Input::File(_) => input.display(),
    };
    if let Input::File(p) = input
        && opts.split_bytes > 0
        && opts.threads > 1
        && !opts.keep_occurrences
        && let Some(meta) = meta
        && meta.len() >= 2 * opts.split_bytes
    {
        let mut report = FileReport::new(index, path.clone());
        (report.origin, report.clue) = classify_path(&path);
        if scan_split(&mut report, p, meta.len(), matcher, opts, disk) {
            return vec![report];
        }
    }
    let mut counters = vec![disk.clone()];
    counters.extend(opts.progress.clone());
    let opened = match open(input, counters.clone()) {
        Ok(o) => o,
        Err(e) => {
            let mut report = FileReport::new(index, path);
            report.error = Some(format!("cannot open: {e}"));
            return vec![report];
        }
    };
    let scan = stream::InputScan {
        matcher,
        opts,
        index,
        disk: disk.clone(),
        until: opts.until(index),
        families: copies::MemberFamilies::default(),
        late_plain: Default::default(),
        input,
    };
    let mut out = Vec::new();
    // A zip file on disk is read through its central directory, members in parallel.
    if let Input::File(p) = input
        && opened.compression.is_none()
        && sniff(&opened.head) == Kind::Zip
        && let Ok(file) = std::fs::File::open(p)
        && scan.zip_file(&path, file, &mut out)
    {
        // Its bytes were counted as the members were read.
        return out;
    }
    let compression = opened.compression;
    let mut reader = opened.reader;
    let (head, mut rest): (Vec<u8>, Box<dyn std::io::Read>) = match compression {
        None => (opened.head, Box::new(&mut reader)),
        Some(_) => stream::head_and_rest(&mut reader, crate::source::open::FIRST_READ_BYTES),
    };
    let place = stream::Place {
        depth: u32::from(compression.is_some()),
        compression,
        member: None,
    };
    scan.stream(&path, head, &mut rest, place, &mut out);
    out
}

/// Scans a large plain file in ranges, in parallel. Returns false (nothing done) when the file
/// is compressed: gzip can only be read from its start.
fn scan_split(
    report: &mut FileReport,
    path: &std::path::Path,
    size: u64,
    matcher: &Matcher,
    opts: &Options,
    disk: &std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> bool {
    use std::os::unix::fs::FileExt;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(_) => return false,
    };
    let mut head = vec![0; block::BINARY_PROBE_BYTES];
    let n = match file.read_at(&mut head, 0) {
        Ok(n) => n,
        Err(_) => return false,
    };
    head.truncate(n);
    // Only plain text is split: compressed data, archives and `yarn logs` output are streams.
    if sniff(&head) != Kind::Text {
        return false;
    }
    if block::looks_binary(&head) {
        report.stats.binary = true;
        report.skipped = Some(stream::BINARY_FILE.to_string());
        return true;
    }
    let layout = crate::event::layout::detect(&head);
    refine_by_content(&mut report.origin, &head);
    let ranges = match split::plan(&file, size, layout, opts.split_bytes) {
        Ok(r) => r,
        Err(_) => return false,
    };
    let ctx = block::StreamContext::new(
        matcher,
        &report.path,
        &report.origin,
        opts.since,
        opts.until(report.index),
    );
    let mut counters = vec![disk.clone()];
    counters.extend(opts.progress.clone());
    let parts: Vec<(StreamStats, crate::finding::aggregate::Part)> = ranges
        .par_iter()
        .with_max_len(1)
        .map(|r| {
            let agg = FileAggregator::new(
                &matcher.rules,
                report.index as u32,
                report.origin.clone(),
                opts.max_evidence,
                false,
            );
            let mut agg = if r.start == 0 {
                agg.at_stream_start()
            } else {
                agg
            };
            let mut reader = crate::source::open::Counted::with_counters(
                split::RangeReader::new(&file, r.clone()),
                counters.clone(),
            );
            let stats =
                block::scan_reader_as(&mut reader, &ctx, Some(layout), &mut |h| agg.push(h));
            (stats, agg.into_parts())
        })
        .collect();
    let mut stats = StreamStats {
        layout: Some(layout),
        ..StreamStats::default()
    };
    let mut lines_before = 0;
    let mut findings = Vec::with_capacity(parts.len());
    for (mut st, f) in parts {
        findings.push((lines_before, stats.last_time.as_ref().map(|t| t.1), f));
        stats.absorb_times(lines_before, &mut st);
        lines_before += st.lines;
        stats.bytes += st.bytes;
        stats.lines += st.lines;
        stats.events += st.events;
        stats.cut_lines += st.cut_lines;
        if stats.error.is_none() {
            stats.error = st.error;
        }
    }
    if let Some(e) = &stats.error {
        report.error = Some(format!(
            "file damaged or unreadable: {e}; what came before was scanned"
        ));
    }
    report.stats = stats;
    let part = crate::finding::aggregate::merge_parts(findings, &matcher.rules, opts.max_evidence);
    report.findings = part.findings;
    report.unknown = part.unknown;
    report.unknown_other = part.unknown_other;
    report.ended_stopping = crate::finding::phase::ended_stopping(part.end_phase);
    report.restarts = part.restarts;
    true
}

/// Most inputs one parallel task scans in a row.
const MAX_INPUTS_PER_TASK: usize = 64;

/// Scans all inputs, calling `on_report` for each in input order as soon as it and all inputs
/// before it are done.
pub fn scan_all(
    inputs: &[Input],
    matcher: &Matcher,
    opts: &Options,
    mut on_report: impl FnMut(FileReport),
) {
    if opts.threads <= 1 || inputs.len() <= 1 {
        for (i, input) in inputs.iter().enumerate() {
            scan_input(i, input, matcher, opts)
                .into_iter()
                .for_each(&mut on_report);
        }
        return;
    }
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
    {
        Ok(p) => p,
        Err(_) => {
            for (i, input) in inputs.iter().enumerate() {
                scan_input(i, input, matcher, opts)
                    .into_iter()
                    .for_each(&mut on_report);
            }
            return;
        }
    };
    // Runs of consecutive inputs per task and per message: a sweep of many small files then
    // costs a few hundred thread hand-offs, not one per file (each wakes a sleeping thread).
    let run = (inputs.len() / (opts.threads * 32)).clamp(1, MAX_INPUTS_PER_TASK);
    std::thread::scope(|scope| {
        // Bounded: when the collector falls behind, the workers wait instead of piling up
        // finished reports (their evidence) in memory.
        let (tx, rx) = mpsc::sync_channel::<Vec<(usize, Vec<FileReport>)>>(opts.threads * 2);
        scope.spawn(move || {
            pool.install(|| {
                inputs
                    .par_chunks(run)
                    .enumerate()
                    .with_max_len(1)
                    .for_each_with(tx, |tx, (c, chunk)| {
                        let reports = chunk
                            .iter()
                            .enumerate()
                            .map(|(k, input)| {
                                let i = c * run + k;
                                (i, scan_input(i, input, matcher, opts))
                            })
                            .collect();
                        let _ = tx.send(reports);
                    });
            });
        });
        let mut pending = BTreeMap::new();
        let mut next = 0;
        for reports in rx {
            for (i, r) in reports {
                pending.insert(i, r);
            }
            while let Some(streams) = pending.remove(&next) {
                streams.into_iter().for_each(&mut on_report);
                next += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::changed_while_read;

    #[test]
    fn notes_files_that_shrank_were_replaced_or_removed_while_read() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.log");
        std::fs::write(&p, vec![b'x'; 4096]).unwrap();
        let before = std::fs::metadata(&p).unwrap();
        assert_eq!(changed_while_read(&p, &before), None);
        std::fs::write(&p, vec![b'x'; 8192]).unwrap();
        assert_eq!(
            changed_while_read(&p, &before),
            None,
            "growth is normal for a live log"
        );
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(10)
            .unwrap();
        assert!(
            changed_while_read(&p, &before)
                .unwrap()
                .contains("shrank while it was read (from 4096 to 10 bytes)")
        );
        std::fs::rename(&p, d.path().join("a.log.1")).unwrap();
        std::fs::write(&p, b"new").unwrap();
        assert!(
            changed_while_read(&p, &before)
                .unwrap()
                .contains("replaced (rotated)")
        );
        std::fs::remove_file(&p).unwrap();
        assert!(changed_while_read(&p, &before).unwrap().contains("removed"));
    }
}
