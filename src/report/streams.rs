//! The `merge` section of a JSON report: what `logtriage merge` needs so that merging the
//! reports of several sweeps gives the report one sweep of all their logs would give.
//!
//! A sweep decides much over the whole of it: hosts are named from every stream's clues
//! (sibling folders, a full name seen elsewhere), a fingerprint's occurrences are summed across
//! files and its evidence chosen in input order, logs that went silent and daemons that were
//! down are judged from every stream's end, incidents and their scenarios from all of that. So
//! a report keeps, beside its findings, each stream's own result exactly as the engine handed
//! it to the `Collector` (`scan::FileReport`: path, origin, host clues, counts, first and last
//! times, restarts, its findings with their evidence and bursts, its unknown templates) and the
//! walk's problems. `merge` feeds those streams, in order, to the same `Collector` a sweep uses
//! and finishes it the same way.
//!
//! Rules are named by index into the section's `rules` list of ids (a merge maps them onto the
//! packs it loaded); everything else is the engine's own types, serialized with serde.

use base64::Engine;
use serde::{Deserialize, Serialize};
use std::io::Write;

use crate::rules::Rule;
use crate::scan::FileReport;
use crate::source::walk::Problem;

/// The layout of the section; a merge refuses another.
pub const FORMAT: u32 = 2;

/// How hard the streams are compressed: zstd's default, fast (tens of MB/s of JSON on one
/// core) and about 20 times smaller on logs' repetitive text.
const ZSTD_LEVEL: i32 = 3;

/// The streams of a sweep, kept as they were collected (only when a JSON report is written):
/// one JSON array of `FileReport`s, compressed as it is written, base64 in the report.
pub struct Streams {
    pub max_evidence: usize,
    /// `--host` of the sweep.
    pub host: Option<String>,
    /// Problems of the walk (before any stream was read), in input order.
    pub walk_errors: Vec<Problem>,
    pub walk_skipped: Vec<Problem>,
    /// Buffered: serde writes a stream in many small pieces, each a call into zstd.
    encoder: Option<std::io::BufWriter<zstd::Encoder<'static, Vec<u8>>>>,
    count: usize,
    /// The finished array, base64 of its zstd frame (`finish`).
    packed: String,
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Streams({} streams)", self.count)
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct StreamsJson<'a> {
    format: u32,
    /// Rule ids by the index findings name them with.
    rules: Vec<&'a str>,
    max_evidence: usize,
    host: Option<&'a str>,
    walk_errors: &'a [Problem],
    walk_skipped: &'a [Problem],
    /// How many streams `streams` holds.
    count: usize,
    /// Every stream as the scanner handed it over (a JSON array of `scan::FileReport`, whose
    /// inner layout follows the engine and changes with `format`), zstd-compressed, base64.
    streams: &'a str,
}

impl Streams {
    pub fn new(
        max_evidence: usize,
        host: Option<String>,
        walk_errors: Vec<Problem>,
        walk_skipped: Vec<Problem>,
    ) -> Streams {
        let mut encoder = zstd::Encoder::new(Vec::new(), ZSTD_LEVEL)
            .ok()
            .map(|e| std::io::BufWriter::with_capacity(128 * 1024, e));
        if let Some(e) = &mut encoder
            && e.write_all(b"[").is_err()
        {
            encoder = None;
        }
        Streams {
            max_evidence,
            host,
            walk_errors,
            walk_skipped,
            encoder,
            count: 0,
            packed: String::new(),
        }
    }

    /// Keeps one stream (before the collector takes its findings).
    pub fn keep(&mut self, r: &FileReport) -> Result<(), String> {
        let e = self
            .encoder
            .as_mut()
            .ok_or("the compressor could not start")?;
        if self.count > 0 {
            e.write_all(b",").map_err(|e| e.to_string())?;
        }
        serde_json::to_writer(&mut *e, r).map_err(|e| e.to_string())?;
        self.count += 1;
        Ok(())
    }

    /// Ends the array (once every stream is kept).
    pub fn finish(&mut self) -> Result<(), String> {
        let Some(mut e) = self.encoder.take() else {
            return Ok(());
        };
        e.write_all(b"]").map_err(|e| e.to_string())?;
        let bytes = e
            .into_inner()
            .map_err(|e| e.to_string())?
            .finish()
            .map_err(|e| e.to_string())?;
        self.packed = base64::engine::general_purpose::STANDARD.encode(bytes);
        Ok(())
    }

    pub fn json<'a>(&'a self, rules: &'a [Rule]) -> StreamsJson<'a> {
        StreamsJson {
            format: FORMAT,
            rules: rules.iter().map(|r| r.id.as_str()).collect(),
            max_evidence: self.max_evidence,
            host: self.host.as_deref(),
            walk_errors: &self.walk_errors,
            walk_skipped: &self.walk_skipped,
            count: self.count,
            streams: &self.packed,
        }
    }
}

/// The section as written: its streams still packed.
#[derive(Deserialize)]
struct SavedPacked {
    format: u32,
    rules: Vec<String>,
    max_evidence: usize,
    host: Option<String>,
    walk_errors: Vec<Problem>,
    walk_skipped: Vec<Problem>,
    count: usize,
    streams: String,
}

/// A report's `merge` section, read back: its streams' rules mapped onto the loaded packs.
pub struct Saved {
    rules: Vec<String>,
    pub max_evidence: usize,
    pub host: Option<String>,
    pub walk_errors: Vec<Problem>,
    pub walk_skipped: Vec<Problem>,
    pub streams: Vec<FileReport>,
}

/// Reads the `merge` section of the report `name` (`doc` is taken out of the document), its
/// rules mapped onto `rules`. The error says what is wrong, naming the report.
pub fn read(doc: serde_json::Value, name: &str, rules: &[Rule]) -> Result<Saved, String> {
    if doc.is_null() {
        return Err(format!(
            "{name}: holds no merge section (written by `scan --format json` of an older logtriage, or not by a sweep): scan again with this logtriage"
        ));
    }
    let format = doc["format"].as_u64();
    if format != Some(FORMAT as u64) {
        return Err(format!(
            "{name}: its merge section is of format {}; this logtriage merges format {FORMAT} (sweep again with this logtriage)",
            format.map_or("(none)".to_string(), |f| f.to_string())
        ));
    }
    let cannot = |e: String| format!("{name}: its merge section cannot be read: {e}");
    let packed: SavedPacked = serde_json::from_value(doc).map_err(|e| cannot(e.to_string()))?;
    debug_assert_eq!(packed.format, FORMAT);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(packed.streams.as_bytes())
        .map_err(|e| cannot(e.to_string()))?;
    let json = zstd::decode_all(bytes.as_slice()).map_err(|e| cannot(e.to_string()))?;
    let streams: Vec<FileReport> =
        serde_json::from_slice(&json).map_err(|e| cannot(e.to_string()))?;
    if streams.len() != packed.count {
        return Err(cannot(format!(
            "it holds {} streams, not the {} it says",
            streams.len(),
            packed.count
        )));
    }
    let mut saved = Saved {
        rules: packed.rules,
        max_evidence: packed.max_evidence,
        host: packed.host,
        walk_errors: packed.walk_errors,
        walk_skipped: packed.walk_skipped,
        streams,
    };
    let by_id: std::collections::HashMap<&str, u32> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i as u32))
        .collect();
    let map = |i: u32| -> Result<u32, String> {
        if i == crate::matching::UNKNOWN {
            return Ok(i);
        }
        let id = saved.rules.get(i as usize).ok_or_else(|| {
            format!("{name}: its merge section names rule number {i}, which its rule list lacks")
        })?;
        by_id.get(id.as_str()).copied().ok_or_else(|| {
            format!("{name}: its findings name rule {id}, which the loaded packs lack (give its pack with --rules)")
        })
    };
    for s in &mut saved.streams {
        for f in &mut s.findings {
            f.rule = map(f.rule)?;
            for (_, o) in &mut f.evidence {
                o.rule = map(o.rule)?;
            }
        }
        for u in &mut s.unknown {
            for (_, o) in &mut u.evidence {
                o.rule = map(o.rule)?;
            }
        }
    }
    Ok(saved)
}
