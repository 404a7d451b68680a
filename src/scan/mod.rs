//! The batch engine: scans every input (in parallel over files with rayon, each file by
//! `block::scan_stream`), turns each file's occurrences into per-file findings, and hands the
//! per-file reports to the caller strictly in input order, so output never depends on the
//! number of threads.

pub mod block;
pub mod copies;
pub mod split;

use std::collections::BTreeMap;
use std::sync::mpsc;

use rayon::prelude::*;

use crate::event::Layout;
use crate::finding::{FileAggregator, Finding, Origin, classify::classify};
use crate::matching::{Matcher, Occurrence};
use crate::source::{Input, open::open};
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
}

impl Options {
    /// The context in which `report`'s input is scanned: its rules, origin and time bounds.
    fn context<'a>(
        &self,
        matcher: &'a Matcher,
        report: &'a FileReport,
    ) -> block::StreamContext<'a> {
        block::StreamContext::new(
            matcher,
            &report.path,
            &report.origin,
            self.since,
            self.until(report.index),
        )
    }

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
}

/// Default range size for splitting large files.
pub const SPLIT_BYTES: u64 = 32 << 20;

/// The result of scanning one input.
pub struct FileReport {
    pub index: usize,
    pub path: String,
    pub origin: Origin,
    pub compressed: bool,
    pub stats: StreamStats,
    pub findings: Vec<Finding>,
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
    pub fn layout(&self) -> Option<Layout> {
        self.stats.layout
    }
}

/// Scans one input completely.
/// Scans one input completely, and notes when the file shrank, was replaced or removed while it
/// was read (what was read is still reported).
pub fn scan_input(index: usize, input: &Input, matcher: &Matcher, opts: &Options) -> FileReport {
    let before = match input {
        Input::File(p) => std::fs::metadata(p).ok().filter(|m| m.is_file()),
        Input::Stdin => None,
    };
    let mut report = scan_contents(index, input, before.as_ref(), matcher, opts);
    // A plain file read to (at least) the size it had when the scan began lost nothing,
    // whatever happened to it since: only the others are checked (one `stat` less per file).
    if let (Input::File(p), Some(before)) = (input, &before)
        && (report.compressed || report.stats.bytes < before.len())
    {
        report.warning = changed_while_read(p, before);
    }
    report
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
) -> FileReport {
    let path = input.display();
    let origin = if *input == Input::Stdin {
        Origin::default()
    } else {
        classify(&path)
    };
    let mut report = FileReport {
        index,
        path,
        origin,
        compressed: false,
        stats: StreamStats::default(),
        findings: Vec::new(),
        occurrences: Vec::new(),
        error: None,
        warning: None,
        note: opts
            .counted_elsewhere
            .get(index)
            .and_then(|c| c.as_ref())
            .map(|c| c.note()),
        skipped: None,
    };
    if let Input::File(p) = input
        && opts.split_bytes > 0
        && opts.threads > 1
        && !opts.keep_occurrences
        && let Some(meta) = meta
        && meta.len() >= 2 * opts.split_bytes
        && scan_split(&mut report, p, meta.len(), matcher, opts)
    {
        return report;
    }
    let opened = match open(input, opts.progress.clone()) {
        Ok(o) => o,
        Err(e) => {
            report.error = Some(format!("cannot open: {e}"));
            return report;
        }
    };
    report.compressed = opened.compressed;
    // A file whose name says nothing: who wrote it, from the loggers in its first block.
    let mut head_error = None;
    if report.origin.service.is_none() && !opened.head.is_empty() && *input != Input::Stdin {
        crate::finding::classify::refine_by_content(&mut report.origin, &opened.head);
    }
    let mut reader = opened.into_reader();
    if report.origin.service.is_none() && report.compressed && *input != Input::Stdin {
        let mut head = Vec::with_capacity(block::BINARY_PROBE_BYTES);
        let limited = &mut std::io::Read::take(&mut reader, block::BINARY_PROBE_BYTES as u64);
        if let Err(e) = std::io::Read::read_to_end(limited, &mut head) {
            head_error = Some(format!("read error after {} bytes: {e}", head.len()));
        }
        crate::finding::classify::refine_by_content(&mut report.origin, &head);
        reader = Box::new(std::io::Read::chain(std::io::Cursor::new(head), reader));
    }
    let ctx = opts.context(matcher, &report);
    let mut agg = FileAggregator::new(
        &matcher.rules,
        index as u32,
        report.origin.clone(),
        opts.max_evidence,
        opts.keep_occurrences,
    );
    let mut stats = block::scan_reader(&mut reader, &ctx, &mut |o| agg.push(o));
    if stats.error.is_none() {
        stats.error = head_error;
    }
    if stats.binary {
        report.skipped = Some("binary file (NUL byte in the first block): skipped".to_string());
    }
    if let Some(e) = &stats.error {
        let what = if report.compressed {
            "gzip data"
        } else {
            "file"
        };
        report.error = Some(format!(
            "{what} damaged or unreadable: {e}; what came before was scanned"
        ));
    }
    report.stats = stats;
    report.occurrences = agg.admitted.take().unwrap_or_default();
    report.findings = agg.finish();
    report
}

/// Scans a large plain file in ranges, in parallel. Returns false (nothing done) when the file
/// is compressed: gzip can only be read from its start.
fn scan_split(
    report: &mut FileReport,
    path: &std::path::Path,
    size: u64,
    matcher: &Matcher,
    opts: &Options,
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
    if head.starts_with(&[0x1f, 0x8b]) {
        return false;
    }
    if block::looks_binary(&head) {
        report.stats.binary = true;
        report.skipped = Some("binary file (NUL byte in the first block): skipped".to_string());
        return true;
    }
    let layout = crate::event::layout::detect(&head);
    crate::finding::classify::refine_by_content(&mut report.origin, &head);
    let ranges = match split::plan(&file, size, layout, opts.split_bytes) {
        Ok(r) => r,
        Err(_) => return false,
    };
    let ctx = opts.context(matcher, report);
    let parts: Vec<(StreamStats, Vec<Finding>)> = ranges
        .par_iter()
        .with_max_len(1)
        .map(|r| {
            let mut agg = FileAggregator::new(
                &matcher.rules,
                report.index as u32,
                report.origin.clone(),
                opts.max_evidence,
                false,
            );
            let mut reader = crate::source::open::Counted::new(
                split::RangeReader::new(&file, r.clone()),
                opts.progress.clone(),
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
    for (st, f) in parts {
        findings.push((lines_before, f));
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
    report.findings = crate::finding::aggregate::merge_parts(findings, opts.max_evidence);
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
            on_report(scan_input(i, input, matcher, opts));
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
                on_report(scan_input(i, input, matcher, opts));
            }
            return;
        }
    };
    // Runs of consecutive inputs per task and per message: a sweep of many small files then
    // costs a few hundred thread hand-offs, not one per file (each wakes a sleeping thread).
    let run = (inputs.len() / (opts.threads * 32)).clamp(1, MAX_INPUTS_PER_TASK);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Vec<FileReport>>();
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
                            .map(|(k, input)| scan_input(c * run + k, input, matcher, opts))
                            .collect();
                        let _ = tx.send(reports);
                    });
            });
        });
        let mut pending = BTreeMap::new();
        let mut next = 0;
        for reports in rx {
            for r in reports {
                pending.insert(r.index, r);
            }
            while let Some(r) = pending.remove(&next) {
                on_report(r);
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
