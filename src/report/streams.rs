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

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::rules::Rule;
use crate::scan::FileReport;
use crate::source::walk::Problem;

/// The layout of the section; a merge refuses another.
pub const FORMAT: u32 = 1;

/// The streams of a sweep, kept as they were collected (only when a JSON report is written).
#[derive(Debug, Default)]
pub struct Streams {
    pub max_evidence: usize,
    /// `--host` of the sweep.
    pub host: Option<String>,
    /// Problems of the walk (before any stream was read), in input order.
    pub walk_errors: Vec<Problem>,
    pub walk_skipped: Vec<Problem>,
    /// Each stream's `FileReport`, serialized when collected.
    pub streams: Vec<Box<RawValue>>,
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
    /// Each stream as the scanner handed it over (`scan::FileReport`); its inner layout
    /// follows the engine and changes with `format`.
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    streams: &'a [Box<RawValue>],
}

impl Streams {
    /// Keeps one stream (before the collector takes its findings).
    pub fn keep(&mut self, r: &FileReport) -> Result<(), String> {
        let raw = serde_json::value::to_raw_value(r).map_err(|e| e.to_string())?;
        self.streams.push(raw);
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
            streams: &self.streams,
        }
    }
}

/// A report's `merge` section, read back: its streams' rules mapped onto the loaded packs.
#[derive(Deserialize)]
pub struct Saved {
    format: u32,
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
            "{name}: its merge section is of format {}; this logtriage merges format {FORMAT}",
            format.map_or("(none)".to_string(), |f| f.to_string())
        ));
    }
    let mut saved: Saved = serde_json::from_value(doc)
        .map_err(|e| format!("{name}: its merge section cannot be read: {e}"))?;
    debug_assert_eq!(saved.format, FORMAT);
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
