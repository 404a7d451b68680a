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
    pub fields: Fields,
    pub fingerprint: u64,
    /// The whole event (header and continuation lines, as read).
    pub event: &'a [u8],
    /// Offset in `event` of the rule's first literal hit.
    pub hit_at: usize,
}

/// Evidence text kept per event.
const MAX_EVIDENCE_BYTES: usize = 8 * 1024;
const MAX_EVIDENCE_LINES: usize = 60;

impl Hit<'_> {
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
            fields: self.fields.clone(),
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

/// The compiled rule set.
pub struct Matcher {
    pub rules: Vec<Rule>,
    /// All distinct literals, leftmost-first: the one pass over each buffer.
    scan: AhoCorasick,
    /// The same literals for overlapping search inside one event (which rules are candidates).
    overlap: AhoCorasick,
    /// For each literal, the rules that list it.
    literal_rules: Vec<Vec<u32>>,
    literals: Vec<String>,
}

/// What a rule's regex found in an event.
pub type Fields = Vec<(String, String)>;

impl Matcher {
    pub fn new(rules: Vec<Rule>) -> Result<Matcher, String> {
        let mut literals: Vec<String> = Vec::new();
        let mut literal_rules: Vec<Vec<u32>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (ri, r) in rules.iter().enumerate() {
            for l in &r.literals {
                let li = *index.entry(l.clone()).or_insert_with(|| {
                    literals.push(l.clone());
                    literal_rules.push(Vec::new());
                    literals.len() - 1
                });
                if !literal_rules[li].contains(&(ri as u32)) {
                    literal_rules[li].push(ri as u32);
                }
            }
        }
        let scan = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&literals)
            .map_err(|e| format!("cannot compile the literal set: {e}"))?;
        let overlap = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&literals)
            .map_err(|e| format!("cannot compile the literal set: {e}"))?;
        Ok(Matcher {
            rules,
            scan,
            overlap,
            literal_rules,
            literals,
        })
    }

    /// Offset of the next literal hit in `hay[from..to]`.
    #[inline]
    pub fn next_hit(&self, hay: &[u8], from: usize, to: usize) -> Option<usize> {
        if self.literals.is_empty() {
            return None;
        }
        self.scan
            .find(Input::new(hay).range(from..to))
            .map(|m| m.start())
    }

    /// The rules whose literals occur in `event`, in rule order, each with the offset of its
    /// first literal hit.
    pub fn candidates(&self, event: &[u8], out: &mut Vec<(u32, usize)>) {
        out.clear();
        for m in self.overlap.find_overlapping_iter(event) {
            for &r in &self.literal_rules[m.pattern().as_usize()] {
                match out.iter_mut().find(|(rr, _)| *rr == r) {
                    Some((_, at)) => *at = (*at).min(m.start()),
                    None => out.push((r, m.start())),
                }
            }
        }
        out.sort_unstable();
    }

    /// Runs rule `ri`'s level, `not_regex` and `regex` checks on an event; `Some(fields)` when
    /// the rule fires.
    pub fn confirm(&self, ri: u32, event: &[u8], level: Option<Level>) -> Option<Fields> {
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
            None => Some(Vec::new()),
            Some(re) if re.captures_len() == 1 || re.capture_names().flatten().next().is_none() => {
                re.is_match(event).then(Vec::new)
            }
            Some(re) => {
                let caps = re.captures(event)?;
                Some(
                    re.capture_names()
                        .flatten()
                        .filter_map(|n| {
                            caps.name(n).map(|m| {
                                let v = String::from_utf8_lossy(m.as_bytes());
                                (n.to_string(), v.trim_end_matches('\r').to_string())
                            })
                        })
                        .collect(),
                )
            }
        }
    }
}
