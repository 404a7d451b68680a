//! Reports: what the operator, a script or a ticketing system reads. The engine hands each
//! file's result over in input order (`FileReport`); `Collector` gathers what the end-of-scan
//! reports need (totals, errors, findings merged across files), and the printers write it:
//! `human` (terminal, 80 columns, colour on a TTY), `json` (one document, stable schema) and
//! `ndjson` (one object per occurrence, written as each file completes).

pub mod baseline;
mod collect;
pub mod html;
pub mod human;
pub mod incidents;
pub mod json;
pub mod markdown;
pub mod ndjson;
pub mod progress;
pub mod saved;
pub mod story_json;
pub mod streams;
pub mod text;

use std::collections::BTreeMap;

pub use collect::Collector;

use crate::finding::unknown;
use crate::finding::{self, Finding, triage::TriageGroup};
use crate::rules::{Rule, Severity};
use crate::source::Problem;

/// One stream as the report lists it.
#[derive(Clone, Debug)]
pub struct SourceRow {
    pub path: String,
    pub layout: Option<&'static str>,
    /// The compressor of its bytes (`gzip`, `xz`, `bzip2`, `zstd`).
    pub compression: Option<&'static str>,
    pub bytes: u64,
    pub lines: u64,
    pub service: Option<&'static str>,
    pub host: Option<String>,
    /// A `yarn logs` section: its container, application and log type.
    pub container: Option<String>,
    pub application: Option<String>,
    pub log_type: Option<String>,
    /// Part of the file counted from another one (Accumulo's X.log and X.debug.log).
    pub note: Option<String>,
    /// Its host clue, as an index into the collector's distinct clues.
    clue: u32,
}

/// A machine of the sweep and the names it was seen under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRow {
    pub name: String,
    pub seen_as: Vec<String>,
}

/// `rule jvm.too-many-open-files`, `fingerprint 0123...`, `template 4567...`.
pub fn target_text(t: &crate::config::Target) -> String {
    match t {
        crate::config::Target::Rule(r) => format!("rule {r}"),
        crate::config::Target::Fingerprint(f) => format!("fingerprint {f}"),
        crate::config::Target::Template(t) => format!("template {t}"),
    }
}

/// What one suppression of the config file took out of the report.
#[derive(Clone, Debug)]
pub struct SuppressedRow {
    pub entry: crate::config::Suppress,
    pub findings: u64,
    pub templates: u64,
    /// Occurrences of those findings and templates.
    pub events: u64,
}

impl SuppressedRow {
    pub fn entry_is_template(&self) -> bool {
        matches!(self.entry.target, crate::config::Target::Template(_))
    }
}

/// Everything an end-of-scan report shows.
pub struct Summary {
    pub inputs: Vec<String>,
    /// Every stream's path, by stream index (evidence refers to streams by index).
    pub paths: Vec<String>,
    /// Every stream's YARN container, by stream index.
    pub containers: Vec<Option<String>>,
    pub sources: Vec<SourceRow>,
    pub hosts: Vec<HostRow>,
    pub bytes: u64,
    pub lines: u64,
    pub events: u64,
    pub cut_lines: u64,
    pub layouts: BTreeMap<&'static str, usize>,
    pub duration_ms: u128,
    pub rules: usize,
    pub skipped: Vec<Problem>,
    /// Read, but changed meanwhile.
    pub warnings: Vec<Problem>,
    pub errors: Vec<Problem>,
    /// Reported findings, sorted.
    pub findings: Vec<Finding>,
    /// Error events no rule matched, by template (reported ones, sorted).
    pub unknown: unknown::Merged,
    /// The config file's suppressions, with what each took out (every entry in force, also
    /// those that took out nothing), and the file's name.
    pub suppressed: Vec<SuppressedRow>,
    pub config: Option<String>,
    /// Suppressions past their `until` date (no longer applied).
    pub expired: Vec<crate::config::Suppress>,
    pub triage: Vec<TriageGroup>,
    /// The findings cut into incidents (`finding::incident`), and the quiet gap that cuts them.
    pub incidents: Vec<finding::incident::Incident>,
    pub incident_gap_ms: i64,
    /// The zone log times without one are read in, and the hosts' clock corrections.
    pub clock: finding::clock::Clock,
    /// The Run Book scenarios the incidents were judged against.
    pub scenarios: crate::rules::scenario::Scenarios,
    /// The comparison with `--baseline`, when given.
    pub baseline: Option<baseline::Compared>,
    /// Every stream as collected, when kept for a JSON report's `merge` section.
    pub streams: Option<streams::Streams>,
    /// The worst reported finding's severity (for the exit code).
    pub max_severity: Option<Severity>,
}

impl Summary {
    /// Nothing at all could be scanned: every input was skipped or unreadable. Such a sweep
    /// must never read as "no findings".
    pub fn nothing_scanned(&self) -> bool {
        self.sources.is_empty()
    }
}

impl Summary {
    /// Does a reported finding reach `fail_on`? With a baseline, only new findings count.
    pub fn fails_at(&self, rules: &[Rule], fail_on: Severity) -> bool {
        match &self.baseline {
            None => self.max_severity.is_some_and(|s| s >= fail_on),
            Some(b) => self
                .findings
                .iter()
                .enumerate()
                .any(|(i, f)| b.status(i) == "new" && f.severity(rules) >= fail_on),
        }
    }
}

/// How the sweep's story is told (`Collector::finish`): the quiet gap between incidents, the
/// silence that makes a log "stopped", the clock, the Run Book scenarios.
pub struct Story<'a> {
    pub incident_gap_ms: i64,
    pub silence_ms: i64,
    pub clock: finding::clock::Clock,
    pub scenarios: &'a crate::rules::scenario::Scenarios,
}
