//! Unknown errors: events at an error level that no rule matched, grouped by template. Each
//! stream's are gathered as its scan finds them (`UnknownAggregator`, by masked template);
//! the sweep's are merged once every stream is in (`merge`): the same masked template across
//! streams is one, then templates that differ in one token are one (`templates::group`, which
//! does not depend on the order streams came in), each named by a stable id. Bounded: at most
//! `MAX_TEMPLATES_PER_STREAM` per stream and `MAX_TEMPLATES` in a report; the rest are counted
//! as "other", never dropped silently.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::aggregate::MAX_FILES_LISTED;
use super::templates;
use crate::event::{Level, Stamp};
use crate::matching::{Hit, Occurrence};
use crate::rules::Severity;
use crate::source::Origin;

/// Distinct templates kept per stream; the events of further ones are counted as "other".
pub const MAX_TEMPLATES_PER_STREAM: usize = 1000;
/// Templates a report lists; the rest are counted as "other".
pub const MAX_TEMPLATES: usize = 500;
/// Events whose masking is remembered per stream (exact repeats are masked once).
const MASK_CACHE: usize = 4096;
/// Bytes of an event (after its header) that its masking cache key holds; longer ones are
/// masked every time.
const KEY_BYTES: usize = 4096;

/// One template: every unknown event of one shape.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Unknown {
    /// The message with its variable parts masked (after `merge`: grouped, `<*>` where the
    /// templates merged differ).
    pub text: String,
    /// The exception of its stack trace (the last `Caused by:`).
    pub exception: Option<String>,
    /// Stable: a hash of the text and exception.
    pub id: String,
    /// The most severe level seen.
    pub level: Level,
    pub count: u64,
    pub first_seen: Option<(i64, Stamp)>,
    pub last_seen: Option<(i64, Stamp)>,
    /// (stream index, line) of the first occurrence in input order.
    pub first_at: (u32, u64),
    pub evidence: Vec<(u32, Occurrence)>,
    pub files: Vec<u32>,
    pub files_total: u64,
    /// The first occurrence's origin (its host once the sweep named it).
    pub origin: Origin,
    #[serde(with = "crate::source::origin::static_names")]
    pub services: crate::source::origin::StaticNames,
    pub hosts: BTreeSet<String>,
    /// When it happened, folded into bursts, for the sweep's timeline.
    pub bursts: super::timeline::Bursts,
}

/// An unknown event's severity by its level: `low` for errors (and console exceptions, which
/// have no level), `info` for warnings; below the default `--fail-on medium`.
pub fn severity_of(level: Option<Level>) -> Severity {
    if level.is_none_or(|l| l >= Level::Error) {
        Severity::Low
    } else {
        Severity::Info
    }
}

impl Unknown {
    pub fn severity(&self) -> Severity {
        severity_of(Some(self.level))
    }

    fn see(&mut self, stamp: Option<Stamp>) {
        super::aggregate::see(&mut self.first_seen, &mut self.last_seen, stamp);
    }

    pub fn merge(&mut self, other: Unknown, max_evidence: usize) {
        self.count += other.count;
        self.level = self.level.max(other.level);
        for s in [other.first_seen, other.last_seen].into_iter().flatten() {
            self.see(Some(s.1));
        }
        if other.first_at < self.first_at {
            self.first_at = other.first_at;
        }
        for f in other.files {
            if !self.files.contains(&f) {
                self.files_total += 1;
                if self.files.len() < MAX_FILES_LISTED {
                    self.files.push(f);
                }
            }
        }
        self.evidence.extend(other.evidence);
        self.evidence.sort_by_key(|(f, o)| (*f, o.line));
        if max_evidence != 0 {
            self.evidence.truncate(max_evidence);
        }
        self.services.extend(other.services);
        self.hosts.extend(other.hosts);
        self.bursts.merge(other.bursts);
    }
}

/// The unknown errors of one stream, in order of first occurrence.
pub struct UnknownAggregator {
    file: u32,
    origin: Origin,
    max_evidence: usize,
    pub templates: Vec<Unknown>,
    by_template: HashMap<(String, Option<String>), usize>,
    cache: HashMap<Vec<u8>, usize>,
    /// Events of templates past `MAX_TEMPLATES_PER_STREAM`.
    pub other: u64,
}

impl UnknownAggregator {
    pub fn new(file: u32, origin: Origin, max_evidence: usize) -> Self {
        UnknownAggregator {
            file,
            origin,
            max_evidence,
            templates: Vec::new(),
            by_template: HashMap::new(),
            cache: HashMap::new(),
            other: 0,
        }
    }

    /// Adds one unknown event; returns its template (`templates` index), None when past the
    /// bound.
    pub fn push(&mut self, hit: &Hit) -> Option<usize> {
        let header_end = memchr::memchr(b'\n', hit.event).unwrap_or(hit.event.len());
        let (header, rest) = hit.event.split_at(header_end);
        let header = header.strip_suffix(b"\r").unwrap_or(header);
        let key = (rest.len() <= KEY_BYTES).then(|| {
            // The timestamp varies on every line: the key starts after it.
            let from = hit.stamp.map_or(0, |s| s.text_end.min(header.len()));
            let mut k = header[from..].to_vec();
            k.extend_from_slice(rest);
            k
        });
        let cached = key.as_ref().and_then(|k| self.cache.get(k)).copied();
        let i = match cached {
            Some(i) => i,
            None => {
                let header_text = String::from_utf8_lossy(header);
                let event_text = String::from_utf8_lossy(hit.event);
                let m = templates::mask(templates::message_of(&header_text), &event_text);
                let t = (m.text, m.exception);
                let i = match self.by_template.get(&t) {
                    Some(&i) => i,
                    None if self.templates.len() >= MAX_TEMPLATES_PER_STREAM => {
                        self.other += 1;
                        return None;
                    }
                    None => {
                        let id = templates::template_id(&t.0, t.1.as_deref());
                        self.templates.push(Unknown {
                            text: t.0.clone(),
                            exception: t.1.clone(),
                            id,
                            level: hit.level.unwrap_or(Level::Error),
                            count: 0,
                            first_seen: None,
                            last_seen: None,
                            first_at: (self.file, hit.line),
                            evidence: Vec::new(),
                            files: vec![self.file],
                            files_total: 1,
                            origin: self.origin.clone(),
                            services: self.origin.service.into_iter().collect(),
                            hosts: BTreeSet::new(),
                            bursts: Default::default(),
                        });
                        self.by_template.insert(t, self.templates.len() - 1);
                        self.templates.len() - 1
                    }
                };
                if let Some(k) = key {
                    if self.cache.len() >= MASK_CACHE {
                        self.cache.clear();
                    }
                    self.cache.insert(k, i);
                }
                i
            }
        };
        let u = &mut self.templates[i];
        u.count += 1;
        u.see(hit.stamp);
        u.bursts.add(hit.stamp, (self.file, hit.line));
        if let Some(l) = hit.level {
            u.level = u.level.max(l);
        }
        if self.max_evidence == 0 || u.evidence.len() < self.max_evidence {
            let mut o = hit.occurrence();
            o.template = Some(Box::new((u.text.clone(), u.id.clone())));
            u.evidence.push((self.file, o));
        }
        Some(i)
    }
}

/// Joins the unknown templates of consecutive parts of one stream (line numbers counted from
/// each part's start, and the lines before it), one part at a time.
#[derive(Default)]
pub struct PartsMerger {
    out: Vec<Unknown>,
    index: HashMap<(String, Option<String>), usize>,
}

impl PartsMerger {
    pub fn push(&mut self, lines_before: u64, templates: Vec<Unknown>, max_evidence: usize) {
        for mut u in templates {
            u.first_at.1 += lines_before;
            for (_, o) in &mut u.evidence {
                o.line += lines_before;
            }
            u.bursts.normalise();
            for b in &mut u.bursts.0 {
                b.at.1 += lines_before;
            }
            let key = (u.text.clone(), u.exception.clone());
            match self.index.get(&key) {
                Some(&i) => self.out[i].merge(u, max_evidence),
                None => {
                    self.index.insert(key, self.out.len());
                    self.out.push(u);
                }
            }
        }
    }

    pub fn finish(self) -> Vec<Unknown> {
        self.out
    }
}

/// What a report lists of the sweep's unknown errors.
#[derive(Debug, Default)]
pub struct Merged {
    pub templates: Vec<Unknown>,
    /// Templates and events past `MAX_TEMPLATES` (and past the per-stream bound).
    pub other_templates: u64,
    pub other_events: u64,
}

/// Merges every stream's templates (in input order): one per shape, grouped token by token,
/// sorted most severe level first, then by count, then by first occurrence.
pub fn merge(streams: Vec<Vec<Unknown>>, other_events: u64, max_evidence: usize) -> Merged {
    // Same masked template in several streams: one.
    let mut by_masked: BTreeMap<(String, Option<String>), Unknown> = BTreeMap::new();
    for templates in streams {
        for u in templates {
            let key = (u.text.clone(), u.exception.clone());
            match by_masked.get_mut(&key) {
                Some(have) => have.merge(u, max_evidence),
                None => {
                    by_masked.insert(key, u);
                }
            }
        }
    }
    // Templates that differ in one token: one, whatever order they came in.
    let keys: Vec<(String, Option<String>)> = by_masked.keys().cloned().collect();
    let grouped = templates::group(&keys);
    let mut by_final: BTreeMap<(String, Option<String>), Unknown> = BTreeMap::new();
    for (masked, text) in keys.iter().zip(grouped) {
        let Some(mut u) = by_masked.remove(masked) else {
            continue;
        };
        let exception = &masked.1;
        let key = (text.clone(), exception.clone());
        match by_final.get_mut(&key) {
            Some(have) => have.merge(u, max_evidence),
            None => {
                u.id = templates::template_id(&text, exception.as_deref());
                u.text = text;
                by_final.insert(key, u);
            }
        }
    }
    let mut all: Vec<Unknown> = by_final.into_values().collect();
    all.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.count.cmp(&a.count))
            .then(a.first_at.cmp(&b.first_at))
            .then(a.id.cmp(&b.id))
    });
    let mut merged = Merged {
        other_events,
        ..Merged::default()
    };
    if all.len() > MAX_TEMPLATES {
        for u in all.drain(MAX_TEMPLATES..) {
            merged.other_templates += 1;
            merged.other_events += u.count;
        }
    }
    merged.templates = all;
    merged
}
