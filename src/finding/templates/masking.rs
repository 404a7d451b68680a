//! The masking passes: each variable part of a message replaced by its token, and the
//! exception of an event found.

use regex::{Captures, Regex};
use std::sync::LazyLock;

// ---------------------------------------------------------------------------------------------
// Masking passes

/// ASCII word boundary (cheaper than Unicode's, and what the hand-written passes use).
macro_rules! wb {
    () => {
        r"(?-u:\b)"
    };
}

/// Tokens of the alternatives of `IDS`, in the order of its capture groups.
pub(super) const ID_TOKENS: &[&str] = &[
    "<ts>",
    "<uuid>",
    "<bp>",
    "<blk>",
    "<container>",
    "<appattempt>",
    "<application>",
    "<attempt>",
    "<task>",
    "<job>",
    "<session>",
    "<hex>",
];

pub(super) static IDS: LazyLock<Regex> = LazyLock::new(|| {
    let alternatives = [
        concat!(
            wb!(),
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
        ),
        concat!(
            wb!(),
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            wb!()
        ),
        concat!(wb!(), r"BP-[0-9]+-[0-9.]+-[0-9]+", wb!()),
        concat!(wb!(), r"blk_-?[0-9]+(?:_[0-9]+)?", wb!()),
        concat!(
            wb!(),
            r"container_(?:e[0-9]+_)?[0-9]+_[0-9]+_[0-9]+_[0-9]+",
            wb!()
        ),
        concat!(wb!(), r"appattempt_[0-9]+_[0-9]+_[0-9]+", wb!()),
        concat!(wb!(), r"application_[0-9]+_[0-9]+", wb!()),
        concat!(wb!(), r"attempt_[0-9]+_[0-9]+_[mr]_[0-9]+_[0-9]+", wb!()),
        concat!(wb!(), r"task_[0-9]+_[0-9]+_[mr]_[0-9]+", wb!()),
        concat!(wb!(), r"job_[0-9]+_[0-9]+", wb!()),
        concat!(wb!(), r"0x[0-9a-f]{8,16}", wb!()),
        concat!(wb!(), r"0x[0-9a-fA-F]+", wb!()),
    ];
    debug_assert_eq!(alternatives.len(), ID_TOKENS.len());
    let pattern = alternatives
        .iter()
        .map(|a| format!("({a})"))
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&pattern).expect("templates: id pattern")
});

/// Body of a URI or path: its own characters, or a token an earlier pass put there.
pub(super) static URI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        wb!(),
        r#"(?:[A-Za-z][A-Za-z0-9+.-]*://|(?:file|hdfs|viewfs|har):/)(?:[^\s'"<>]|<[a-z]+>)*"#
    ))
    .expect("templates: uri pattern")
});

pub(super) static ADDR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        // host/1.2.3.4:5678 (Hadoop), /1.2.3.4:5678 (ZooKeeper)
        r"(?:",
        wb!(),
        r"[A-Za-z0-9][A-Za-z0-9.-]*)?/[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?::[0-9]{1,5})?",
        wb!(),
        // 1.2.3.4[:5678]
        r"|",
        wb!(),
        r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?::[0-9]{1,5})?",
        wb!(),
        // host.domain:port, host-name-1:port, localhost:port
        r"|",
        wb!(),
        r"(localhost|[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+):[0-9]{1,5}",
        wb!(),
    ))
    .expect("templates: address pattern")
});

pub(super) static PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(^|[\s(\[{=,:'"])(/(?:[A-Za-z0-9_.$@%+~-]|<[a-z]+>)+(?:/(?:[A-Za-z0-9_.$@%+~-]|<[a-z]+>)*)*)"#,
    )
    .expect("templates: path pattern")
});

pub(super) static QUOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(^|[^A-Za-z0-9_])'[^'\n]*'|"[^"\n]*""#).expect("templates: quote pattern")
});

/// Exception class names in a message: qualified (`java.io.IOException`), or unqualified
/// followed by a colon (`EndOfStreamException:`); with Hadoop's `RemoteException(inner)`.
pub(super) static CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:^|[^\w.$])(?:",
        r"((?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error|Throwable))(\([\w.$]+\))?",
        r"|([A-Z][\w$]*(?:Exception|Error|Throwable))(\([\w.$]+\))?:",
        r")"
    ))
    .expect("templates: class pattern")
});

/// Applies `re` to `text`: for each match, `f` pushes its replacement to the output and returns
/// true, or pushes nothing and returns false to keep the match as it is.
pub(super) fn replace<'t>(
    re: &Regex,
    text: &'t str,
    mut f: impl FnMut(&Captures<'t>, &mut String) -> bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let m = caps.get(0).expect("group 0");
        out.push_str(&text[last..m.start()]);
        if !f(&caps, &mut out) {
            out.push_str(m.as_str());
        }
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

/// Splits trailing sentence punctuation off a URI or path (`/x/y.` → `/x/y`, `.`).
pub(super) fn split_trailing(s: &str) -> (&str, &str) {
    let core = s.trim_end_matches(['.', ',', ';', ':', ')', ']', '}']);
    s.split_at(core.len())
}

/// Masks a part of a message that holds no exception class name.
pub(super) fn mask_gap(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let s = replace(&IDS, s, |c, out| {
        let i = (1..c.len()).find(|&i| c.get(i).is_some()).expect("a group");
        out.push_str(ID_TOKENS[i - 1]);
        true
    });
    let s = replace(&URI, &s, |c, out| {
        let (core, tail) = split_trailing(c.get(0).expect("group 0").as_str());
        if core.ends_with("://") || core.ends_with(":/") {
            return false; // a scheme alone
        }
        out.push_str("<path>");
        out.push_str(tail);
        true
    });
    let s = replace(&ADDR, &s, |c, out| {
        if let Some(host) = c.get(1).map(|h| h.as_str()) {
            if !host.bytes().any(|b| b.is_ascii_alphabetic()) {
                return false; // `3.4-1:80` names no host
            }
            if [".java", ".scala", ".kt", ".py"]
                .iter()
                .any(|x| host.ends_with(x))
            {
                return false; // a source position, `Foo.java:123`
            }
        }
        out.push_str("<addr>");
        true
    });
    let s = replace(&PATH, &s, |c, out| {
        let (core, tail) = split_trailing(c.get(2).expect("path").as_str());
        if core.len() < 2 {
            return false;
        }
        out.push_str(c.get(1).expect("prefix").as_str());
        out.push_str("<path>");
        out.push_str(tail);
        true
    });
    let s = replace(&QUOTE, &s, |c, out| {
        let m = c.get(0).expect("group 0");
        match c.get(1) {
            None => out.push_str("\"<*>\""),
            Some(pre) => {
                // An apostrophe is not a quote: the closing one must end a word.
                let after = s[m.end()..].bytes().next();
                if after.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return false;
                }
                out.push_str(pre.as_str());
                out.push_str("'<*>'");
            }
        }
        true
    });
    mask_numbers(&s)
}

/// Units a number may carry, glued to it (`65020ms`, `512M`) or after a space.
pub(super) const UNITS: &[&str] = &[
    "ns",
    "us",
    "ms",
    "s",
    "sec",
    "secs",
    "second",
    "seconds",
    "m",
    "min",
    "mins",
    "minute",
    "minutes",
    "h",
    "hr",
    "hrs",
    "hour",
    "hours",
    "d",
    "day",
    "days",
    "millis",
    "millisecond",
    "milliseconds",
    "micros",
    "microsecond",
    "microseconds",
    "nanos",
    "nanosecond",
    "nanoseconds",
    "b",
    "byte",
    "bytes",
    "k",
    "kb",
    "kib",
    "g",
    "gb",
    "gib",
    "mb",
    "mib",
    "t",
    "tb",
    "tib",
    "p",
    "pb",
    "pib",
];

pub(super) fn is_unit(s: &str) -> bool {
    UNITS.iter().any(|u| u.eq_ignore_ascii_case(s))
}

/// A bare hex string: 8 or more hex characters with at least one digit and one letter.
pub(super) fn is_hex_id(s: &str) -> bool {
    s.len() >= 8
        && s.bytes().all(|b| b.is_ascii_hexdigit())
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Numbers, numbers with units and bare hex strings, one pass over the text. A "word" is a run
/// of ASCII letters and digits; anything else (`_`, `-`, `.`, `:` …) separates words.
pub(super) fn mask_numbers(s: &str) -> String {
    let b = s.as_bytes();
    let alnum = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
    let run_end = |mut i: usize| {
        while alnum(i) {
            i += 1;
        }
        i
    };
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let word_start = alnum(i) && (i == 0 || !alnum(i - 1));
        // A sign: `-` not glued to a word before it, a digit after it.
        let signed = b[i] == b'-'
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && (i == 0 || !alnum(i - 1));
        if !word_start && !signed {
            i += 1;
            continue;
        }
        let start = if signed { i + 1 } else { i };
        let word = &s[start..run_end(start)];
        if !signed && is_hex_id(word) {
            out.push_str(&s[copied..i]);
            out.push_str("<hex>");
            i = start + word.len();
            copied = i;
            continue;
        }
        if b[start].is_ascii_digit() {
            // digits, then `.digits` groups, then an optional unit glued to them
            let mut p = start;
            while b.get(p).is_some_and(u8::is_ascii_digit) {
                p += 1;
            }
            while b.get(p) == Some(&b'.') && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
                p += 1;
                while b.get(p).is_some_and(u8::is_ascii_digit) {
                    p += 1;
                }
            }
            let end = run_end(p);
            let suffix = &s[p..end];
            if suffix.is_empty()
                || (suffix.bytes().all(|c| c.is_ascii_alphabetic()) && is_unit(suffix))
            {
                out.push_str(&s[copied..i]);
                out.push_str("<num>");
                if !suffix.is_empty() {
                    out.push(' ');
                    out.push_str(suffix);
                }
                i = end;
                copied = i;
                continue;
            }
        }
        // Not a number: skip the word (or the `-`).
        i = if signed { i + 1 } else { start + word.len() };
    }
    out.push_str(&s[copied..]);
    out
}

// ---------------------------------------------------------------------------------------------
// Exceptions

/// An exception class name found in a message.
pub(super) struct ClassSpan {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) name: String,
}

pub(super) fn class_spans(message: &str) -> Vec<ClassSpan> {
    let mut spans = Vec::new();
    for c in CLASS.captures_iter(message) {
        let (outer, inner) = match (c.get(1), c.get(3)) {
            (Some(o), _) => (o, c.get(2)),
            (None, Some(o)) => (o, c.get(4)),
            _ => continue,
        };
        let end = inner.map_or(outer.end(), |m| m.end());
        // `java.io.IOExceptionHandler` is not an exception
        if message[end..]
            .chars()
            .next()
            .is_some_and(|ch| ch.is_alphanumeric() || ch == '_' || ch == '$')
        {
            continue;
        }
        let inner = inner.map(|m| &m.as_str()[1..m.as_str().len() - 1]);
        spans.push(ClassSpan {
            start: outer.start(),
            end,
            name: resolve(outer.as_str(), inner).to_string(),
        });
    }
    spans
}

/// `RemoteException(X)` stands for `X`.
pub(super) fn resolve<'a>(outer: &'a str, inner: Option<&'a str>) -> &'a str {
    match inner {
        Some(i) if outer.ends_with("RemoteException") && !i.is_empty() => i,
        _ => outer,
    }
}

pub(super) fn is_class_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || c == '$'
}

/// A class name at the start of `s`, with an optional `(Inner)`, and what follows it.
pub(super) fn class_at(s: &str) -> Option<(&str, &str)> {
    let end = s.find(|c: char| !is_class_char(c)).unwrap_or(s.len());
    let outer = s[..end].trim_end_matches('.');
    if outer.is_empty() {
        return None;
    }
    let rest = &s[end..];
    if let Some(r) = rest.strip_prefix('(') {
        let iend = r.find(|c: char| !is_class_char(c)).unwrap_or(r.len());
        if let Some(after) = r[iend..].strip_prefix(')') {
            return Some((resolve(outer, Some(&r[..iend])), after));
        }
    }
    Some((outer, rest))
}

/// The exception of the continuation lines: the last `Caused by:`, else the first exception
/// line.
pub(super) fn continuation_exception(event: &str) -> Option<String> {
    let mut caused = None;
    let mut first = None;
    for line in event.lines().skip(1) {
        let t = line.trim();
        if t.is_empty() || t.starts_with("at ") || t.starts_with("...") {
            continue;
        }
        if let Some(rest) = t.strip_prefix("Caused by:") {
            if let Some((class, _)) = class_at(rest.trim_start()) {
                caused = Some(class);
            }
            continue;
        }
        if first.is_some() {
            continue;
        }
        let (candidate, outer_ok) = match t.strip_prefix("Exception in thread \"") {
            Some(r) => match r.split_once("\" ") {
                Some((_, cls)) => (class_at(cls), true),
                None => (None, false),
            },
            None => (class_at(t), false),
        };
        if let Some((class, rest)) = candidate {
            let outer = t[..t.len() - rest.len()].split('(').next().unwrap_or("");
            let named = ["Exception", "Error", "Throwable"]
                .iter()
                .any(|x| outer.trim_end_matches(')').ends_with(x));
            if (outer_ok || named) && (rest.is_empty() || rest.starts_with(':')) {
                first = Some(class);
            }
        }
    }
    caused.or(first).map(str::to_string)
}

// ---------------------------------------------------------------------------------------------
// Header prefixes

/// The end (exclusive) of the bracket group `s` starts with, nested brackets included.
pub(super) fn bracket_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Strips a logger name: `org.apache.x.Y: msg`, `Y: msg`, `org.x.Y (thread): msg`.
pub(super) fn strip_logger(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '-')))
        .unwrap_or(s.len());
    if end == 0 {
        return s;
    }
    let rest = &s[end..];
    if let Some(r) = rest.strip_prefix(':')
        && (r.is_empty() || r.starts_with([' ', '\t']))
    {
        return r.trim_start();
    }
    if let Some(r) = rest.strip_prefix(" (")
        && let Some(close) = r.find("):")
    {
        let after = &r[close + 2..];
        if after.is_empty() || after.starts_with([' ', '\t']) {
            return after.trim_start();
        }
    }
    s
}
