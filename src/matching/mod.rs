//! Matching: all rules compiled into one set. One SIMD multi-literal pass over a whole buffer
//! finds candidate positions: it looks for a short anchor of each literal (`anchors` chooses
//! them, few and rare) and checks the literals behind each anchor found. Only for the event
//! around a hit are the candidate rules' regex, level and path filters run. The output of this
//! stage is an `Occurrence`: one rule firing on one event.

pub mod anchors;

use aho_corasick::{AhoCorasick, Input, MatchKind};

use crate::event::{Level, Stamp};
use crate::rules::Rule;

/// The rule index of an error event no rule matched (an "unknown error", see `UnknownMode`).
pub const UNKNOWN: u32 = u32::MAX;

/// Which events no rule matched are reported as unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnknownMode {
    Off,
    /// ERROR, FATAL, SEVERE, PANIC, CRITICAL (as the layout gives the level), and console
    /// output's `Exception in thread "..."` headers.
    #[default]
    Error,
    /// Those and WARN.
    Warn,
}

/// Literals that make an event a candidate for being an unknown error: the level words as
/// they are written (the layout then reads the level itself).
const ERROR_PROBES: &[&str] = &[
    "ERROR",
    "FATAL",
    "SEVERE",
    "PANIC",
    "CRITICAL",
    "Exception in thread",
];
const WARN_PROBES: &[&str] = &["WARN"];

impl UnknownMode {
    /// Is an event with this level (and header) one this mode reports when no rule matched it?
    pub fn wants(self, level: Option<Level>, header: &[u8]) -> bool {
        match (self, level) {
            (UnknownMode::Off, _) => false,
            (_, Some(Level::Error | Level::Fatal | Level::Panic)) => true,
            (UnknownMode::Warn, Some(Level::Warn)) => true,
            (_, Some(_)) => false,
            // Console output without levels: an uncaught exception's header.
            (_, None) => header.starts_with(b"Exception in thread \""),
        }
    }
}

/// One rule firing on one event.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    /// An unknown error's template (masked text, id), as its stream's scan saw it.
    pub template: Option<Box<(String, String)>>,
    /// The phase its stream was in, for a rule expected there (`finding::phase`).
    pub phase: Option<crate::finding::phase::Phase>,
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
    /// For a start-up marker (`marks = "starting"`): the time of the last timed line before
    /// it, for a gap that says the daemon was down (`finding::silence`).
    pub prev_stamp: Option<crate::event::Stamp>,
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
            template: None,
            phase: None,
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
    // Kept for the whole sweep (evidence): no spare capacity.
    out.shrink_to_fit();
    out
}

/// Most anchors per SIMD searcher: past 64 patterns, aho-corasick stops using its Teddy searcher
/// (4x slower on the corpus, measured in BENCHMARKS.md). Groups are balanced below this size.
pub const ANCHOR_GROUP_MAX: usize = 64;

/// Up to this many Teddy groups (passes) are faster than one DFA pass over all anchors; past it
/// (large user packs), one DFA is used, whose speed does not depend on the pattern count.
pub const MAX_TEDDY_GROUPS: usize = 6;

/// A distinct literal of the rule set, and the rules it makes candidates.
struct Literal {
    bytes: Box<[u8]>,
    rules: Vec<u32>,
}

/// A literal to check where an anchor is found: its index and the anchor's offset in it.
type Check = (u32, u32);

/// One SIMD searcher over a group of anchors (see `anchors`).
struct Group {
    ac: AhoCorasick,
    /// Per pattern: the literals to check where it is found, with the anchor's offset in each —
    /// its own and those of the group's anchors that are its prefixes (found at the same place,
    /// so not reported on their own: patterns are ordered longest first, leftmost-first search).
    checks: Vec<Vec<Check>>,
}

/// Is `lit` in `hay` with its anchor (at offset `off` in it) at `at`, ending by `to`?
#[inline]
fn literal_at(hay: &[u8], at: usize, lit: &[u8], off: u32, to: usize) -> bool {
    let off = off as usize;
    if at < off || at - off + lit.len() > to {
        return false;
    }
    let here = &hay[at - off..at - off + lit.len()];
    // Most candidates differ at an end: check both before comparing the whole.
    here.first() == lit.first() && here.last() == lit.last() && here == lit
}

impl Group {
    /// The first anchor in `hay[from..to]` where one of its literals is: position and pattern.
    fn find(
        &self,
        literals: &[Literal],
        hay: &[u8],
        from: usize,
        to: usize,
    ) -> Option<(usize, u32)> {
        let mut at = from;
        while let Some(m) = self.ac.find(Input::new(hay).range(at..to)) {
            let (p, pat) = (m.start(), m.pattern().as_u32());
            if self.checks[pat as usize]
                .iter()
                .any(|&(li, off)| literal_at(hay, p, &literals[li as usize].bytes, off, to))
            {
                return Some((p, pat));
            }
            at = p + 1;
        }
        None
    }
}

/// One pass of all anchor groups over one buffer: each group's next hit is remembered, so
/// every group scans each byte at most once however often the caller asks.
pub struct LiteralCursor<'m> {
    matcher: &'m Matcher,
    /// Per group: (searched from, first verified anchor at or after it: position and pattern).
    cache: Vec<(usize, Option<(usize, u32)>)>,
    /// The rules of several literals found at one place.
    rules: Vec<u32>,
}

impl LiteralCursor<'_> {
    /// The next literal hit in `hay[from..to]`: the offset of its anchor (on the literal's line)
    /// and the rules it makes candidates. Successive calls on one buffer must use the same `to`
    /// and non-decreasing `from`; every literal occurrence is returned once when stepping
    /// `from = hit + 1`.
    #[inline]
    pub fn next_hit(&mut self, hay: &[u8], from: usize, to: usize) -> Option<(usize, &[u32])> {
        let m = self.matcher;
        let mut best: Option<usize> = None;
        for (g, c) in m.groups.iter().zip(self.cache.iter_mut()) {
            let valid = c.0 <= from && c.1.is_none_or(|(h, _)| h >= from);
            if !valid {
                *c = (from, g.find(&m.literals, hay, from, to));
            }
            if let Some((h, _)) = c.1
                && best.is_none_or(|b| h < b)
            {
                best = Some(h);
            }
        }
        let at = best?;
        // The literals found at `at` (usually one: its rules are returned as they are).
        let mut found: Option<&[u32]> = None;
        self.rules.clear();
        for (g, c) in m.groups.iter().zip(self.cache.iter()) {
            let Some((h, pat)) = c.1.filter(|(h, _)| *h == at) else {
                continue;
            };
            for &(li, off) in &g.checks[pat as usize] {
                let lit = &m.literals[li as usize];
                if literal_at(hay, h, &lit.bytes, off, to) {
                    match found {
                        None if self.rules.is_empty() => found = Some(&lit.rules),
                        _ => {
                            self.rules.extend(found.take().into_iter().flatten());
                            self.rules.extend(&lit.rules);
                        }
                    }
                }
            }
        }
        if let Some(rules) = found {
            return Some((at, rules));
        }
        self.rules.sort_unstable();
        self.rules.dedup();
        Some((at, &self.rules))
    }
}

/// The compiled rule set.
pub struct Matcher {
    pub rules: Vec<Rule>,
    /// Which events no rule matched are reported (their level words are in the literal pass).
    pub unknown: UnknownMode,
    literals: Vec<Literal>,
    /// The anchors of all literals, in groups small enough for aho-corasick's SIMD (Teddy)
    /// searcher: together, the one literal pass over each buffer.
    groups: Vec<Group>,
}

/// What a rule's regex found in an event.
pub type Fields = Vec<(String, String)>;

impl Matcher {
    /// Compiles `rules`, choosing the literal pass's anchors with the built-in model of log text.
    pub fn new(rules: Vec<Rule>) -> Result<Matcher, String> {
        Matcher::tuned(rules, b"")
    }

    /// Compiles `rules`, choosing anchors that are rare in `sample` (text of the logs about to
    /// be scanned) as well as in the built-in model. Only speed depends on the sample.
    pub fn tuned(rules: Vec<Rule>, sample: &[u8]) -> Result<Matcher, String> {
        Matcher::with_unknown(rules, sample, UnknownMode::Off)
    }

    /// As `tuned`; events no rule matched are found as `unknown` says.
    pub fn with_unknown(
        rules: Vec<Rule>,
        sample: &[u8],
        unknown: UnknownMode,
    ) -> Result<Matcher, String> {
        let mut literal_rules: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
        for (ri, r) in rules.iter().enumerate() {
            for l in &r.literals {
                let v = literal_rules.entry(l.as_str()).or_default();
                if !v.contains(&(ri as u32)) {
                    v.push(ri as u32);
                }
            }
        }
        let probes: &[&[&str]] = match unknown {
            UnknownMode::Off => &[],
            UnknownMode::Error => &[ERROR_PROBES],
            UnknownMode::Warn => &[ERROR_PROBES, WARN_PROBES],
        };
        for p in probes.iter().copied().flatten() {
            literal_rules.entry(p).or_default().push(UNKNOWN);
        }
        let literals: Vec<Literal> = literal_rules
            .into_iter()
            .map(|(l, rules)| Literal {
                bytes: l.as_bytes().into(),
                rules,
            })
            .collect();
        let literal_bytes: Vec<&[u8]> = literals.iter().map(|l| &*l.bytes).collect();
        let chosen = anchors::choose(&literal_bytes, sample);
        // Per anchor: the literals it stands for.
        let mut stands_for: Vec<Vec<Check>> = vec![Vec::new(); chosen.anchors.len()];
        for (li, &(ai, off)) in chosen.of_literal.iter().enumerate() {
            stands_for[ai].push((li as u32, off as u32));
        }
        // Sorted anchors chunked: anchors sharing a prefix land in one group.
        let mut sorted: Vec<(&[u8], &Vec<Check>)> = chosen
            .anchors
            .iter()
            .map(|a| a.as_slice())
            .zip(stands_for.iter())
            .collect();
        sorted.sort();
        let n_groups = sorted.len().div_ceil(ANCHOR_GROUP_MAX).max(1);
        let (group_size, kind) = if n_groups <= MAX_TEDDY_GROUPS {
            // Teddy does the searching; the NFA behind it is cheaper to build than a DFA.
            (
                sorted.len().div_ceil(n_groups).max(1),
                aho_corasick::AhoCorasickKind::ContiguousNFA,
            )
        } else {
            (sorted.len().max(1), aho_corasick::AhoCorasickKind::DFA)
        };
        let mut groups = Vec::new();
        for chunk in sorted.chunks(group_size) {
            let mut chunk = chunk.to_vec();
            chunk.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .kind(Some(kind))
                .build(chunk.iter().map(|(a, _)| a))
                .map_err(|e| format!("cannot compile the literal set: {e}"))?;
            let checks = chunk
                .iter()
                .map(|(a, _)| {
                    chunk
                        .iter()
                        .filter(|(p, _)| a.starts_with(p))
                        .flat_map(|(_, lits)| lits.iter().copied())
                        .collect()
                })
                .collect();
            groups.push(Group { ac, checks });
        }
        Ok(Matcher {
            rules,
            unknown,
            literals,
            groups,
        })
    }

    /// Per rule: does it apply to a file at `path` (its `files` globs)?
    pub fn rules_for_path(&self, path: &str) -> Vec<bool> {
        self.rules.iter().map(|r| r.applies_to(path)).collect()
    }

    /// A cursor for one pass over one buffer (see `LiteralCursor::next_hit`).
    pub fn cursor(&self) -> LiteralCursor<'_> {
        LiteralCursor {
            matcher: self,
            cache: vec![(usize::MAX, None); self.groups.len()],
            rules: Vec::new(),
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
            // One search that both confirms and captures (a grouped rule needs its fields for
            // every occurrence's fingerprint).
            Some(re) => re.captures(event).map(|caps| Some(fields_of(re, &caps))),
        }
    }
}

/// The named groups of `re`'s first match in `event` (lossy text, no trailing `\r`).
fn captures(re: &regex::bytes::Regex, event: &[u8]) -> Fields {
    match re.captures(event) {
        Some(caps) => fields_of(re, &caps),
        None => Vec::new(),
    }
}

fn fields_of(re: &regex::bytes::Regex, caps: &regex::bytes::Captures) -> Fields {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Per line of `text`: the rules the cursor makes candidates.
    fn cursor_rules_by_line(m: &Matcher, text: &[u8]) -> Vec<BTreeSet<u32>> {
        let starts: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text).map(|i| i + 1))
            .collect();
        let mut out = vec![BTreeSet::new(); starts.len()];
        let mut c = m.cursor();
        let mut from = 0;
        while let Some((at, rules)) = c.next_hit(text, from, text.len()) {
            let line = starts.partition_point(|&s| s <= at) - 1;
            out[line].extend(rules.iter().copied());
            from = at + 1;
        }
        out
    }

    /// The same by searching every literal in every line.
    fn naive_rules_by_line(m: &Matcher, text: &[u8]) -> Vec<BTreeSet<u32>> {
        text.split(|&b| b == b'\n')
            .map(|line| {
                m.literals
                    .iter()
                    .filter(|l| memchr::memmem::find(line, &l.bytes).is_some())
                    .flat_map(|l| l.rules.iter().copied())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn cursor_finds_what_searching_every_literal_finds() {
        let rules = || crate::rules::load(&[], false).expect("built-in packs");
        let probe = Matcher::new(rules()).unwrap();
        // Each literal alone, two on one line, one cut short, one at the very end.
        let mut text = Vec::new();
        let lits: Vec<&[u8]> = probe.literals.iter().map(|l| &*l.bytes).collect();
        for (i, l) in lits.iter().enumerate() {
            text.extend_from_slice(b"2026-11-28 03:00:00,000 WARN x: ");
            text.extend_from_slice(l);
            if i % 3 == 0 {
                text.extend_from_slice(b" and ");
                text.extend_from_slice(lits[(i * 7 + 1) % lits.len()]);
            }
            text.extend_from_slice(b"\n");
            text.extend_from_slice(&l[..l.len() - 1]);
            text.extend_from_slice(b"\n");
        }
        text.extend_from_slice(lits[5]);
        // Tuned to nothing, and tuned to a sample made of the literals themselves (every
        // anchor then looks common, the cover changes).
        for sample in [&b""[..], &text] {
            let m = Matcher::tuned(rules(), sample).unwrap();
            let found = cursor_rules_by_line(&m, &text);
            let expected = naive_rules_by_line(&m, &text);
            assert_eq!(found.len(), expected.len());
            for (i, (f, e)) in found.iter().zip(&expected).enumerate() {
                assert_eq!(f, e, "line {}", i + 1);
            }
            assert!(expected.iter().filter(|r| !r.is_empty()).count() > lits.len());
        }
    }

    #[test]
    fn short_overlapping_and_many_literals_are_all_found() {
        // A 3-byte literal (its own anchor, a prefix of other anchors), literals inside one
        // another, and 700 generated ones (several SIMD groups).
        let mut pack = String::new();
        let mut lits: Vec<String> = ["abc", "abcdef", "xabcdefy", "cdef", "Too many open files"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        lits.extend((0..700).map(|i| format!("w{} fault {i:04} seen", i % 13)));
        for (i, l) in lits.iter().enumerate() {
            pack.push_str(&format!(
                "[[rule]]\nid = \"t.r{i}\"\ntitle = \"t\"\nseverity = \"low\"\n\
                 component = \"app\"\nlayer = \"application\"\nliterals = [{l:?}]\n\
                 runbook = [\"none\"]\n\n"
            ));
        }
        let rules = crate::rules::pack::parse_pack("t.toml", &pack).expect("pack parses");
        let mut text = b"xabcdefy\nab abc abcde\nzcdefabcdef\n".to_vec();
        for (i, l) in lits.iter().enumerate().step_by(7) {
            text.extend_from_slice(format!("{i} {l} {}\n", &l[..l.len() - 1]).as_bytes());
        }
        let m = Matcher::tuned(rules, &text).unwrap();
        assert!(m.groups.len() > 1, "{} groups", m.groups.len());
        assert_eq!(
            cursor_rules_by_line(&m, &text),
            naive_rules_by_line(&m, &text)
        );
    }

    fn pack_of(lits: &[String]) -> Vec<Rule> {
        let mut pack = String::new();
        for (i, l) in lits.iter().enumerate() {
            pack.push_str(&format!(
                "[[rule]]\nid = \"t.r{i}\"\ntitle = \"t\"\nseverity = \"low\"\n\
                 component = \"app\"\nlayer = \"application\"\nliterals = [{l:?}]\n\
                 runbook = [\"none\"]\n\n"
            ));
        }
        crate::rules::pack::parse_pack("t.toml", &pack).expect("pack parses")
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Over a 3-letter alphabet literals overlap, nest and share anchors everywhere: the
        /// anchor pass must still find exactly what a search for every literal finds, whatever
        /// the sample it was tuned to.
        #[test]
        fn anchor_pass_equals_naive_search(
            lits in proptest::collection::vec("[abc][abc ]{1,8}[abc]", 1..40),
            pieces in proptest::collection::vec((0usize..1000, "[abc \n]{0,6}"), 0..80),
            sample in "[abc \n]{0,200}",
        ) {
            let m = Matcher::tuned(pack_of(&lits), sample.as_bytes()).unwrap();
            // Literals (some cut short) between random bits of text.
            let mut text = Vec::new();
            for (i, junk) in &pieces {
                let l = lits[i % lits.len()].as_bytes();
                text.extend_from_slice(if i % 4 == 0 { &l[..l.len() - 1] } else { l });
                text.extend_from_slice(junk.as_bytes());
            }
            let text = &text[..];
            proptest::prop_assert_eq!(
                cursor_rules_by_line(&m, text),
                naive_rules_by_line(&m, text)
            );
        }
    }

    #[test]
    fn a_literal_must_end_by_the_search_bound() {
        let m = Matcher::new(crate::rules::load(&[], false).unwrap()).unwrap();
        let text = b"x Too many open files\n";
        let mut c = m.cursor();
        assert!(c.next_hit(text, 0, text.len()).is_some());
        let mut c = m.cursor();
        assert!(c.next_hit(text, 0, text.len() - 3).is_none());
    }
}
