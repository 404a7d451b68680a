//! Aggregation: occurrences of one fingerprint become one finding (count, first and last seen,
//! files, a bounded number of evidence events, its bursts in time, its phase). A threshold
//! rule's finding exists only when its threshold is reached (`threshold`); it then reports all
//! of that fingerprint's occurrences in the file. Per-file (or per-range) results fold together
//! in input order and the result does not depend on how the work was split.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use super::phase::{self, Mark, Phase};
pub use super::threshold::ThresholdState;
use super::timeline::Bursts;
use super::unknown::{Unknown, UnknownAggregator};
use crate::event::Stamp;
use crate::matching::{Hit, Occurrence, UNKNOWN};
use crate::rules::{Rule, Severity};
use crate::source::Origin;

/// Fingerprints are already well-mixed 64-bit hashes: use them as they are.
#[derive(Default)]
pub struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type ByFingerprint<V> = HashMap<u64, V, BuildHasherDefault<FingerprintHasher>>;

/// How many distinct files a finding lists (the count of all of them is kept).
pub const MAX_FILES_LISTED: usize = 20;

/// Widens a (first seen, last seen) span to take in `stamp`.
pub fn see(
    first: &mut Option<(i64, Stamp)>,
    last: &mut Option<(i64, Stamp)>,
    stamp: Option<Stamp>,
) {
    if let Some(st) = stamp {
        let k = st.key();
        if first.as_ref().is_none_or(|(f, _)| k < *f) {
            *first = Some((k, st));
        }
        if last.as_ref().is_none_or(|(l, _)| k > *l) {
            *last = Some((k, st));
        }
    }
}

/// One problem: every occurrence of one fingerprint.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub rule: u32,
    pub fingerprint: u64,
    pub count: u64,
    /// (ordering key, timestamp) of the earliest and latest occurrences.
    pub first_seen: Option<(i64, Stamp)>,
    pub last_seen: Option<(i64, Stamp)>,
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
    /// The YARN containers its occurrences came from (at most `MAX_FILES_LISTED`).
    pub containers: Vec<String>,
    pub threshold: Option<ThresholdState>,
    /// The phase its occurrences fell in, for a rule expected there (`rules::Rule::expected_in`).
    pub phase: Option<Phase>,
    /// Seen before the first phase marker of a part that may not start its stream: the line
    /// and time of each occurrence, for deciding its phase when the part is joined to the
    /// ones before it (`phase::decide`).
    pub undecided: Option<Vec<(u64, Option<Stamp>)>>,
    /// It had more than `phase::MAX_UNDECIDED` undecided occurrences: decided as a whole.
    pub undecided_whole: bool,
    /// When it happened, folded into bursts (`timeline`).
    pub bursts: Bursts,
}

impl Finding {
    fn new(
        file: u32,
        hit: &Hit,
        origin: &Origin,
        threshold: Option<ThresholdState>,
        judged: Judged,
    ) -> Finding {
        Finding {
            rule: hit.rule,
            fingerprint: judged.fingerprint,
            phase: judged.phase,
            undecided: judged.inherited.then(Vec::new),
            undecided_whole: false,
            bursts: Bursts::default(),
            count: 0,
            first_seen: None,
            last_seen: None,
            first_at: (file, hit.line),
            evidence: Vec::new(),
            files: vec![file],
            files_total: 1,
            fields: hit.fields().clone(),
            origin: origin.clone(),
            containers: origin.container.iter().cloned().collect(),
            threshold,
        }
    }

    fn see(&mut self, stamp: Option<Stamp>) {
        see(&mut self.first_seen, &mut self.last_seen, stamp);
    }

    /// Folds in the same fingerprint's finding from a later file or a later part of one file.
    pub fn merge(&mut self, other: Finding, max_evidence: usize) {
        self.count += other.count;
        // The first occurrence in input order names the finding's fields.
        if other.first_at < self.first_at {
            self.first_at = other.first_at;
            self.fields = other.fields.clone();
        }
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
        // Files listed in both are one (parts of one file); the others' count adds up.
        let shared = other
            .files
            .iter()
            .filter(|f| self.files.contains(f))
            .count() as u64;
        self.files_total += other.files_total - shared;
        for f in other.files {
            if !self.files.contains(&f) && self.files.len() < MAX_FILES_LISTED {
                self.files.push(f);
            }
        }
        for c in other.containers {
            if !self.containers.contains(&c) && self.containers.len() < MAX_FILES_LISTED {
                self.containers.push(c);
            }
        }
        for e in other.evidence {
            if max_evidence != 0 && self.evidence.len() >= max_evidence {
                break;
            }
            self.evidence.push(e);
        }
        if let (Some(a), Some(b)) = (&mut self.threshold, other.threshold) {
            a.merge(b);
        }
        self.bursts.merge(other.bursts);
    }

    /// A finding the analysis raises (a silence): one occurrence, at `at`.
    pub fn raised(
        rule: u32,
        fingerprint: u64,
        at: (u32, u64),
        stamp: Stamp,
        occurrence: Occurrence,
        fields: Vec<(String, String)>,
        origin: &Origin,
    ) -> Finding {
        let mut bursts = Bursts::default();
        bursts.add(Some(stamp), at);
        let key = stamp.key();
        Finding {
            rule,
            fingerprint,
            count: 1,
            first_seen: Some((key, stamp)),
            last_seen: Some((key, stamp)),
            first_at: at,
            evidence: vec![(at.0, occurrence)],
            files: vec![at.0],
            files_total: 1,
            fields,
            origin: origin.clone(),
            containers: Vec::new(),
            threshold: None,
            phase: None,
            undecided: None,
            undecided_whole: false,
            bursts,
        }
    }

    /// How bad it is: its rule's severity, or at most `low` inside a phase that expects it.
    pub fn severity(&self, rules: &[Rule]) -> Severity {
        phase::severity(rules[self.rule as usize].severity, self.phase)
    }

    /// A threshold rule's finding that never reached its threshold is not a finding.
    pub fn is_reported(&self) -> bool {
        self.threshold.as_ref().is_none_or(|t| t.reached)
    }
}

/// Turns one file's (or one part's) occurrences, in order, into findings.
pub struct FileAggregator<'r> {
    rules: &'r [Rule],
    file: u32,
    origin: Origin,
    max_evidence: usize,
    /// Findings in order of first occurrence.
    pub findings: Vec<Finding>,
    index: ByFingerprint<usize>,
    /// Occurrences to stream (NDJSON), when asked for: a threshold rule's occurrences from the
    /// moment its threshold is reached (the ones that reached it included).
    pub admitted: Option<Vec<Occurrence>>,
    held: ByFingerprint<VecDeque<Occurrence>>,
    /// Error events no rule matched.
    pub unknown: UnknownAggregator,
    /// The stream's phase; `None` until the first marker of a part that may not start its
    /// stream (what came before it is then decided by `PartMerger`).
    phase: Option<phase::State>,
    /// The phase markers seen, in order (at most `MAX_MARKS`), for `PartMerger`.
    marks: Vec<(Mark, Option<Stamp>)>,
    /// Which of them are start-ups, with the time of the line before each.
    restart_marks: Vec<phase::RestartAt>,
}

/// Phase markers a part keeps for joining it to the parts before it; past this, the part's own
/// end state is used (computed as if the stream was running normally when the part began).
const MAX_MARKS: usize = 4096;

/// What the phase of an occurrence's stream makes of it.
struct Judged {
    phase: Option<Phase>,
    inherited: bool,
    fingerprint: u64,
}

/// What the scan of one stream (or one part of it) found.
#[derive(Default)]
pub struct Part {
    pub findings: Vec<Finding>,
    pub unknown: Vec<Unknown>,
    /// Unknown events past the per-stream template bound.
    pub unknown_other: u64,
    /// The phase markers it saw, in order (all of them unless there were `MAX_MARKS`; then
    /// `end_phase`, its state at its end, is used).
    pub marks: Vec<(Mark, Option<Stamp>)>,
    pub end_phase: Option<phase::State>,
    /// Its start-up markers (into `marks`), to be judged once the phase before it is known.
    pub restart_marks: Vec<phase::RestartAt>,
    /// Its start-ups, judged (a whole stream's, or the parts' once joined).
    pub restarts: Vec<phase::Restart>,
}

impl<'r> FileAggregator<'r> {
    pub fn new(
        rules: &'r [Rule],
        file: u32,
        origin: Origin,
        max_evidence: usize,
        stream: bool,
    ) -> Self {
        FileAggregator {
            rules,
            file,
            unknown: UnknownAggregator::new(file, origin.clone(), max_evidence),
            origin,
            max_evidence,
            findings: Vec::new(),
            index: ByFingerprint::default(),
            admitted: stream.then(Vec::new),
            held: ByFingerprint::default(),
            phase: None,
            marks: Vec::new(),
            restart_marks: Vec::new(),
        }
    }

    /// This aggregator sees its stream from the first line: nothing it finds is undecided.
    pub fn at_stream_start(mut self) -> Self {
        self.phase = Some(phase::State::RUNNING);
        self
    }

    /// Follows the stream's phase through a marker, and judges an occurrence of `rule` by it.
    fn judge(&mut self, rule: &Rule, hit: &Hit) -> Judged {
        if let Some(m) = rule.marks {
            let now = self.phase.unwrap_or(phase::State::RUNNING);
            self.phase = Some(now.after(m, hit.stamp));
            if self.marks.len() < MAX_MARKS {
                if m == Mark::Starting {
                    let header = hit.event.split(|&b| b == b'\n').next().unwrap_or_default();
                    self.restart_marks.push(phase::RestartAt {
                        mark: self.marks.len(),
                        line: hit.line,
                        prev: hit.prev_stamp,
                        text: String::from_utf8_lossy(&header[..header.len().min(300)])
                            .trim_end()
                            .to_string(),
                    });
                }
                self.marks.push((m, hit.stamp));
            }
        }
        if rule.expected_in.is_empty() {
            return Judged {
                phase: None,
                inherited: false,
                fingerprint: hit.fingerprint,
            };
        }
        match self.phase {
            Some(s) => {
                let p = s.judge(&rule.expected_in, hit.stamp.map(|t| t.key()));
                Judged {
                    phase: p,
                    inherited: false,
                    fingerprint: hit.fingerprint ^ Phase::salt(p),
                }
            }
            None => Judged {
                phase: None,
                inherited: true,
                fingerprint: hit.fingerprint ^ phase::INHERITED_SALT,
            },
        }
    }

    pub fn push(&mut self, hit: &Hit) {
        if hit.rule == UNKNOWN {
            let template = self.unknown.push(hit);
            // The template's text and id are copied only for NDJSON, which streams each event.
            if let (Some(admitted), Some(i)) = (&mut self.admitted, template) {
                let u = &self.unknown.templates[i];
                let mut o = hit.occurrence();
                o.template = Some(Box::new((u.text.clone(), u.id.clone())));
                admitted.push(o);
            }
            return;
        }
        let rules = self.rules;
        let rule = &rules[hit.rule as usize];
        let judged = self.judge(rule, hit);
        let (fingerprint, tag) = (judged.fingerprint, judged.phase);
        // An occurrence streamed (NDJSON) is of a whole stream: undecided means normal running.
        let occurrence = || {
            let mut o = hit.occurrence();
            o.phase = tag;
            o.fingerprint = hit.fingerprint ^ Phase::salt(tag);
            o
        };
        let i = match self.index.get(&fingerprint) {
            Some(&i) => i,
            None => {
                let th = rule.threshold.as_ref().map(ThresholdState::new);
                self.findings
                    .push(Finding::new(self.file, hit, &self.origin, th, judged));
                self.index.insert(fingerprint, self.findings.len() - 1);
                self.findings.len() - 1
            }
        };
        let f = &mut self.findings[i];
        if let Some(u) = &mut f.undecided
            && !f.undecided_whole
        {
            if u.len() < phase::MAX_UNDECIDED {
                u.push((hit.line, hit.stamp));
            } else {
                // Bounded memory: past this, the finding is decided as a whole (by its first
                // time) when its part is joined.
                *u = Vec::new();
                f.undecided_whole = true;
            }
        }
        f.count += 1;
        f.see(hit.stamp);
        f.bursts.add(hit.stamp, (self.file, hit.line));
        let want_evidence = self.max_evidence == 0 || f.evidence.len() < self.max_evidence;
        let (reached_before, just) = match &mut f.threshold {
            Some(t) => {
                let before = t.reached;
                (before, t.push(hit.stamp.map(|s| s.key())))
            }
            None => (true, false),
        };
        if want_evidence {
            f.evidence.push((self.file, occurrence()));
        }
        let Some(admitted) = &mut self.admitted else {
            return;
        };
        let occ = occurrence();
        if reached_before {
            admitted.push(occ);
        } else {
            let keep = rule.threshold.as_ref().map_or(0, |t| t.count as usize - 1);
            let held = self.held.entry(fingerprint).or_default();
            if just {
                admitted.extend(held.drain(..));
                admitted.push(occ);
            } else {
                held.push_back(occ);
                while held.len() > keep {
                    held.pop_front();
                }
            }
        }
    }

    /// What this stream found, without threshold findings that never reached theirs.
    pub fn finish(self) -> Part {
        let (rules, max_evidence) = (self.rules, self.max_evidence);
        let mut part = self.into_parts();
        part.findings = phase::decide(part.findings, phase::State::RUNNING, rules, max_evidence);
        part.findings.retain(Finding::is_reported);
        part.restarts = phase::restarts(phase::State::RUNNING, &part.marks, &part.restart_marks, 0);
        part
    }

    /// What this part of a stream found, thresholds undecided (see `merge_parts`).
    pub fn into_parts(mut self) -> Part {
        for f in &mut self.findings {
            f.bursts.normalise();
        }
        Part {
            findings: self.findings,
            unknown: self.unknown.templates,
            unknown_other: self.unknown.other,
            end_phase: self.phase,
            marks: self.marks,
            restart_marks: self.restart_marks,
            restarts: Vec::new(),
        }
    }
}

/// Joins what consecutive parts of one stream found (each with line numbers counted from its
/// own start, and the number of lines before it) into the stream's findings.
pub fn merge_parts(
    parts: Vec<(u64, Option<Stamp>, Part)>,
    rules: &[Rule],
    max_evidence: usize,
) -> Part {
    let mut merger = PartMerger::new(rules, max_evidence);
    for (lines_before, before, part) in parts {
        merger.push_at(lines_before, before, part);
    }
    merger.finish()
}

/// `merge_parts` one part at a time, in stream order: only the merged result is kept.
pub struct PartMerger<'r> {
    findings: Aggregate,
    unknown: super::unknown::PartsMerger,
    unknown_other: u64,
    max_evidence: usize,
    rules: &'r [Rule],
    /// The stream's phase at the end of the parts joined so far.
    phase: phase::State,
    restarts: Vec<phase::Restart>,
}

impl<'r> PartMerger<'r> {
    pub fn new(rules: &'r [Rule], max_evidence: usize) -> Self {
        PartMerger {
            findings: Aggregate::default(),
            unknown: super::unknown::PartsMerger::default(),
            unknown_other: 0,
            max_evidence,
            rules,
            phase: phase::State::RUNNING,
            restarts: Vec::new(),
        }
    }

    /// Adds the next part, whose first line is line `lines_before + 1` of the stream and
    /// whose stream's last timed line before it was at `before`.
    pub fn push_at(&mut self, lines_before: u64, before: Option<Stamp>, part: Part) {
        let mut findings = phase::decide(part.findings, self.phase, self.rules, self.max_evidence);
        if part.marks.len() < MAX_MARKS {
            let mut restarts =
                phase::restarts(self.phase, &part.marks, &part.restart_marks, lines_before);
            // A start-up on the part's first timed line: the line before it ended the part
            // before (the outage it ends began there).
            for r in &mut restarts {
                if r.prev.is_none() {
                    r.prev = before;
                }
            }
            self.restarts.extend(restarts);
        }
        self.phase = if part.marks.len() < MAX_MARKS {
            part.marks
                .iter()
                .fold(self.phase, |s, &(m, stamp)| s.after(m, stamp))
        } else {
            part.end_phase.unwrap_or(self.phase)
        };
        for f in &mut findings {
            f.first_at.1 += lines_before;
            for b in &mut f.bursts.0 {
                b.at.1 += lines_before;
            }
            for (_, o) in &mut f.evidence {
                o.line += lines_before;
            }
        }
        self.findings.add_file(findings, self.max_evidence);
        self.unknown
            .push(lines_before, part.unknown, self.max_evidence);
        self.unknown_other += part.unknown_other;
    }

    /// The stream's findings, without threshold findings that never reached theirs.
    pub fn finish(self) -> Part {
        Part {
            findings: self
                .findings
                .findings
                .into_iter()
                .filter(Finding::is_reported)
                .collect(),
            unknown: self.unknown.finish(),
            unknown_other: self.unknown_other,
            marks: Vec::new(),
            end_phase: Some(self.phase),
            restart_marks: Vec::new(),
            restarts: self.restarts,
        }
    }
}

/// Merges per-file findings, fed in input order.
#[derive(Default)]
pub struct Aggregate {
    pub findings: Vec<Finding>,
    index: ByFingerprint<usize>,
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
