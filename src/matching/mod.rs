//! Matching: all rules compiled into one set. One Aho-Corasick automaton over every literal of
//! every rule finds candidate positions in a whole buffer at once; only for the event around a
//! hit are the candidate rules' regex, level and path filters run. The output of this stage is
//! an `Occurrence`: one rule firing on one event.

use aho_corasick::{AhoCorasick, Input, MatchKind};

use crate::event::{Level, Stamp};
use crate::rules::Rule;

/// One rule firing on one event.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// Index of the rule in the matcher's rule list.
    pub rule: u32,
    /// 1-based physical line of the event's header.
    pub line: u64,
    pub stamp: Option<Stamp>,
    /// The timestamp as written in the log.
    pub stamp_text: Option<String>,
    pub level: Option<Level>,
    /// The event's text (header and continuation lines, no `\r`), capped for evidence.
    pub text: String,
    /// The line that holds the literal hit, when it is not the header line.
    pub hit_line: Option<String>,
    /// The regex's named groups.
    pub fields: Vec<(String, String)>,
    pub fingerprint: u64,
}

/// A rule firing on one event, as the engine finds it: the event's bytes are borrowed from the
/// read buffer, and its text is copied out (`occurrence`) only when a consumer keeps it.
pub struct Hit<'a> {
    pub rule: u32,
    pub line: u64,
    pub stamp: Option<Stamp>,
    pub level: Option<Level>,
    pub fingerprint: u64,
    /// The whole event (header and continuation lines, as read).
    pub event: &'a [u8],
    /// Offset in `event` of the rule's first literal hit.
    pub hit_at: usize,
    /// The rule's regex, for its named groups (captured only when someone asks).
    pub regex: Option<&'a regex::bytes::Regex>,
    pub fields: std::cell::OnceCell<Fields>,
}

/// Evidence text kept per event.
const MAX_EVIDENCE_BYTES: usize = 8 * 1024;
const MAX_EVIDENCE_LINES: usize = 60;

impl Hit<'_> {
    /// The regex's named groups in this event.
    pub fn fields(&self) -> &Fields {
        self.fields.get_or_init(|| {
            self.regex
                .map(|re| captures(re, self.event))
                .unwrap_or_default()
        })
    }

    /// The owned form, with the event's text as evidence (lines without `\r`, capped).
    pub fn occurrence(&self) -> Occurrence {
        use crate::event::frame::{line_at, line_start};
        let header = line_at(self.event, 0, self.event.len());
        let hit_line = (self.hit_at > header.len()).then(|| {
            let ls = line_start(self.event, 0, self.hit_at);
            String::from_utf8_lossy(line_at(self.event, ls, self.event.len())).into_owned()
        });
        Occurrence {
            rule: self.rule,
            line: self.line,
            stamp: self.stamp,
            stamp_text: self
                .stamp
                .map(|s| String::from_utf8_lossy(&header[s.start..s.text_end]).into_owned()),
            level: self.level,
            text: evidence_text(self.event),
            hit_line,
            fields: self.fields().clone(),
            fingerprint: self.fingerprint,
        }
    }
}

/// The event as evidence: lines without `\r`, capped in lines and bytes.
fn evidence_text(event: &[u8]) -> String {
    use crate::event::frame::{line_at, next_line};
    let mut out = String::new();
    let mut p = 0;
    let mut n = 0;
    while p < event.len() {
        let l = line_at(event, p, event.len());
        if n == MAX_EVIDENCE_LINES || out.len() + l.len() > MAX_EVIDENCE_BYTES {
            if n == 0 {
                out.push_str(&String::from_utf8_lossy(&l[..MAX_EVIDENCE_BYTES]));
            }
            out.push_str("\n[...]");
            break;
        }
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&String::from_utf8_lossy(l));
        n += 1;
        p = next_line(event, p, event.len());
    }
    out
}

/// Most literals per SIMD searcher: past 64, aho-corasick stops using its Teddy searcher (4x
/// slower on the corpus, measured in BENCHMARKS.md). Groups are balanced below this size.
pub const LITERAL_GROUP_MAX: usize = 64;

/// Up to this many Teddy groups (passes) are faster than one DFA pass over all literals; past
/// it (large user packs), one DFA is used, whose speed does not depend on the literal count.
pub const MAX_TEDDY_GROUPS: usize = 6;

/// One SIMD searcher over a group of literals.
struct Group {
    ac: AhoCorasick,
    /// Per pattern: the rules to check when it is found — its own and those of the group's
    /// literals that are its prefixes (found at the same place, so not reported on their own:
    /// patterns are ordered longest first and the search is leftmost-first).
    rules: Vec<Vec<u32>>,
}

/// One pass of all literal groups over one buffer: each group's next hit is remembered, so
/// every group scans each byte at most once however often the caller asks.
pub struct LiteralCursor<'m> {
    groups: &'m [Group],
    /// Per group: (searched from, first hit at or after it: start and pattern).
    cache: Vec<(usize, Option<(usize, u32)>)>,
}

impl<'m> LiteralCursor<'m> {
    /// The next literal hit in `hay[from..to]`: its offset and the rules it makes candidates.
    /// Successive calls on one buffer must use the same `to` and non-decreasing `from`; every
    /// position where some literal starts is returned once when stepping `from = hit + 1`.
    #[inline]
    pub fn next_hit(&mut self, hay: &[u8], from: usize, to: usize) -> Option<(usize, &'m [u32])> {
        let mut best: Option<(usize, usize, u32)> = None;
        for (gi, (g, c)) in self.groups.iter().zip(self.cache.iter_mut()).enumerate() {
            let valid = c.0 <= from && c.1.is_none_or(|(h, _)| h >= from);
            if !valid {
                let found = g.ac.find(Input::new(hay).range(from..to));
                *c = (from, found.map(|m| (m.start(), m.pattern().as_u32())));
            }
            if let Some((h, p)) = c.1
                && best.is_none_or(|(b, _, _)| h < b)
            {
                best = Some((h, gi, p));
            }
        }
        best.map(|(h, gi, p)| (h, self.groups[gi].rules[p as usize].as_slice()))
    }
}

/// The compiled rule set.
pub struct Matcher {
    pub rules: Vec<Rule>,
    /// All distinct literals, in groups small enough for aho-corasick's SIMD (Teddy) searcher:
    /// together, the one literal pass over each buffer.
    groups: Vec<Group>,
}

/// What a rule's regex found in an event.
pub type Fields = Vec<(String, String)>;

impl Matcher {
    pub fn new(rules: Vec<Rule>) -> Result<Matcher, String> {
        let mut literal_rules: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
        for (ri, r) in rules.iter().enumerate() {
            for l in &r.literals {
                let v = literal_rules.entry(l.as_str()).or_default();
                if !v.contains(&(ri as u32)) {
                    v.push(ri as u32);
                }
            }
        }
        // Sorted literals chunked: literals sharing a prefix land in one group.
        let sorted: Vec<(&str, &Vec<u32>)> = literal_rules.iter().map(|(l, r)| (*l, r)).collect();
        let mut groups = Vec::new();
        let n_groups = sorted.len().div_ceil(LITERAL_GROUP_MAX).max(1);
        let (group_size, kind) = if n_groups <= MAX_TEDDY_GROUPS {
            // Teddy does the searching; the NFA behind it is cheaper to build than a DFA.
            (
                sorted.len().div_ceil(n_groups).max(1),
                aho_corasick::AhoCorasickKind::ContiguousNFA,
            )
        } else {
            (sorted.len(), aho_corasick::AhoCorasickKind::DFA)
        };
        for chunk in sorted.chunks(group_size) {
            let mut chunk = chunk.to_vec();
            chunk.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .kind(Some(kind))
                .build(chunk.iter().map(|(l, _)| l))
                .map_err(|e| format!("cannot compile the literal set: {e}"))?;
            let rules = chunk
                .iter()
                .map(|(l, _)| {
                    let mut rs: Vec<u32> = chunk
                        .iter()
                        .filter(|(p, _)| l.starts_with(p))
                        .flat_map(|(_, r)| r.iter().copied())
                        .collect();
                    rs.sort_unstable();
                    rs.dedup();
                    rs
                })
                .collect();
            groups.push(Group { ac, rules });
        }
        Ok(Matcher { rules, groups })
    }

    /// A cursor for one pass over one buffer (see `LiteralCursor::next_hit`).
    pub fn cursor(&self) -> LiteralCursor<'_> {
        LiteralCursor {
            groups: &self.groups,
            cache: vec![(usize::MAX, None); self.groups.len()],
        }
    }

    /// Runs rule `ri`'s level, `not_regex` and `regex` checks on an event. When the rule groups
    /// findings by captured fields, they are captured here (the fingerprint needs them);
    /// otherwise a cheaper match test confirms and the fields are captured later if asked for.
    pub fn confirm(&self, ri: u32, event: &[u8], level: Option<Level>) -> Option<Option<Fields>> {
        let rule = &self.rules[ri as usize];
        if let (Some(levels), Some(level)) = (&rule.levels, level)
            && !levels.contains(&level)
        {
            return None;
        }
        if rule.not_regex.as_ref().is_some_and(|re| re.is_match(event)) {
            return None;
        }
        match &rule.regex {
            None => Some(Some(Vec::new())),
            Some(re) if rule.group_by.is_empty() => re.is_match(event).then_some(None),
            Some(re) => re.is_match(event).then(|| Some(captures(re, event))),
        }
    }
}

/// The named groups of `re`'s first match in `event` (lossy text, no trailing `\r`).
fn captures(re: &regex::bytes::Regex, event: &[u8]) -> Fields {
    let Some(caps) = re.captures(event) else {
        return Vec::new();
    };
    re.capture_names()
        .flatten()
        .filter_map(|n| {
            caps.name(n).map(|m| {
                let v = String::from_utf8_lossy(m.as_bytes());
                (n.to_string(), v.trim_end_matches('\r').to_string())
            })
        })
        .collect()
}
