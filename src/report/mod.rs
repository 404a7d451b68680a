//! Reports: what the operator, a script or a ticketing system reads. The engine hands each
//! file's result over in input order (`FileReport`); `Collector` gathers what the end-of-scan
//! reports need (totals, errors, findings merged across files), and the printers write it:
//! `human` (terminal, 80 columns, colour on a TTY), `json` (one document, stable schema) and
//! `ndjson` (one object per occurrence, written as each file completes).

pub mod human;
pub mod json;
pub mod ndjson;
pub mod progress;
pub mod text;

use std::collections::BTreeMap;

use crate::finding::{self, Aggregate, Finding, triage::TriageGroup};
use crate::rules::{Rule, Severity};
use crate::scan::FileReport;
use crate::source::Problem;

/// One input as the report lists it.
#[derive(Clone, Debug)]
pub struct SourceRow {
    pub path: String,
    pub layout: Option<&'static str>,
    pub compressed: bool,
    pub bytes: u64,
    pub lines: u64,
    pub service: Option<&'static str>,
    pub host: Option<String>,
    /// Part of the file counted from another one (Accumulo's X.log and X.debug.log).
    pub note: Option<String>,
}

/// Everything an end-of-scan report shows.
pub struct Summary {
    pub inputs: Vec<String>,
    /// Every input's path, by input index (evidence refers to inputs by index).
    pub paths: Vec<String>,
    pub sources: Vec<SourceRow>,
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
    pub triage: Vec<TriageGroup>,
    /// The worst reported finding's severity (for the exit code).
    pub max_severity: Option<Severity>,
}

/// Gathers per-file reports (in input order) into a `Summary`.
pub struct Collector {
    pub summary: Summary,
    aggregate: Aggregate,
    max_evidence: usize,
}

impl Collector {
    pub fn new(
        inputs: Vec<String>,
        rules: usize,
        walk_errors: Vec<Problem>,
        walk_skipped: Vec<Problem>,
        max_evidence: usize,
    ) -> Self {
        Collector {
            summary: Summary {
                inputs,
                paths: Vec::new(),
                sources: Vec::new(),
                bytes: 0,
                lines: 0,
                events: 0,
                cut_lines: 0,
                layouts: BTreeMap::new(),
                duration_ms: 0,
                rules,
                skipped: walk_skipped,
                warnings: Vec::new(),
                errors: walk_errors,
                findings: Vec::new(),
                triage: Vec::new(),
                max_severity: None,
            },
            aggregate: Aggregate::default(),
            max_evidence,
        }
    }

    pub fn add(&mut self, r: &mut FileReport) {
        let s = &mut self.summary;
        debug_assert_eq!(s.paths.len(), r.index);
        s.paths.push(r.path.clone());
        if let Some(e) = &r.error {
            s.errors.push(Problem {
                path: r.path.clone(),
                message: e.clone(),
            });
        }
        if let Some(w) = &r.warning {
            s.warnings.push(Problem {
                path: r.path.clone(),
                message: w.clone(),
            });
        }
        if let Some(k) = &r.skipped {
            s.skipped.push(Problem {
                path: r.path.clone(),
                message: k.clone(),
            });
        }
        if r.stats.cut_lines > 0 {
            s.cut_lines += r.stats.cut_lines;
        }
        s.bytes += r.stats.bytes;
        s.lines += r.stats.lines;
        s.events += r.stats.events;
        if let Some(l) = r.layout() {
            *s.layouts.entry(l.name()).or_default() += 1;
        }
        if (r.error.is_none() || r.stats.bytes > 0) && r.skipped.is_none() {
            s.sources.push(SourceRow {
                path: r.path.clone(),
                layout: r.layout().map(|l| l.name()),
                compressed: r.compressed,
                bytes: r.stats.bytes,
                lines: r.stats.lines,
                service: r.origin.service,
                host: r.origin.host.clone(),
                note: r.note.clone(),
            });
        }
        self.aggregate
            .add_file(std::mem::take(&mut r.findings), self.max_evidence);
    }

    /// Sorts, filters by `min_severity` and builds the triage.
    pub fn finish(mut self, rules: &[Rule], min_severity: Severity, duration_ms: u128) -> Summary {
        let mut all = self.aggregate.findings;
        all.retain(|f| rules[f.rule as usize].severity >= min_severity);
        self.summary.max_severity = all.iter().map(|f| rules[f.rule as usize].severity).max();
        finding::sort(&mut all, rules);
        self.summary.triage = finding::triage::triage(&all, rules);
        self.summary.findings = all;
        self.summary.duration_ms = duration_ms;
        self.summary
    }
}
