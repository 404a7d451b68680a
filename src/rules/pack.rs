//! The rule-pack TOML schema (documented in `rules/README.md`) and its validation. Every error
//! names the pack file, the 1-based line and, when known, the rule id.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::{Example, Follows, Layer, Rule, Severity, Threshold};
use crate::event::Level;
use crate::finding::phase::{Mark, Phase};

/// Regexes from packs are data: keep their compiled size bounded.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_DFA_LIMIT: usize = 2 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    pub file: String,
    pub line: usize,
    pub rule: Option<String>,
    pub message: String,
}

impl PackError {
    pub fn new(file: &str, line: usize, rule: Option<&str>, message: impl Into<String>) -> Self {
        PackError {
            file: file.to_string(),
            line,
            rule: rule.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(r) = &self.rule {
            write!(f, ": rule {r}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: Option<PackDefaults>,
    #[serde(default)]
    rule: Vec<Spanned<RuleDef>>,
    /// Run Book scenarios and the roles they count: allowed here, read by `rules::scenario`.
    #[allow(dead_code)]
    #[serde(default)]
    scenario: Vec<toml::Value>,
    #[allow(dead_code)]
    #[serde(default)]
    role: Vec<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackDefaults {
    component: Option<String>,
    layer: Option<Layer>,
    /// Accepted to document a pack; not shown anywhere yet.
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    id: String,
    title: String,
    severity: Severity,
    component: Option<String>,
    layer: Option<Layer>,
    #[serde(default)]
    literals: Vec<String>,
    regex: Option<String>,
    not_regex: Option<String>,
    levels: Option<Vec<String>>,
    files: Option<Vec<String>>,
    not_files: Option<Vec<String>>,
    summary: Option<String>,
    #[serde(default)]
    group_by: Vec<String>,
    threshold: Option<ThresholdDef>,
    description: Option<String>,
    #[serde(default)]
    runbook: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    examples: Vec<Spanned<ExampleDef>>,
    marks: Option<Mark>,
    #[serde(default)]
    expected_in: Vec<Phase>,
    follows: Option<FollowsDef>,
    raised_by: Option<super::RaisedBy>,
    effect: Option<EffectDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EffectDef {
    is: super::EffectKind,
    role: Option<String>,
    host: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowsDef {
    rules: Vec<String>,
    within: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdDef {
    count: u32,
    within: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleDef {
    text: String,
    expect: String,
    path: Option<String>,
}

/// 1-based line numbers of byte offsets in one pack's (or config file's) text.
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    pub(crate) fn new(text: &str) -> Lines {
        Lines(memchr::memchr_iter(b'\n', text.as_bytes()).collect())
    }

    pub(crate) fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

/// The id of the `[[rule]]` table enclosing `offset`, read from the text (for syntax errors).
fn rule_id_near(text: &str, offset: usize) -> Option<String> {
    let head = &text[..offset.min(text.len())];
    let start = head.rfind("[[rule]]")?;
    let table_end = text[start + 8..]
        .find("\n[")
        .map_or(text.len(), |i| start + 8 + i);
    let table = &text[start..table_end];
    let at = table.find("\nid")?;
    let rest = &table[at + 3..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[q.len_utf8()..];
    Some(rest[..rest.find(q)?].to_string())
}

/// Parses a duration such as `30s`, `5m`, `2h`, `1d` into milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    let mult = match unit.trim() {
        "ms" => 1,
        "s" | "sec" | "secs" => 1000,
        "m" | "min" | "mins" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn compile(pattern: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .build()
        .map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid regex")
                .trim()
                .to_string()
        })
}

/// Parses and validates one pack. `label` names it in errors.
pub fn parse_pack(label: &str, text: &str) -> Result<Vec<Rule>, Vec<PackError>> {
    let file: PackFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let rule = rule_id_near(text, offset);
        vec![PackError::new(
            label,
            Lines::new(text).of(offset),
            rule.as_deref(),
            e.message().trim().to_string(),
        )]
    })?;
    let defaults = file.pack;
    let lines = Lines::new(text);
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for spanned in file.rule {
        let line = lines.of(spanned.span().start);
        let def = spanned.into_inner();
        let id = def.id.clone();
        let err = |m: String| PackError::new(label, line, Some(&id), m);
        let bad = |m: String, errors: &mut Vec<PackError>| errors.push(err(m));
        let n_errors = errors.len();

        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        {
            bad(
                "id must be non-empty lower-case letters, digits, '.', '-' or '_'".into(),
                &mut errors,
            );
        }
        match (def.raised_by, def.literals.is_empty()) {
            (None, true) => bad(
                "no literals: a rule needs at least one literal to be found".into(),
                &mut errors,
            ),
            (Some(_), false) => bad(
                "a rule raised by the analysis (raised_by) has no literals: no line raises it"
                    .into(),
                &mut errors,
            ),
            _ => {}
        }
        if def.raised_by.is_some() && !def.examples.is_empty() {
            bad(
                "a rule raised by the analysis (raised_by) has no text examples: its tests are the analysis's".into(),
                &mut errors,
            );
        }
        for l in &def.literals {
            if l.trim().len() < 3 || l.contains('\n') {
                bad(
                    format!("literal {l:?} is too short or spans lines"),
                    &mut errors,
                );
            }
        }
        if def.runbook.is_empty() {
            bad(
                "no runbook steps: a rule must say what to do".into(),
                &mut errors,
            );
        }
        let component = def
            .component
            .or_else(|| defaults.as_ref().and_then(|d| d.component.clone()))
            .unwrap_or_default();
        if component.is_empty() {
            bad(
                "no component (set it on the rule or in [pack])".into(),
                &mut errors,
            );
        }
        let layer = def
            .layer
            .or_else(|| defaults.as_ref().and_then(|d| d.layer));
        if layer.is_none() {
            bad(
                "no layer (set it on the rule or in [pack])".into(),
                &mut errors,
            );
        }
        let regex = match def.regex.as_deref().map(compile).transpose() {
            Ok(r) => r,
            Err(e) => {
                bad(format!("regex does not compile: {e}"), &mut errors);
                None
            }
        };
        let not_regex = match def.not_regex.as_deref().map(compile).transpose() {
            Ok(r) => r,
            Err(e) => {
                bad(format!("not_regex does not compile: {e}"), &mut errors);
                None
            }
        };
        let names: Vec<&str> = regex
            .as_ref()
            .map(|r| r.capture_names().flatten().collect())
            .unwrap_or_default();
        // A rule the analysis raises has the analysis's fields (`finding::silence`).
        for g in def.group_by.iter().filter(|_| def.raised_by.is_none()) {
            if !names.contains(&g.as_str()) {
                bad(
                    format!("group_by field {g:?} is not a named group of the regex"),
                    &mut errors,
                );
            }
        }
        let levels = match def.levels {
            Some(ls) => {
                let mut out = Vec::new();
                for l in ls {
                    match Level::from_name(&l) {
                        Some(lv) => out.push(lv),
                        None => bad(format!("unknown level {l:?}"), &mut errors),
                    }
                }
                Some(out)
            }
            None => None,
        };
        let mut glob_set = |globs: Option<Vec<String>>, field: &str| {
            let globs = globs?;
            let mut b = globset::GlobSetBuilder::new();
            for g in &globs {
                match globset::Glob::new(g) {
                    Ok(g) => {
                        b.add(g);
                    }
                    Err(e) => bad(format!("bad {field} glob {g:?}: {e}"), &mut errors),
                }
            }
            b.build().ok()
        };
        let files = glob_set(def.files, "files");
        let not_files = glob_set(def.not_files, "not_files");
        let threshold = match def.threshold {
            Some(t) => match parse_duration_ms(&t.within) {
                Some(ms) if t.count >= 1 => Some(Threshold {
                    count: t.count,
                    within_ms: ms,
                    within: t.within,
                }),
                _ => {
                    bad(
                        format!(
                            "threshold needs count >= 1 and a duration such as \"5m\", not {:?}",
                            t.within
                        ),
                        &mut errors,
                    );
                    None
                }
            },
            None => None,
        };
        let follows = match def.follows {
            Some(f) => match parse_duration_ms(&f.within) {
                Some(ms) if !f.rules.is_empty() => Some(Follows {
                    rules: f.rules,
                    within_ms: ms,
                    within: f.within,
                }),
                _ => {
                    bad(
                        format!(
                            "follows needs rules (ids or prefixes ending in *) and a duration such as \"10m\", not {:?}",
                            f.within
                        ),
                        &mut errors,
                    );
                    None
                }
            },
            None => None,
        };
        let effect = def.effect.map(|e| super::Effect {
            is: e.is,
            role: e.role,
            host_field: e.host,
        });
        if let Some(e) = &effect {
            if let Some(role) = &e.role
                && !crate::source::origin::is_service_name(role)
            {
                bad(
                    format!(
                        "effect role {role:?} is not a service logtriage knows ({})",
                        crate::source::origin::service_names().join(", ")
                    ),
                    &mut errors,
                );
            }
            if let Some(h) = &e.host_field {
                let named = regex
                    .as_ref()
                    .is_some_and(|r| r.capture_names().flatten().any(|n| n == h));
                if !named || e.role.is_none() {
                    bad(
                        format!(
                            "effect host {h:?} must name a group of the rule's regex, and needs a role"
                        ),
                        &mut errors,
                    );
                }
            }
        }
        let mut examples = Vec::new();
        for ex in def.examples {
            let ex_line = lines.of(ex.span().start);
            let ex = ex.into_inner();
            let expect_match = match ex.expect.as_str() {
                "match" => true,
                "no-match" => false,
                other => {
                    errors.push(PackError::new(
                        label,
                        ex_line,
                        Some(&id),
                        format!("example expect must be \"match\" or \"no-match\", not {other:?}"),
                    ));
                    continue;
                }
            };
            examples.push(Example {
                text: ex.text,
                expect_match,
                path: ex.path,
                line: ex_line,
            });
        }
        if def.marks.is_some() && def.severity != Severity::Info {
            bad(
                "a phase marker (marks = ...) is context: its severity must be \"info\"".into(),
                &mut errors,
            );
        }
        let Some(layer) = layer else { continue };
        if errors.len() > n_errors {
            continue;
        }
        rules.push(Rule {
            id: def.id,
            title: def.title,
            severity: def.severity,
            component,
            layer,
            literals: def.literals,
            regex,
            not_regex,
            levels,
            files,
            not_files,
            summary: def.summary,
            group_by: def.group_by,
            threshold,
            description: def.description,
            runbook: def.runbook,
            references: def.references,
            examples,
            pack: label.to_string(),
            line,
            marks: def.marks,
            expected_in: def.expected_in,
            follows,
            raised_by: def.raised_by,
            effect,
        });
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[pack]
component = "accumulo"
layer = "data-services"

[[rule]]
id = "accumulo.test"
title = "Test"
severity = "high"
literals = ["Lost tablet server lock"]
regex = 'reason = (?P<reason>\w+)'
group_by = ["reason"]
runbook = ["Do it"]
"#;

    #[test]
    fn parses_a_good_pack() {
        let rules = parse_pack("p.toml", GOOD).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].line, 6);
        assert_eq!(rules[0].component, "accumulo");
    }

    #[test]
    fn errors_name_file_line_and_rule() {
        let bad = GOOD.replace("group_by", "groupby");
        let e = parse_pack("p.toml", &bad).unwrap_err();
        assert_eq!(e[0].file, "p.toml");
        assert_eq!(e[0].line, 12);
        assert_eq!(e[0].rule.as_deref(), Some("accumulo.test"));
        assert!(e[0].message.contains("unknown field"), "{}", e[0].message);

        let bad = GOOD.replace(r"(?P<reason>\w+)", r"(?P<reason>\w+");
        let e = parse_pack("p.toml", &bad).unwrap_err();
        assert_eq!(
            (e[0].line, e[0].rule.as_deref()),
            (6, Some("accumulo.test"))
        );
        assert!(e[0].message.contains("regex does not compile"));

        let bad = GOOD.replace(r#"literals = ["Lost tablet server lock"]"#, "literals = []");
        let e = parse_pack("p.toml", &bad).unwrap_err();
        assert!(e[0].message.contains("no literals"));

        let e = parse_pack("p.toml", "[[rule]\nid = 1").unwrap_err();
        assert_eq!(e[0].line, 1);
    }

    #[test]
    fn not_files_excludes_what_files_lets_in() {
        let pack = GOOD.replace(
            "runbook =",
            "files = [\"*namenode*\"]\nnot_files = [\"*secondarynamenode*\"]\nrunbook =",
        );
        let r = &parse_pack("p.toml", &pack).unwrap()[0];
        assert!(r.applies_to("logs/hadoop-hdfs-namenode-nn1.log"));
        assert!(!r.applies_to("logs/hadoop-hdfs-secondarynamenode-nn1.log"));
        assert!(!r.applies_to("logs/hadoop-hdfs-datanode-dn1.log"));
        let pack = GOOD.replace("runbook =", "not_files = [\"*[\"]\nrunbook =");
        let e = parse_pack("p.toml", &pack).unwrap_err();
        assert!(
            e[0].message.contains("bad not_files glob"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("5m"), Some(300_000));
        assert_eq!(parse_duration_ms("30s"), Some(30_000));
        assert_eq!(parse_duration_ms("2h"), Some(7_200_000));
        assert_eq!(parse_duration_ms("x"), None);
    }
}
