//! Templates of unknown errors: events at an error level that no rule matched are grouped by
//! the shape of their message, so ten thousand repeats of one problem are one line with one
//! stable id. Pure and deterministic (no I/O): the scanner masks each event (`mask`), the
//! reports merge the distinct masked templates token by token (`group`) and name each
//! template by `template_id`.
//!
//! # Masking
//!
//! `mask` replaces the variable parts of a message with tokens, in this order (earlier, more
//! specific rules first; later rules never see what an earlier one replaced):
//!
//! | Token | What |
//! |---|---|
//! | `<ts>` | an ISO 8601 timestamp inside the message (`2015-10-18 18:01:47,978`, `…T…Z`) |
//! | `<uuid>` | `3c9c5e5a-1b2c-4d5e-8f90-0123456789ab` |
//! | `<bp>` | HDFS block pool `BP-\d+-<ip>-\d+` |
//! | `<blk>` | HDFS block `blk_-?\d+(_\d+)?` |
//! | `<container>` | `container_(e\d+_)?\d+_\d+_\d+_\d+` |
//! | `<appattempt>` | `appattempt_\d+_\d+_\d+` |
//! | `<application>` | `application_\d+_\d+` |
//! | `<attempt>` | `attempt_\d+_\d+_[mr]_\d+_\d+` |
//! | `<task>` | `task_\d+_\d+_[mr]_\d+` |
//! | `<job>` | `job_\d+_\d+` |
//! | `<session>` | ZooKeeper session-like ids `0x[0-9a-f]{8,16}` |
//! | `<hex>` | any other `0x…`, and bare hex strings of 8 or more characters with a digit and a letter |
//! | `<path>` | URIs (`hdfs://nn:8020/x`, `file:/tmp/x`, `http://…`) and absolute paths (`/a/b`) |
//! | `<addr>` | `host/1.2.3.4:5678`, `/1.2.3.4:5678`, `1.2.3.4[:port]`, `host.domain:port`, `host-name-1:port`, `localhost:port` |
//! | `'<*>'` `"<*>"` | quoted values |
//! | `<num> unit` | a number with a unit attached or not (`65020ms`, `5 s`, `12.5 MB`, `10 seconds`): always written `<num>`, one space, the unit as logged (`<num> ms`, `<num> MB`) |
//! | `<num>` | other numbers: integers, decimals and dotted versions, negative numbers; also digit runs inside `_`/`-` separated names (`DFSClient_NONMAPREDUCE_<num>_<num>`, `worker-<num>`) |
//!
//! Runs of whitespace become one space. A digit run glued to letters that are not a unit
//! (`log4j`, `s3a`, `64bit`, `x86`) is kept. Exception class names in the message
//! (`java.io.IOException`, or an unqualified `EndOfStreamException:`) are never masked.
//!
//! # Exceptions
//!
//! The exception of an event is part of its identity: the last `Caused by:` of its stack trace;
//! else the first continuation line that is an exception (`java.io.IOException: …`,
//! `Exception in thread "main" java.lang.OutOfMemoryError: …`); else the last exception class
//! named in the message itself (`… due to java.io.IOException: …`). Only the class is kept,
//! not its message. Hadoop's `org.apache.hadoop.ipc.RemoteException(X)` stands for `X`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::event::level::find_level;
use crate::event::time::{TsKind, parse_kind};

/// The token a merged position becomes in `group`.
pub const WILDCARD: &str = "<*>";

/// The message of an event with its variable parts masked, and the exception class of its
/// stack trace (its last `Caused by:` when there is one).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Masked {
    pub text: String,
    pub exception: Option<String>,
}

impl Masked {
    /// `template_id` of this template.
    pub fn id(&self) -> String {
        template_id(&self.text, self.exception.as_deref())
    }
}

/// Masks one event. `message` is the event's message: its header line with the timestamp,
/// level, thread and logger prefix already removed (`message_of` does that for the layouts of
/// this stack). `event` is the whole event text, header line first: its first line is skipped
/// and the rest (the continuation lines) is read only for the exception, so stack frames never
/// change the text.
pub fn mask(message: &str, event: &str) -> Masked {
    let spans = class_spans(message);
    let mut masked = String::with_capacity(message.len());
    let mut last = 0;
    for s in &spans {
        masked.push_str(&mask_gap(&message[last..s.start]));
        masked.push_str(&message[s.start..s.end]);
        last = s.end;
    }
    masked.push_str(&mask_gap(&message[last..]));
    let text = masked.split_whitespace().collect::<Vec<_>>().join(" ");
    let exception = continuation_exception(event).or_else(|| spans.last().map(|s| s.name.clone()));
    Masked { text, exception }
}

/// The message of a header line: strips a leading timestamp (any form `event::time` knows),
/// everything up to and including the level word (thread ids, `[myid:1]`, `[logger]`), then
/// separators (`:`, ` - `), bracketed threads (`[main]`, ZooKeeper's `[thread:Class@line]`)
/// and a logger (`org.apache.x.Y:`, `Y (thread):`) when the layout puts one there (not after
/// `LEVEL:` nor after ZooKeeper's ` - `). A line without a level is returned after its
/// timestamp.
pub fn message_of(header: &str) -> &str {
    let b = header.as_bytes();
    let mut pos = TsKind::ALL
        .into_iter()
        .find_map(|k| parse_kind(b, k))
        .map_or(0, |st| st.end);
    let Some((_, off)) = find_level(&b[pos..]) else {
        return header[pos..].trim_start();
    };
    pos += off;
    let mut logger_allowed = !header[..pos].ends_with(':');
    let mut rest = &header[pos..];
    loop {
        let t = rest.trim_start();
        if let Some(r) = t.strip_prefix(':') {
            logger_allowed = false;
            rest = r;
        } else if let Some(r) = t.strip_prefix("- ") {
            logger_allowed = false;
            rest = r;
        } else if t.starts_with('[')
            && let Some(end) = bracket_end(t)
        {
            rest = &t[end..];
        } else {
            rest = t;
            break;
        }
    }
    if logger_allowed {
        rest = strip_logger(rest);
    }
    rest
}

/// Stable id of a template: 16 lower-case hex digits of FNV-1a 64 over
/// `"logtriage-tpl-v1\0" + text + "\0" + exception` (an empty exception when there is none).
/// Stable across builds, machines and Rust versions (never `std`'s `DefaultHasher`).
pub fn template_id(text: &str, exception: Option<&str>) -> String {
    let mut h = fnv1a(FNV_OFFSET, b"logtriage-tpl-v1\0");
    h = fnv1a(h, text.as_bytes());
    h = fnv1a(h, b"\0");
    h = fnv1a(h, exception.unwrap_or("").as_bytes());
    format!("{h:016x}")
}

/// Token-level grouping of masked templates (the Drain idea, made order-independent). Takes
/// the distinct masked templates (text, exception) and returns, for each input in the same
/// order, its final text.
///
/// Templates are split on spaces. Two templates can merge when they have the same number of
/// tokens, the same exception and the same first token, and differ in exactly one position
/// (`<*>` is a token like any other here, so a template that differs from `a <*> c` only by
/// its middle token merges into it). The position becomes `<*>`. A merge is refused when the
/// result would have half or more of its tokens `<*>` (so two-token messages such as
/// `Connection refused` / `Connection reset` stay apart).
///
/// Order: the inputs are deduplicated and sorted first; then, repeatedly until nothing
/// changes, for each position from the second to the last, every class of templates equal
/// everywhere but at that position collapses into one. The result depends only on the set of
/// inputs, never on their order.
pub fn group(templates: &[(String, Option<String>)]) -> Vec<String> {
    type Toks<'a> = Vec<&'a str>;
    type Bucket<'a> = (usize, Option<&'a str>, &'a str);

    let mut buckets: BTreeMap<Bucket<'_>, BTreeSet<Toks<'_>>> = BTreeMap::new();
    let tokenized: Vec<(Bucket<'_>, Toks<'_>)> = templates
        .iter()
        .map(|(text, exc)| {
            let toks: Toks<'_> = text.split(' ').filter(|t| !t.is_empty()).collect();
            let key = (
                toks.len(),
                exc.as_deref(),
                toks.first().copied().unwrap_or(""),
            );
            (key, toks)
        })
        .collect();
    for (key, toks) in &tokenized {
        buckets.entry(*key).or_default().insert(toks.clone());
    }

    // What each merged template became (only for templates that were merged away).
    let mut became: BTreeMap<(Bucket<'_>, Toks<'_>), Toks<'_>> = BTreeMap::new();
    for (key, set) in &mut buckets {
        let n = key.0;
        loop {
            let mut changed = false;
            for i in 1..n {
                let mut v: Vec<Toks<'_>> = set.iter().cloned().collect();
                // Stable sort of an already sorted list: ties keep the full order.
                v.sort_by(|a, b| cmp_except(a, b, i));
                let mut k = 0;
                while k < v.len() {
                    let mut e = k + 1;
                    while e < v.len() && cmp_except(&v[k], &v[e], i) == Ordering::Equal {
                        e += 1;
                    }
                    if e - k >= 2 {
                        let mut merged = v[k].clone();
                        merged[i] = WILDCARD;
                        let wild = merged.iter().filter(|t| **t == WILDCARD).count();
                        if 2 * wild < n {
                            for t in &v[k..e] {
                                set.remove(t);
                                if *t != merged {
                                    became.insert((*key, t.clone()), merged.clone());
                                }
                            }
                            set.insert(merged);
                            changed = true;
                        }
                    }
                    k = e;
                }
            }
            if !changed {
                break;
            }
        }
    }

    tokenized
        .into_iter()
        .map(|(key, mut toks)| {
            // Each step adds a `<*>`, so this ends.
            while let Some(next) = became.get(&(key, toks.clone())) {
                toks = next.clone();
            }
            toks.join(" ")
        })
        .collect()
}

/// Compares token lists equal in length, ignoring position `skip`.
fn cmp_except(a: &[&str], b: &[&str], skip: usize) -> Ordering {
    let a = a
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != skip)
        .map(|(_, t)| t);
    let b = b
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != skip)
        .map(|(_, t)| t);
    a.cmp(b)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

// ---------------------------------------------------------------------------------------------
// Masking passes

/// ASCII word boundary (cheaper than Unicode's, and what the hand-written passes use).
macro_rules! wb {
    () => {
        r"(?-u:\b)"
    };
}

/// Tokens of the alternatives of `IDS`, in the order of its capture groups.
const ID_TOKENS: &[&str] = &[
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

static IDS: LazyLock<Regex> = LazyLock::new(|| {
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
static URI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        wb!(),
        r#"(?:[A-Za-z][A-Za-z0-9+.-]*://|(?:file|hdfs|viewfs|har):/)(?:[^\s'"<>]|<[a-z]+>)*"#
    ))
    .expect("templates: uri pattern")
});

static ADDR: LazyLock<Regex> = LazyLock::new(|| {
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

static PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(^|[\s(\[{=,:'"])(/(?:[A-Za-z0-9_.$@%+~-]|<[a-z]+>)+(?:/(?:[A-Za-z0-9_.$@%+~-]|<[a-z]+>)*)*)"#,
    )
    .expect("templates: path pattern")
});

static QUOTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(^|[^A-Za-z0-9_])'[^'\n]*'|"[^"\n]*""#).expect("templates: quote pattern")
});

/// Exception class names in a message: qualified (`java.io.IOException`), or unqualified
/// followed by a colon (`EndOfStreamException:`); with Hadoop's `RemoteException(inner)`.
static CLASS: LazyLock<Regex> = LazyLock::new(|| {
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
fn replace<'t>(
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
fn split_trailing(s: &str) -> (&str, &str) {
    let core = s.trim_end_matches(['.', ',', ';', ':', ')', ']', '}']);
    s.split_at(core.len())
}

/// Masks a part of a message that holds no exception class name.
fn mask_gap(s: &str) -> String {
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
const UNITS: &[&str] = &[
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

fn is_unit(s: &str) -> bool {
    UNITS.iter().any(|u| u.eq_ignore_ascii_case(s))
}

/// A bare hex string: 8 or more hex characters with at least one digit and one letter.
fn is_hex_id(s: &str) -> bool {
    s.len() >= 8
        && s.bytes().all(|b| b.is_ascii_hexdigit())
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Numbers, numbers with units and bare hex strings, one pass over the text. A "word" is a run
/// of ASCII letters and digits; anything else (`_`, `-`, `.`, `:` …) separates words.
fn mask_numbers(s: &str) -> String {
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
struct ClassSpan {
    start: usize,
    end: usize,
    name: String,
}

fn class_spans(message: &str) -> Vec<ClassSpan> {
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
fn resolve<'a>(outer: &'a str, inner: Option<&'a str>) -> &'a str {
    match inner {
        Some(i) if outer.ends_with("RemoteException") && !i.is_empty() => i,
        _ => outer,
    }
}

fn is_class_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || c == '$'
}

/// A class name at the start of `s`, with an optional `(Inner)`, and what follows it.
fn class_at(s: &str) -> Option<(&str, &str)> {
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
fn continuation_exception(event: &str) -> Option<String> {
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
fn bracket_end(s: &str) -> Option<usize> {
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
fn strip_logger(s: &str) -> &str {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Masks a real header line (no continuation lines).
    fn m(header: &str) -> String {
        mask(message_of(header), header).text
    }

    #[test]
    fn message_of_each_layout() {
        let cases = [
            (
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
                "PacketResponder 1 for block blk_38865049064139660 terminating",
            ),
            (
                "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
                "Created MRAppMaster for application appattempt_1445144423722_0020_000001",
            ),
            (
                "2015-10-18 18:06:01,840 ERROR [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: ERROR IN CONTACTING RM. ",
                "ERROR IN CONTACTING RM. ",
            ),
            (
                "2015-07-29 19:13:24,282 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 188978561024, my id = 1, error = ",
                "Connection broken for id 188978561024, my id = 1, error = ",
            ),
            (
                "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
                "Notification time out: 3200",
            ),
            (
                "17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi",
                "Changing view acls to: yarn,curi",
            ),
            (
                "2020-12-24 14:55:32,420 [master.Master] WARN : Tablet server kn-host-4:9997[10000071d0d0005] exceeded maximum hold time: attempting to kill it",
                "Tablet server kn-host-4:9997[10000071d0d0005] exceeded maximum hold time: attempting to kill it",
            ),
            (
                "2018-02-13 22:19:13,972 ERROR org.apache.hadoop.yarn.server.nodemanager.LocalDirsHandlerService (DiskHealthMonitor-Timer): Most of the disks failed.",
                "Most of the disks failed.",
            ),
            (
                "2024-01-11 06:23:58.586 UTC [26] PANIC:  could not write to file \"pg_logical/replorigin_checkpoint.tmp\": No space left on device",
                "could not write to file \"pg_logical/replorigin_checkpoint.tmp\": No space left on device",
            ),
        ];
        for (header, message) in cases {
            assert_eq!(message_of(header), message, "{header}");
        }
    }

    #[test]
    fn ids_numbers_and_addresses_mask_to_one_text() {
        let same = [
            (
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
                "081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating",
                "PacketResponder <num> for block <blk> terminating",
            ),
            (
                "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864",
                "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.111.130:50010 is added to blk_-5704899712662113150 size 3542",
                "BLOCK* NameSystem.addStoredBlock: blockMap updated: <addr> is added to <blk> size <num>",
            ),
            (
                "081109 204815 653 INFO dfs.DataNode$DataXceiver: Receiving block blk_5792489080791696128 src: /10.251.30.6:33145 dest: /10.251.30.6:50010",
                "081109 204842 663 INFO dfs.DataNode$DataXceiver: Receiving block blk_1724757848743533110 src: /10.251.111.130:49851 dest: /10.251.111.130:50010",
                "Receiving block <blk> src: <addr> dest: <addr>",
            ),
            (
                "2015-07-29 19:13:24,282 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 188978561024, my id = 3, error = ",
                "2015-07-29 19:13:27,721 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@762] - Connection broken for id 1, my id = 1, error = ",
                "Connection broken for id <num>, my id = <num>, error =",
            ),
            (
                "2015-07-29 17:41:44,747 - WARN  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:QuorumCnxManager@368] - Cannot open channel to 2 at election address /10.10.34.12:3888",
                "2015-07-29 17:41:44,747 - WARN  [WorkerSender[myid=1]:QuorumCnxManager@368] - Cannot open channel to 3 at election address /10.10.34.13:3888",
                "Cannot open channel to <num> at election address <addr>",
            ),
            (
                "2015-10-18 18:06:03,856 INFO [RMCommunicator Allocator] org.apache.hadoop.ipc.Client: Retrying connect to server: msra-sa-41:8030. Already tried 0 time(s); retry policy is RetryUpToMaximumCountWithFixedSleep(maxRetries=10, sleepTime=1000 MILLISECONDS)",
                "2015-10-18 18:06:13,856 INFO [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.ipc.Client: Retrying connect to server: msra-sa-41/10.190.173.170:9000. Already tried 3 time(s); retry policy is RetryUpToMaximumCountWithFixedSleep(maxRetries=10, sleepTime=1000 MILLISECONDS)",
                "Retrying connect to server: <addr>. Already tried <num> time(s); retry policy is RetryUpToMaximumCountWithFixedSleep(maxRetries=<num>, sleepTime=<num> MILLISECONDS)",
            ),
            (
                "2015-10-18 18:06:02,794 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.ipc.Client: Address change detected. Old: msra-sa-41/10.190.173.170:9000 New: msra-sa-41:9000",
                "2015-10-18 18:06:02,841 WARN [RMCommunicator Allocator] org.apache.hadoop.ipc.Client: Address change detected. Old: msra-sa-41/10.190.173.170:8030 New: msra-sa-41:8030",
                "Address change detected. Old: <addr> New: <addr>",
            ),
            (
                "2015-10-18 18:06:02,794 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_NONMAPREDUCE_1537864556_1] for 65 seconds.  Will retry shortly ...",
                "2015-10-18 18:06:04,809 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_NONMAPREDUCE_-1547462655_1] for 67 seconds.  Will retry shortly ...",
                "Failed to renew lease for [DFSClient_NONMAPREDUCE_<num>_<num>] for <num> seconds. Will retry shortly ...",
            ),
            (
                "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001",
                "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0021_000002",
                "Created MRAppMaster for application <appattempt>",
            ),
            (
                "2015-10-18 18:01:53,885 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: attempt_1445144423722_0020_m_000000_0 TaskAttempt Transitioned from NEW to UNASSIGNED",
                "2015-10-18 18:01:53,885 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: attempt_1445144423722_0020_m_000002_1 TaskAttempt Transitioned from NEW to UNASSIGNED",
                "<attempt> TaskAttempt Transitioned from NEW to UNASSIGNED",
            ),
            (
                "2015-07-29 19:37:27,222 - INFO  [ProcessThread(sid:2 cport:-1)::PrepRequestProcessor@627] - Got user-level KeeperException when processing sessionid:0x34ed93485090001 type:create cxid:0x55b8bb0f zxid:0x100000010 txntype:-1 reqpath:n/a Error Path:/home/curi/.zookeeper Error:KeeperErrorCode = NodeExists for /home/curi/.zookeeper",
                "2015-07-29 19:38:27,222 - INFO  [ProcessThread(sid:2 cport:-1)::PrepRequestProcessor@627] - Got user-level KeeperException when processing sessionid:0x14ed93111f20027 type:create cxid:0x55b8bc1a zxid:0x200000a1c txntype:-1 reqpath:n/a Error Path:/hbase/rs Error:KeeperErrorCode = NodeExists for /hbase/rs",
                "Got user-level KeeperException when processing sessionid:<session> type:create cxid:<session> zxid:<session> txntype:<num> reqpath:n/a Error Path:<path> Error:KeeperErrorCode = NodeExists for <path>",
            ),
            (
                "2015-10-18 18:04:11,001 WARN [ResponseProcessor for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731] org.apache.hadoop.hdfs.DFSClient: Slow ReadProcessor read fields took 65020ms (threshold=30000ms); ack: seqno: -2 status: SUCCESS status: ERROR downstreamAckTimeNanos: 0, targets: [10.86.169.121:50010, 10.190.173.170:50010]",
                "2015-10-18 18:05:11,001 WARN [ResponseProcessor for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743513_2732] org.apache.hadoop.hdfs.DFSClient: Slow ReadProcessor read fields took 31012ms (threshold=30000ms); ack: seqno: 17 status: SUCCESS status: ERROR downstreamAckTimeNanos: 12, targets: [10.86.169.122:50010, 10.190.173.171:50010]",
                "Slow ReadProcessor read fields took <num> ms (threshold=<num> ms); ack: seqno: <num> status: SUCCESS status: ERROR downstreamAckTimeNanos: <num>, targets: [<addr>, <addr>]",
            ),
            (
                "2015-10-18 18:04:11,001 WARN [ResponseProcessor for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731] org.apache.hadoop.hdfs.DFSClient: DFSOutputStream ResponseProcessor exception  for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731",
                "2015-10-18 18:04:11,001 WARN [ResponseProcessor for block BP-1347369012-10.190.173.170-1444972147527:blk_1073743512_2731] org.apache.hadoop.hdfs.DFSClient: DFSOutputStream ResponseProcessor exception  for block BP-929597290-10.86.169.121-1444972137219:blk_1073741999_1175",
                "DFSOutputStream ResponseProcessor exception for block <bp>:<blk>",
            ),
            (
                "17/06/09 20:10:52 INFO storage.BlockManager: Found block rdd_2_4 locally",
                "17/06/09 20:11:52 INFO storage.BlockManager: Found block rdd_42_0 locally",
                "Found block rdd_<num>_<num> locally",
            ),
            (
                "2020-12-24 14:55:32,420 [master.Master] WARN : Tablet server kn-host-4:9997[10000071d0d0005] exceeded maximum hold time: attempting to kill it",
                "2020-12-24 14:58:32,420 [master.Master] WARN : Tablet server kn-host-12:9997[20000071d0d00a7] exceeded maximum hold time: attempting to kill it",
                "Tablet server <addr>[<hex>] exceeded maximum hold time: attempting to kill it",
            ),
            (
                "2020-01-01 08:02:37,617 [myid:1] - WARN  [NIOServerCxn.Factory:1.2.3.4/1.2.3.4:2181:NIOServerCnxnFactory@193] - Too many connections from /10.11.112.108 - max is 60",
                "2021-12-16 15:43:21,206 WARN org.apache.zookeeper.server.NIOServerCnxnFactory: Too many connections from /10.101.56.11 - max is 60",
                "Too many connections from <addr> - max is <num>",
            ),
            (
                "2015-10-18 18:01:57,447 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: TaskAttempt: [attempt_1445144423722_0020_m_000000_0] using containerId: [container_1445144423722_0020_01_000002 on NM: [04DN8IQ.fareast.corp.microsoft.com:54883]",
                "2015-10-18 18:01:58,963 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl: TaskAttempt: [attempt_1445144423722_0020_m_000001_0] using containerId: [container_1445144423722_0020_01_000003 on NM: [MININT-FNANLI5.fareast.corp.microsoft.com:52368]",
                "TaskAttempt: [<attempt>] using containerId: [<container> on NM: [<addr>]",
            ),
        ];
        for (a, b, want) in same {
            assert_eq!(m(a), want, "{a}");
            assert_eq!(m(b), want, "{b}");
        }

        // Another message is another text.
        assert_ne!(
            m(same[0].0),
            m(same[2].0),
            "PacketResponder / Receiving block"
        );
        assert_ne!(
            m(
                "2015-07-29 19:04:29,071 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688] - Send worker leaving thread"
            ),
            m(
                "2015-07-29 19:04:29,079 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@679] - Interrupted while waiting for message on queue"
            ),
        );
        // Nothing variable: kept as written (whitespace collapsed).
        assert_eq!(
            m(
                "2015-10-18 18:06:01,840 ERROR [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: ERROR IN CONTACTING RM. "
            ),
            "ERROR IN CONTACTING RM."
        );
    }

    #[test]
    fn other_tokens() {
        let t = |s: &str| mask(s, s).text;
        assert_eq!(
            t(
                "Removed container_e17_1445144423722_0020_01_000002 of application_1445144423722_0020 (job_1445144423722_0020, task_1445144423722_0020_m_000003)"
            ),
            "Removed <container> of <application> (<job>, <task>)"
        );
        assert_eq!(
            t(
                "Failed to write hdfs://msra-sa-41:9000/user/curi/out/part-00000. Also tried file:/tmp/hadoop-yarn/staging and /tmp/logs/application_1445144423722_0020/x.log."
            ),
            "Failed to write <path>. Also tried <path> and <path>."
        );
        assert_eq!(
            t(
                "Removing blockmgr-3c9c5e5a-1b2c-4d5e-8f90-0123456789ab at 2015-10-18 18:01:47,978 after 12.5 MB and 4096 bytes in 10 seconds, 5s, 512M"
            ),
            "Removing blockmgr-<uuid> at <ts> after <num> MB and <num> bytes in <num> seconds, <num> s, <num> M"
        );
        assert_eq!(
            t("Table 'web_logs' not found for user \"alice\"; can't continue"),
            "Table '<*>' not found for user \"<*>\"; can't continue"
        );
        assert_eq!(
            t("Using log4j with s3a on x86_64, 64bit, HTTP/1.1, stage 0.0 (TID 12), boot = -74"),
            "Using log4j with s3a on x86_<num>, 64bit, HTTP/<num>, stage <num> (TID <num>), boot = <num>"
        );
        assert_eq!(
            t("session 0x0 hash 9f86d081884c7d65"),
            "session <hex> hash <hex>"
        );
        assert_eq!(
            t("at localhost:8020 and nn1.example.com:8020"),
            "at <addr> and <addr>"
        );
        // A source position is not an address.
        assert_eq!(
            t("near NIOServerCnxn.java:349"),
            "near NIOServerCnxn.java:<num>"
        );
    }

    #[test]
    fn exception_classes_are_kept_and_named() {
        let h = "2015-08-20 17:14:11,414 - WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@354] - Exception causing close of session 0x0 due to java.io.IOException: ZooKeeperServer not running";
        let got = mask(message_of(h), h);
        assert_eq!(
            got.text,
            "Exception causing close of session <hex> due to java.io.IOException: ZooKeeperServer not running"
        );
        assert_eq!(got.exception.as_deref(), Some("java.io.IOException"));

        // Never masked inside a class name, even where a rule would apply.
        let got = mask("Lost: org.example.Outer$1Exception:50010 on 10.0.0.1", "");
        assert_eq!(
            got.text,
            "Lost: org.example.Outer$1Exception:<num> on <addr>"
        );
        assert_eq!(
            got.exception.as_deref(),
            Some("org.example.Outer$1Exception")
        );

        let got = mask(
            "EndOfStreamException: Unable to read additional data from client sessionid 0x14ed93111f20027, likely client has closed socket",
            "",
        );
        assert_eq!(
            got.text,
            "EndOfStreamException: Unable to read additional data from client sessionid <session>, likely client has closed socket"
        );
        assert_eq!(got.exception.as_deref(), Some("EndOfStreamException"));
        assert_eq!(mask("caught end of stream exception", "").exception, None);
    }

    const DATASTREAMER: &str = "16/06/12 20:55:22 WARN hdfs.DFSClient: DataStreamer Exception";

    fn event(header: &str, lines: &[&str]) -> String {
        let mut e = header.to_string();
        for l in lines {
            e.push('\n');
            e.push_str(l);
        }
        e
    }

    #[test]
    fn stack_traces_give_the_exception_not_the_text() {
        let bare = mask(message_of(DATASTREAMER), DATASTREAMER);
        let remote = event(
            DATASTREAMER,
            &[
                "org.apache.hadoop.ipc.RemoteException(java.io.IOException): File /user/root/QuasiMonteCarlo_1465734938932_1463516069/in/part0 could only be replicated to 0 nodes instead of minReplication (=1).  There are 1 datanode(s) running and no node(s) are excluded in this operation.",
                "\tat org.apache.hadoop.hdfs.server.blockmanagement.BlockManager.chooseTarget4NewBlock(BlockManager.java:1547)",
                "\tat org.apache.hadoop.hdfs.server.namenode.FSNamesystem.getNewBlockTargets(FSNamesystem.java:3107)",
                "\tat org.apache.hadoop.ipc.Client.call(Client.java:1475)",
            ],
        );
        let with_trace = mask(message_of(DATASTREAMER), &remote);
        assert_eq!(bare.text, "DataStreamer Exception");
        assert_eq!(with_trace.text, bare.text);
        assert_eq!(bare.exception, None);
        assert_eq!(with_trace.exception.as_deref(), Some("java.io.IOException"));

        // More frames, other line numbers: same template.
        let longer = event(
            DATASTREAMER,
            &[
                "org.apache.hadoop.ipc.RemoteException(java.io.IOException): File /user/hive/x could only be replicated to 0 nodes instead of minReplication (=1).  There are 3 datanode(s) running and 3 node(s) are excluded in this operation.",
                "\tat org.apache.hadoop.hdfs.server.blockmanagement.BlockManager.chooseTarget4NewBlock(BlockManager.java:1622)",
                "\tat org.apache.hadoop.ipc.Client.call(Client.java:1502)",
                "\tat org.apache.hadoop.ipc.Client.call(Client.java:1439)",
                "\t... 12 more",
            ],
        );
        assert_eq!(mask(message_of(DATASTREAMER), &longer), with_trace);

        // Exception in thread "…" X: …
        let oom = event(
            "19/01/07 16:48:07 ERROR SparkUncaughtExceptionHandler: Uncaught exception in thread Thread[Executor task launch worker-0,5,main]",
            &[
                "Exception in thread \"Executor task launch worker-0\" java.lang.OutOfMemoryError: Java heap space",
                "\tat java.util.Arrays.copyOf(Arrays.java:3236)",
            ],
        );
        let got = mask(message_of(oom.lines().next().unwrap()), &oom);
        assert_eq!(
            got.text,
            "Uncaught exception in thread Thread[Executor task launch worker-<num>,<num>,main]"
        );
        assert_eq!(got.exception.as_deref(), Some("java.lang.OutOfMemoryError"));
    }

    #[test]
    fn the_root_cause_is_part_of_identity() {
        let header = "2015-10-18 18:06:01,840 ERROR [RMCommunicator Allocator] org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: ERROR IN CONTACTING RM. ";
        let trace = |cause: &str| {
            event(
                header,
                &[
                    "java.net.ConnectException: Call From MSRA-SA-39/172.22.149.145 to msra-sa-41:8030 failed on connection exception: java.net.ConnectException: Connection refused",
                    "\tat org.apache.hadoop.ipc.Client.call(Client.java:1472)",
                    cause,
                    "\tat sun.nio.ch.SocketChannelImpl.checkConnect(Native Method)",
                    "\t... 9 more",
                ],
            )
        };
        let refused = trace("Caused by: java.net.ConnectException: Connection refused");
        let unknown = trace("Caused by: java.net.UnknownHostException: msra-sa-41");
        let a = mask(message_of(header), &refused);
        let b = mask(message_of(header), &unknown);
        assert_eq!(a.text, b.text);
        assert_eq!(a.exception.as_deref(), Some("java.net.ConnectException"));
        assert_eq!(
            b.exception.as_deref(),
            Some("java.net.UnknownHostException")
        );
        assert_ne!(a.id(), b.id());

        // The last `Caused by:` wins over the first exception line and earlier causes.
        let nested = event(
            header,
            &[
                "java.io.IOException: Failed on local exception",
                "Caused by: org.apache.hadoop.ipc.RemoteException(org.apache.hadoop.hdfs.server.namenode.SafeModeException): Cannot create file /x. Name node is in safe mode.",
                "\tat org.apache.hadoop.ipc.Client.call(Client.java:1475)",
                "Caused by: java.io.EOFException",
                "\tat java.io.DataInputStream.readInt(DataInputStream.java:392)",
            ],
        );
        assert_eq!(
            mask(message_of(header), &nested).exception.as_deref(),
            Some("java.io.EOFException")
        );
        let remote = event(
            header,
            &[
                "Caused by: org.apache.hadoop.ipc.RemoteException(org.apache.hadoop.hdfs.server.namenode.SafeModeException): Cannot create file /x. Name node is in safe mode.",
            ],
        );
        assert_eq!(
            mask(message_of(header), &remote).exception.as_deref(),
            Some("org.apache.hadoop.hdfs.server.namenode.SafeModeException")
        );
        // The stack trace's exception wins over one named in the header.
        let e = event(
            "2015-08-20 17:14:11,414 - WARN  [x:NIOServerCnxn@354] - Exception causing close of session 0x0 due to java.io.IOException: ZooKeeperServer not running",
            &["Caused by: java.nio.channels.ClosedChannelException"],
        );
        assert_eq!(
            mask(message_of(e.lines().next().unwrap()), &e)
                .exception
                .as_deref(),
            Some("java.nio.channels.ClosedChannelException")
        );
    }

    #[test]
    fn template_id_is_stable() {
        // A fixed value: if this changes, every unknown-error template changes its id.
        assert_eq!(
            template_id("PacketResponder <num> for block <blk> terminating", None),
            "800b47f3dcde07f9"
        );
        let id = template_id("ERROR IN CONTACTING RM.", Some("java.net.ConnectException"));
        assert_eq!(id.len(), 16);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(id, template_id("ERROR IN CONTACTING RM.", None));
        assert_ne!(
            id,
            template_id(
                "ERROR IN CONTACTING RM.",
                Some("java.net.UnknownHostException")
            )
        );
        // Text and exception do not run into each other.
        assert_ne!(template_id("a", Some("b")), template_id("a\0b", None));
    }

    fn owned(v: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        v.iter()
            .map(|(t, e)| (t.to_string(), e.map(str::to_string)))
            .collect()
    }

    #[test]
    fn group_merges_one_differing_token() {
        let input = owned(&[
            (
                "Permission denied: user=alice, access=WRITE, inode=<path>",
                None,
            ),
            (
                "Permission denied: user=bob, access=WRITE, inode=<path>",
                None,
            ),
            (
                "Permission denied: user=carol, access=WRITE, inode=<path>",
                None,
            ),
            ("Table web_logs not found in database default", None),
            ("Table clicks not found in database default", None),
            // two tokens differ from the above: kept
            ("Table clicks not found in schema staging", None),
            // another length: kept
            ("Table clicks not found", None),
            // another exception: kept apart
            (
                "Table orders not found in database default",
                Some("java.io.IOException"),
            ),
            // another first token: kept
            ("Index clicks not found in database default", None),
            // two tokens: never merged
            ("Connection refused", None),
            ("Connection reset", None),
        ]);
        let got = group(&input);
        assert_eq!(
            got,
            [
                "Permission denied: <*> access=WRITE, inode=<path>",
                "Permission denied: <*> access=WRITE, inode=<path>",
                "Permission denied: <*> access=WRITE, inode=<path>",
                "Table <*> not found in database default",
                "Table <*> not found in database default",
                "Table clicks not found in schema staging",
                "Table clicks not found",
                "Table orders not found in database default",
                "Index clicks not found in database default",
                "Connection refused",
                "Connection reset",
            ]
        );
    }

    #[test]
    fn group_repeats_until_nothing_merges() {
        // Two variable positions, every combination: merges position by position.
        let mut input = Vec::new();
        for user in ["alice", "bob", "carol"] {
            for table in ["t1", "t2"] {
                input.push((
                    format!("Access denied for user {user} on table {table} of db"),
                    None,
                ));
            }
        }
        let got = group(&input);
        assert!(
            got.iter()
                .all(|t| t == "Access denied for user <*> on table <*> of db"),
            "{got:?}"
        );
        // Already wildcarded templates absorb instances.
        let got = group(&owned(&[
            ("Lost executor <*> on <addr>: Container killed", None),
            ("Lost executor 7 on <addr>: Container killed", None),
        ]));
        assert_eq!(got, ["Lost executor <*> on <addr>: Container killed"; 2]);
        // Duplicates and empty texts.
        let got = group(&owned(&[("", None), ("a b c d", None), ("a b c d", None)]));
        assert_eq!(got, ["", "a b c d", "a b c d"]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The result does not depend on the order of the inputs.
        #[test]
        fn group_ignores_input_order(
            shuffled in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just(owned(&[
                ("Permission denied: user=alice, access=WRITE, inode=<path>", None),
                ("Permission denied: user=bob, access=WRITE, inode=<path>", None),
                ("Permission denied: user=bob, access=READ, inode=<path>", None),
                ("Permission denied: user=bob, access=READ, inode=<path>", Some("org.apache.hadoop.security.AccessControlException")),
                ("Access denied for user alice on table t1 of db", None),
                ("Access denied for user bob on table t1 of db", None),
                ("Access denied for user alice on table t2 of db", None),
                ("Access denied for user carol on table t3 of db", None),
                ("Access denied for role carol on table t3 of db", None),
                ("Table clicks not found in schema staging", None),
                ("Table clicks not found in database default", None),
                ("Table web_logs not found in database default", None),
                ("Connection refused", None),
                ("Connection reset", None),
            ])))
        ) {
            let reference = {
                let mut sorted = shuffled.clone();
                sorted.sort();
                let out = group(&sorted);
                sorted.into_iter().zip(out).collect::<BTreeMap<_, _>>()
            };
            let got = group(&shuffled);
            for (input, text) in shuffled.iter().zip(&got) {
                proptest::prop_assert_eq!(&reference[input], text);
            }
        }
    }
}
