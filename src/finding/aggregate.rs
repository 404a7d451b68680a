//! Aggregation: occurrences of one fingerprint become one finding (count, first and last seen,
//! files, a bounded number of evidence events). Thresholds are applied per file, in file order:
//! a threshold rule's occurrences are held (at most `count - 1` of them per fingerprint) until
//! `count` fall within the window, and are dropped if that never happens. Per-file results merge
//! in input order, so the result does not depend on how many threads scanned the files.

use std::collections::{HashMap, VecDeque};

use super::classify::Origin;
use crate::matching::Occurrence;
use crate::rules::Rule;

/// How many distinct files a finding lists (the count of all of them is kept).
pub const MAX_FILES_LISTED: usize = 20;

/// One problem: every admitted occurrence of one fingerprint.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: u32,
    pub fingerprint: u64,
    pub count: u64,
    /// (ordering key, ISO text) of the earliest and latest timestamps.
    pub first_seen: Option<(i64, String)>,
    pub last_seen: Option<(i64, String)>,
    /// (file index, line) of the first occurrence in input order.
    pub first_at: (u32, u64),
    /// Evidence: (file index, occurrence), in input order.
    pub evidence: Vec<(u32, Occurrence)>,
    pub files: Vec<u32>,
    pub files_total: u64,
    /// The fields of the first occurrence (for the summary).
    pub fields: Vec<(String, String)>,
    /// Service and host of the log the first occurrence came from (both are in the fingerprint).
    pub origin: Origin,
}

impl Finding {
    fn new(file: u32, occ: &Occurrence, origin: &Origin) -> Finding {
        Finding {
            rule: occ.rule,
            fingerprint: occ.fingerprint,
            count: 0,
            first_seen: None,
            last_seen: None,
            first_at: (file, occ.line),
            evidence: Vec::new(),
            files: Vec::new(),
            files_total: 0,
            fields: occ.fields.clone(),
            origin: origin.clone(),
        }
    }

    fn add(&mut self, file: u32, occ: Occurrence, max_evidence: usize) {
        self.count += 1;
        if let Some(st) = occ.stamp {
            let k = st.key();
            if self.first_seen.as_ref().is_none_or(|(f, _)| k < *f) {
                self.first_seen = Some((k, st.iso()));
            }
            if self.last_seen.as_ref().is_none_or(|(l, _)| k > *l) {
                self.last_seen = Some((k, st.iso()));
            }
        }
        if self.files.last() != Some(&file) {
            self.files_total += 1;
            if self.files.len() < MAX_FILES_LISTED {
                self.files.push(file);
            }
        }
        if max_evidence == 0 || self.evidence.len() < max_evidence {
            self.evidence.push((file, occ));
        }
    }

    /// Folds in the same fingerprint's finding from a later file.
    pub fn merge(&mut self, other: Finding, max_evidence: usize) {
        self.count += other.count;
        if let Some(f) = other.first_seen
            && self.first_seen.as_ref().is_none_or(|s| f.0 < s.0)
        {
            self.first_seen = Some(f);
        }
        if let Some(l) = other.last_seen
            && self.last_seen.as_ref().is_none_or(|s| l.0 > s.0)
        {
            self.last_seen = Some(l);
        }
        self.files_total += other.files_total;
        for f in other.files {
            if self.files.len() < MAX_FILES_LISTED && !self.files.contains(&f) {
                self.files.push(f);
            }
        }
        for e in other.evidence {
            if max_evidence != 0 && self.evidence.len() >= max_evidence {
                break;
            }
            self.evidence.push(e);
        }
    }
}

struct Window {
    held: VecDeque<Occurrence>,
    tripped: bool,
}

/// Turns one file's occurrences (in file order) into its findings, applying thresholds.
pub struct FileAggregator<'r> {
    rules: &'r [Rule],
    file: u32,
    origin: Origin,
    max_evidence: usize,
    windows: HashMap<u64, Window>,
    /// Findings in order of first occurrence.
    pub findings: Vec<Finding>,
    index: HashMap<u64, usize>,
    /// Admitted occurrences, in order, when the caller streams them (NDJSON).
    pub admitted: Option<Vec<Occurrence>>,
}

impl<'r> FileAggregator<'r> {
    pub fn new(
        rules: &'r [Rule],
        file: u32,
        origin: Origin,
        max_evidence: usize,
        keep_admitted: bool,
    ) -> Self {
        FileAggregator {
            rules,
            file,
            origin,
            max_evidence,
            windows: HashMap::new(),
            findings: Vec::new(),
            index: HashMap::new(),
            admitted: keep_admitted.then(Vec::new),
        }
    }

    pub fn push(&mut self, occ: Occurrence) {
        let Some(th) = &self.rules[occ.rule as usize].threshold else {
            return self.admit(occ);
        };
        let w = self
            .windows
            .entry(occ.fingerprint)
            .or_insert_with(|| Window {
                held: VecDeque::new(),
                tripped: false,
            });
        if w.tripped {
            return self.admit(occ);
        }
        if let Some(now) = occ.stamp.map(|s| s.key()) {
            while let Some(old) = w.held.front().and_then(|o| o.stamp).map(|s| s.key()) {
                if now - old > th.within_ms {
                    w.held.pop_front();
                } else {
                    break;
                }
            }
        }
        w.held.push_back(occ);
        if w.held.len() >= th.count as usize {
            w.tripped = true;
            let held: Vec<Occurrence> = w.held.drain(..).collect();
            for o in held {
                self.admit(o);
            }
        }
    }

    fn admit(&mut self, occ: Occurrence) {
        if let Some(a) = &mut self.admitted {
            a.push(occ.clone());
        }
        let i = *self.index.entry(occ.fingerprint).or_insert_with(|| {
            self.findings
                .push(Finding::new(self.file, &occ, &self.origin));
            self.findings.len() - 1
        });
        self.findings[i].add(self.file, occ, self.max_evidence);
    }
}

/// Merges per-file findings, fed in input order.
#[derive(Default)]
pub struct Aggregate {
    pub findings: Vec<Finding>,
    index: HashMap<u64, usize>,
}

impl Aggregate {
    pub fn add_file(&mut self, findings: Vec<Finding>, max_evidence: usize) {
        for f in findings {
            match self.index.get(&f.fingerprint) {
                Some(&i) => self.findings[i].merge(f, max_evidence),
                None => {
                    self.index.insert(f.fingerprint, self.findings.len());
                    self.findings.push(f);
                }
            }
        }
    }
}
