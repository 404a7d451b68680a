//! The collector: gathers each stream's result (`scan::FileReport`, in input order) into the
//! `Summary` the end-of-sweep reports print: totals and problems, hosts named once the whole
//! sweep's clues are in, findings and unknown templates merged across files, then the story
//! (silences, restart gaps, suppressions, triage, incidents). A sweep and a merge of saved
//! sweeps (`streams`) go through it alike.

use std::collections::{BTreeMap, BTreeSet};

use super::{HostRow, SourceRow, Story, Summary, SuppressedRow};
use crate::finding::unknown::{self, Unknown};
use crate::finding::{self, Aggregate, Finding, fingerprint, phase::Phase};
use crate::rules::{Rule, Severity};
use crate::scan::FileReport;
use crate::source::hosts::Hosts;
use crate::source::{HostClue, Problem};

/// Gathers per-stream reports (in input order) into a `Summary`.
pub struct Collector {
    pub summary: Summary,
    /// The sweep's host clues; a stream's host is decided from all of them at the end.
    pub hosts: Hosts,
    /// What the streams with one host clue found, merged as they come: they will have one
    /// host, which fingerprints hold, named once the whole sweep is in.
    by_clue: std::collections::HashMap<u32, ClueGroup>,
    /// Plain files (whose paths were all known before the scan): merged by the name their
    /// clue gives as they come, the machine named once at the end. Their first path and
    /// that name, per clue, to check at the end that nothing read later changed it.
    plain_groups: BTreeMap<Option<String>, ClueGroup>,
    plain_seen: std::collections::HashMap<u32, (String, Option<String>)>,
    /// The distinct host clues of the sweep (10,000 files have a few hundred).
    clues: Vec<HostClue>,
    clue_ids: std::collections::HashMap<HostClue, u32>,
    max_evidence: usize,
    config: crate::config::Config,
    /// How each stream ended (by host clue), for logs that went silent.
    ends: Vec<(u32, finding::silence::StreamEnd)>,
    /// Every stream as collected, for a JSON report's `merge` section (`keep_streams`).
    streams: Option<super::streams::Streams>,
}

#[derive(Default)]
struct ClueGroup {
    findings: Aggregate,
    unknown: Vec<Unknown>,
    unknown_index: std::collections::HashMap<(String, Option<String>), usize>,
    unknown_other: u64,
}

impl Collector {
    pub fn new(
        inputs: Vec<String>,
        rules: usize,
        walk_errors: Vec<Problem>,
        walk_skipped: Vec<Problem>,
        max_evidence: usize,
        hosts: Hosts,
        config: crate::config::Config,
    ) -> Self {
        Collector {
            summary: Summary {
                inputs,
                paths: Vec::new(),
                containers: Vec::new(),
                sources: Vec::new(),
                hosts: Vec::new(),
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
                unknown: unknown::Merged::default(),
                suppressed: Vec::new(),
                config: None,
                expired: Vec::new(),
                triage: Vec::new(),
                incidents: Vec::new(),
                incident_gap_ms: 0,
                clock: Default::default(),
                scenarios: Default::default(),
                baseline: None,
                streams: None,
                max_severity: None,
            },
            hosts,
            by_clue: std::collections::HashMap::new(),
            plain_groups: BTreeMap::new(),
            plain_seen: std::collections::HashMap::new(),
            clues: Vec::new(),
            clue_ids: std::collections::HashMap::new(),
            max_evidence,
            config,
            ends: Vec::new(),
            streams: None,
        }
    }

    /// Keeps every stream as it is collected, for a JSON report's `merge` section.
    pub fn keep_streams(&mut self) {
        self.streams = Some(super::streams::Streams::new(
            self.max_evidence,
            self.hosts.default_name().map(str::to_string),
            self.summary.errors.clone(),
            self.summary.skipped.clone(),
        ));
    }

    /// Is this occurrence of stream `r` suppressed by the config file (NDJSON, written as it
    /// comes; its host already named)?
    pub fn suppresses(
        &self,
        r: &FileReport,
        o: &crate::matching::Occurrence,
        rules: &[Rule],
    ) -> bool {
        use crate::config::Target;
        self.config.suppress.iter().any(|s| {
            let named = match &s.target {
                Target::Rule(id) => {
                    o.rule != crate::matching::UNKNOWN && rules[o.rule as usize].id == *id
                }
                Target::Fingerprint(f) => {
                    o.rule != crate::matching::UNKNOWN
                        && finding::fingerprint::hex(o.fingerprint) == *f
                }
                Target::Template(t) => o.template.as_ref().is_some_and(|x| x.1 == *t),
            };
            named
                && s.covers(
                    r.origin.host.as_deref(),
                    r.origin.service,
                    &[r.path.as_str()],
                )
        })
    }

    /// Names the host of a stream as far as the sweep knows so far, and its occurrences'
    /// fingerprints with it (NDJSON is written before the sweep ends).
    pub fn name_host(&mut self, r: &mut FileReport, rules: &[Rule]) {
        self.hosts.add(&r.clue);
        r.origin.host = self.hosts.resolve(&r.clue);
        for o in &mut r.occurrences {
            if o.rule != crate::matching::UNKNOWN {
                // A phase's finding keeps its own fingerprint (finding::phase).
                o.fingerprint = fingerprint::of(&rules[o.rule as usize], &o.fields, &r.origin)
                    ^ Phase::salt(o.phase);
            }
        }
    }

    pub fn add(&mut self, r: &mut FileReport) {
        if let Some(keep) = &mut self.streams {
            // Kept as stream 0 of its own, whatever the engine's split numbered it.
            renumber(r, 0);
            // A merge of sweeps run with different `--host` gives each stream its own.
            if r.clue.fallback.is_none() {
                r.clue.fallback = self.hosts.default_name().map(str::to_string);
            }
            if let Err(e) = keep.keep(r) {
                self.summary.warnings.push(Problem {
                    path: r.path.clone(),
                    message: format!("left out of the report's merge section: {e}"),
                });
            }
        }
        let s = &mut self.summary;
        let problem = |message: &String| Problem {
            path: match &r.section {
                Some(t) => format!(
                    "{} ({} {t})",
                    r.path,
                    r.origin.container.as_deref().unwrap_or("")
                ),
                None => r.path.clone(),
            },
            message: message.clone(),
        };
        if let Some(e) = &r.error {
            s.errors.push(problem(e));
        }
        if let Some(w) = &r.warning {
            s.warnings.push(problem(w));
        }
        if let Some(k) = &r.skipped {
            s.skipped.push(problem(k));
        }
        if r.archive {
            return;
        }
        let clue = match self.clue_ids.get(&r.clue) {
            Some(&c) => c,
            None => {
                self.hosts.add(&r.clue);
                let c = self.clues.len() as u32;
                self.clues.push(r.clue.clone());
                self.clue_ids.insert(r.clue.clone(), c);
                c
            }
        };
        let id = s.paths.len() as u32;
        self.ends.push((
            clue,
            finding::silence::StreamEnd {
                id,
                path: r.path.clone(),
                origin: r.origin.clone(),
                last: r.stats.last_time.take(),
                stopping: r.ended_stopping,
                first: r.stats.first_time,
                lines: r.stats.lines,
                restarts: std::mem::take(&mut r.restarts),
            },
        ));
        s.paths.push(r.path.clone());
        s.containers.push(r.origin.container.clone());
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
                compression: r.compressed.map(|c| c.name()),
                bytes: r.stats.bytes,
                lines: r.stats.lines,
                service: r.origin.service,
                host: None,
                container: r.origin.container.clone(),
                application: r.origin.application.clone(),
                log_type: r.section.clone(),
                note: r.note.clone(),
                clue,
            });
        }
        renumber(r, id);
        let findings = std::mem::take(&mut r.findings);
        // A plain file's clue was in the host table before the scan: its name is known now.
        // Archive members and `yarn logs` sections came later: grouped by clue, named at the end.
        let plain =
            !r.path.contains(crate::source::archive::MEMBER_SEPARATOR) && r.section.is_none();
        let group = if plain {
            let name = self.hosts.seen_as(&r.clue).map(str::to_string);
            self.plain_seen
                .entry(clue)
                .or_insert_with(|| (r.path.clone(), name.clone()));
            self.plain_groups.entry(name).or_default()
        } else {
            self.by_clue.entry(clue).or_default()
        };
        group.findings.add_file(findings, self.max_evidence);
        for u in std::mem::take(&mut r.unknown) {
            let key = (u.text.clone(), u.exception.clone());
            match group.unknown_index.get(&key) {
                Some(&i) => group.unknown[i].merge(u, self.max_evidence),
                None => {
                    group.unknown_index.insert(key, group.unknown.len());
                    group.unknown.push(u);
                }
            }
        }
        group.unknown_other += r.unknown_other;
    }

    /// Takes the suppressed findings and unknown templates out, counting them per entry.
    fn suppress(&mut self, findings: &mut Vec<Finding>, rules: &[Rule]) {
        use crate::config::Target;
        let config = std::mem::take(&mut self.config);
        self.summary.config = config.path.clone();
        self.summary.expired = config.expired.clone();
        let paths = &self.summary.paths;
        let mut rows: Vec<SuppressedRow> = config
            .suppress
            .iter()
            .map(|entry| SuppressedRow {
                entry: entry.clone(),
                findings: 0,
                templates: 0,
                events: 0,
            })
            .collect();
        findings.retain(|f| {
            let files: Vec<&str> = f
                .files
                .iter()
                .map(|&i| paths[i as usize].as_str())
                .collect();
            let hit = rows.iter_mut().find(|row| {
                let named = match &row.entry.target {
                    Target::Rule(id) => rules[f.rule as usize].id == *id,
                    Target::Fingerprint(fp) => finding::fingerprint::hex(f.fingerprint) == *fp,
                    Target::Template(_) => false,
                };
                named
                    && row
                        .entry
                        .covers(f.origin.host.as_deref(), f.origin.service, &files)
            });
            match hit {
                Some(row) => {
                    row.findings += 1;
                    row.events += f.count;
                    false
                }
                None => true,
            }
        });
        self.summary.unknown.templates.retain(|u| {
            let files: Vec<&str> = u
                .files
                .iter()
                .map(|&i| paths[i as usize].as_str())
                .collect();
            let hit = rows.iter_mut().find(|row| {
                matches!(&row.entry.target, Target::Template(t) if *t == u.id)
                    && row
                        .entry
                        .covers(u.origin.host.as_deref(), u.origin.service, &files)
            });
            match hit {
                Some(row) => {
                    row.templates += 1;
                    row.events += u.count;
                    false
                }
                None => true,
            }
        });
        self.summary.suppressed = rows;
    }

    /// Names the hosts, merges the findings, sorts, filters by `min_severity` and builds the
    /// triage.
    pub fn finish(
        mut self,
        rules: &[Rule],
        min_severity: Severity,
        story: Story,
        duration_ms: u128,
    ) -> Summary {
        let clock = story.clock;
        let mut ends = std::mem::take(&mut self.ends);
        let hosts = &self.hosts;
        let mut aggregate = Aggregate::default();
        let mut seen_as: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut unknown_streams = Vec::new();
        let mut unknown_other = 0;
        let mut by_clue: Vec<(u32, ClueGroup)> =
            std::mem::take(&mut self.by_clue).into_iter().collect();
        by_clue.sort_by_key(|(c, _)| *c);
        let named_groups = by_clue
            .into_iter()
            .map(|(c, g)| {
                (
                    hosts.seen_as(&self.clues[c as usize]).map(str::to_string),
                    g,
                )
            })
            .chain(std::mem::take(&mut self.plain_groups));
        for (name, group) in named_groups {
            let host = name.as_deref().map(|n| hosts.canonical(n));
            if let Some(name) = &name {
                seen_as
                    .entry(hosts.canonical(name))
                    .or_default()
                    .insert(name.clone());
            }
            let mut findings = group.findings.findings;
            for f in &mut findings {
                f.origin.host = host.clone();
                f.fingerprint = fingerprint::of(&rules[f.rule as usize], &f.fields, &f.origin)
                    ^ Phase::salt(f.phase);
            }
            // Unbounded here: evidence is put back in input order and cut below.
            aggregate.add_file(findings, 0);
            let mut templates = group.unknown;
            for u in &mut templates {
                u.origin.host = host.clone();
                u.hosts.extend(host.clone());
            }
            unknown_streams.push(templates);
            unknown_other += group.unknown_other;
        }
        let mut all = aggregate.findings;
        for f in &mut all {
            // The first evidence events in input order, whatever group they were merged from.
            f.evidence.sort_by_key(|(i, o)| (*i, o.line));
            if self.max_evidence != 0 {
                f.evidence.truncate(self.max_evidence);
            }
            f.files.sort_unstable();
        }
        let mut merged = unknown::merge(unknown_streams, unknown_other, self.max_evidence);
        merged.templates.retain(|u| u.severity() >= min_severity);
        self.summary.unknown = merged;
        for row in &mut self.summary.sources {
            row.host = hosts.resolve(&self.clues[row.clue as usize]);
        }
        // Plain files were merged under the name known when they were read; say so where a
        // name read later (an archive member, a YARN banner) decided otherwise.
        let mut changed: Vec<Problem> = self
            .plain_seen
            .iter()
            .filter(|(c, (_, then))| hosts.seen_as(&self.clues[**c as usize]) != then.as_deref())
            .map(|(c, (path, then))| Problem {
                path: path.clone(),
                message: format!(
                    "its findings are reported on host {} (decided from the paths given); names read later in archives or YARN banners say {}",
                    then.as_deref().unwrap_or("(none)"),
                    hosts.resolve(&self.clues[*c as usize]).as_deref().unwrap_or("(none)")
                ),
            })
            .collect();
        changed.sort_by(|a, b| a.path.cmp(&b.path));
        self.summary.warnings.extend(changed);
        self.summary.hosts = seen_as
            .into_iter()
            .map(|(name, seen)| HostRow {
                name,
                seen_as: seen.into_iter().collect(),
            })
            .collect();
        let ends: Vec<_> = ends
            .drain(..)
            .map(|(c, mut e)| {
                e.origin.host = hosts.resolve(&self.clues[c as usize]);
                e
            })
            .collect();
        all.extend(finding::silence::restart_gaps(&ends, rules, &clock));
        let silent = finding::silence::silences(&ends, &all, rules, &clock, story.silence_ms);
        all.extend(silent);
        self.suppress(&mut all, rules);
        all.retain(|f| f.severity(rules) >= min_severity);
        self.summary.max_severity = all
            .iter()
            .map(|f| f.severity(rules))
            .chain(self.summary.unknown.templates.iter().map(Unknown::severity))
            .max();
        finding::sort(&mut all, rules);
        self.summary.triage = finding::triage::triage(&all, rules);
        let fleet = finding::incident::Fleet {
            scenarios: story.scenarios,
            ends: &ends,
        };
        self.summary.incidents =
            finding::incident::incidents(&all, rules, story.incident_gap_ms, &clock, &fleet);
        self.summary.incident_gap_ms = story.incident_gap_ms;
        self.summary.scenarios = story.scenarios.clone();
        self.summary.clock = clock;
        self.summary.findings = all;
        self.summary.duration_ms = duration_ms;
        if let Some(keep) = &mut self.streams
            && let Err(e) = keep.finish()
        {
            self.summary.warnings.push(Problem {
                path: "(merge section)".to_string(),
                message: format!("the report's streams could not be packed: {e}"),
            });
            self.streams = None;
        }
        self.summary.streams = self.streams.take();
        self.summary
    }
}

/// Names the stream of a report's findings and unknown templates: stream `id` of the sweep.
fn renumber(r: &mut FileReport, id: u32) {
    for f in &mut r.findings {
        f.first_at.0 = id;
        f.files = vec![id];
        f.bursts.0.iter_mut().for_each(|b| b.at.0 = id);
        f.evidence.iter_mut().for_each(|(i, _)| *i = id);
    }
    for u in &mut r.unknown {
        u.first_at.0 = id;
        u.files = vec![id];
        u.evidence.iter_mut().for_each(|(i, _)| *i = id);
        u.bursts.0.iter_mut().for_each(|b| b.at.0 = id);
    }
}
