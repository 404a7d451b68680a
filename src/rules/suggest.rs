//! From unknown to known: drafts a rule pack from a sweep's unknown error templates. Each
//! draft has literals from the template's constant text (found verbatim in every example
//! event), a regex with a named group for each variable part, the level, a `files` glob, a
//! runbook whose first step is a marked TODO, and real examples: an event of the template as
//! `match`, another event from the same files as `no-match`. Every draft is checked here
//! against its own examples before it is printed; one that fails is left out with a comment.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::event::Level;
use crate::finding::unknown::Unknown;
use crate::matching::Occurrence;
use crate::source::origin::base_name;

/// A literal shorter than this is too common to be a good anchor.
const MIN_LITERAL: usize = 8;

/// One drafted rule, as TOML text.
pub struct Draft {
    pub id: String,
    pub toml: String,
}

/// The template's constant text runs and its variable parts, in order.
enum Piece<'t> {
    Text(&'t str),
    /// A masking token: `<num>`, `<path>`, `<*>`...
    Token(&'t str),
}

fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|c| open + c) else {
            break;
        };
        let name = &rest[open + 1..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'*') {
            out.push(Piece::Text(&rest[..=open]));
            rest = &rest[open + 1..];
            continue;
        }
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        out.push(Piece::Token(name));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// The message without a leading logger (`com.koverse.jobs.Scheduler - Job ...` -> `Job ...`):
/// for titles and ids, which name the problem rather than the class.
fn without_logger(text: &str) -> &str {
    for sep in [" - ", ": "] {
        if let Some((head, rest)) = text.split_once(sep)
            && head.contains('.')
            && !head.contains(' ')
            && !rest.trim().is_empty()
        {
            return rest.trim_start();
        }
    }
    text
}

/// `Cannot normalize record` -> `cannot-normalize-record`.
fn slug(text: &str) -> String {
    let constant: String = pieces(text)
        .iter()
        .map(|p| match p {
            Piece::Text(t) => *t,
            Piece::Token(_) => " ",
        })
        .collect();
    let words: Vec<String> = constant
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && w.chars().any(|c| c.is_ascii_alphabetic()))
        .take(5)
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        "error".to_string()
    } else {
        words.join("-")
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The severity a level suggests for a draft (the operator should review it).
fn severity(level: Level) -> &'static str {
    match level {
        Level::Fatal | Level::Panic => "high",
        Level::Error => "medium",
        _ => "low",
    }
}

/// Drafts one rule for template `u`; `paths` maps stream indices to paths, `near_misses`
/// holds other real events of the same files (the no-match candidates).
pub fn draft(
    u: &Unknown,
    paths: &[String],
    near_misses: &[(&str, &Occurrence)],
    taken: &mut BTreeSet<String>,
) -> Result<Draft, String> {
    let events: Vec<&Occurrence> = u.evidence.iter().map(|(_, o)| o).collect();
    let Some(example) = u.evidence.first() else {
        return Err("no example event".into());
    };
    let parts = pieces(&u.text);
    // Literals: the constant runs found verbatim in every example event, longest first.
    let mut literals: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Piece::Text(t) => Some(t.trim()),
            Piece::Token(_) => None,
        })
        .filter(|t| t.len() >= 4 && events.iter().all(|e| e.text.contains(t)))
        .collect();
    literals.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    literals.dedup();
    let literal = match literals.first() {
        Some(l) if l.len() >= MIN_LITERAL => *l,
        Some(l) => return Err(format!("its longest constant text {l:?} is too short")),
        None => return Err("no constant text appears verbatim in its events".into()),
    };
    // The regex: the template, its constant parts escaped (runs of spaces as \s+), a named
    // group for each variable part.
    let mut regex = String::new();
    let mut summary = String::new();
    let mut names: Vec<String> = Vec::new();
    for p in &parts {
        match p {
            Piece::Text(t) => {
                let mut first = true;
                for w in t.split(' ') {
                    if !first {
                        regex.push_str(r"\s+");
                    }
                    first = false;
                    regex.push_str(&regex::escape(w));
                }
                summary.push_str(t);
            }
            Piece::Token(tok) => {
                let base = match *tok {
                    "*" => "value",
                    t => t,
                };
                let n = names.iter().filter(|x| x.starts_with(base)).count() + 1;
                let name = format!("{base}{n}");
                // Inside quotes a value may hold spaces; elsewhere a variable part is one word.
                let body = if regex.ends_with('\'') {
                    "[^']*"
                } else if regex.ends_with('"') {
                    "[^\"]*"
                } else {
                    r"\S+?"
                };
                let _ = write!(regex, "(?P<{name}>{body})");
                let _ = write!(summary, "{{{name}}}");
                names.push(name);
            }
        }
    }
    let regex = if names.is_empty() {
        None
    } else {
        let compiled = regex::Regex::new(&regex).map_err(|e| e.to_string())?;
        // Only a regex every example event matches.
        events
            .iter()
            .all(|e| compiled.is_match(&e.text))
            .then_some(regex)
    };
    let name = slug(without_logger(&u.text));
    let mut id = format!("local.{name}");
    let mut k = 2;
    while taken.contains(&id) {
        id = format!("local.{name}-{k}");
        k += 1;
    }
    taken.insert(id.clone());
    let mut files: Vec<String> = u
        .files
        .iter()
        .map(|&i| {
            let p = &paths[i as usize];
            let name = p.rsplit(['/', '!']).next().unwrap_or(p);
            format!("*{}*", base_name(name))
        })
        .collect();
    files.sort();
    files.dedup();
    let example_path = &paths[example.0 as usize];
    let no_match = near_misses
        .iter()
        .find(|(_, o)| !o.text.contains(literal))
        .map(|(p, o)| {
            (
                p.to_string(),
                o.text.clone(),
                "another event of the same file",
            )
        })
        .unwrap_or_else(|| {
            // No other real event at hand: the same header line at INFO (the rule's level
            // keeps it out).
            let header = example.1.text.lines().next().unwrap_or("");
            let level = u.level.as_str();
            (
                example_path.clone(),
                header.replacen(level, "INFO", 1),
                "the same line at INFO",
            )
        });
    let mut t = String::new();
    let _ = writeln!(t, "[[rule]]");
    let _ = writeln!(t, "id = {}", toml_string(&id));
    let message = without_logger(&u.text);
    let mut title: String = message.chars().take(100).collect();
    if title.len() < message.len() {
        title.push_str("...");
    }
    let _ = writeln!(t, "title = {}", toml_string(&title));
    let _ = writeln!(
        t,
        "severity = {}   # from its level, {}: review it",
        toml_string(severity(u.level)),
        u.level.as_str()
    );
    let _ = writeln!(
        t,
        "component = {}",
        toml_string(u.origin.component.unwrap_or("app"))
    );
    let _ = writeln!(
        t,
        "layer = {}",
        toml_string(u.origin.layer.map_or("application", |l| l.as_str()))
    );
    let _ = writeln!(t, "literals = [{}]", toml_string(literal));
    if let Some(r) = &regex {
        let _ = writeln!(t, "regex = {}", toml_string(r));
        let _ = writeln!(t, "summary = {}", toml_string(summary.trim()));
    }
    let _ = writeln!(t, "levels = [{}]", toml_string(u.level.as_str()));
    let _ = writeln!(
        t,
        "files = [{}]",
        files
            .iter()
            .map(|f| toml_string(f))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let seen = format!(
        "Seen {} times in {} file{} (template {}{}).",
        u.count,
        u.files_total,
        if u.files_total == 1 { "" } else { "s" },
        u.id,
        u.exception
            .as_deref()
            .map(|e| format!(", exception {e}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        t,
        "runbook = [\n    {},\n    {},\n]",
        toml_string(
            "TODO: say what the operator does when this happens: what it means, what to check (command, Run Book section), how to fix it."
        ),
        toml_string(&seen)
    );
    let _ = writeln!(t, "\n[[rule.examples]]");
    let _ = writeln!(t, "text = {}", toml_string(&example.1.text));
    let _ = writeln!(t, "expect = \"match\"");
    let _ = writeln!(t, "path = {}", toml_string(example_path));
    let _ = writeln!(t, "\n[[rule.examples]]   # a near miss: {}", no_match.2);
    let _ = writeln!(t, "text = {}", toml_string(&no_match.1));
    let _ = writeln!(t, "expect = \"no-match\"");
    let _ = writeln!(t, "path = {}", toml_string(&no_match.0));
    Ok(Draft { id, toml: t })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_split_constant_text_and_tokens() {
        let p = pieces("Job <num> for dataset '<*>' failed after <num> ms <x");
        let shown: Vec<String> = p
            .iter()
            .map(|p| match p {
                Piece::Text(t) => format!("T({t})"),
                Piece::Token(t) => format!("V({t})"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "T(Job )",
                "V(num)",
                "T( for dataset ')",
                "V(*)",
                "T(' failed after )",
                "V(num)",
                "T( ms <x)"
            ]
        );
        assert_eq!(
            slug(without_logger(
                "com.koverse.ingest.Normalizer - Cannot normalize record <num>"
            )),
            "cannot-normalize-record"
        );
    }
}
