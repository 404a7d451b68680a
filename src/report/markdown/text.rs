//! Text from logs in its place: one escaped line in prose and table cells, code spans and
//! blocks fenced by more backticks than the text holds, control characters shown, not sent.

use std::io::{self, Write};

use super::*;

pub(super) fn who(f: &Finding) -> String {
    crate::report::text::who(&f.origin).unwrap_or_else(|| "-".to_string())
}

pub(super) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Cuts `text` to `max` characters, `...` marking the cut.
pub(super) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(3)).collect();
    s.push_str("...");
    s
}

/// A control character as text (`\x1b`), so it neither ends a line nor reaches a terminal.
pub(super) fn visible(c: char, out: &mut String) {
    if (c as u32) < 0x100 {
        out.push_str(&format!("\\x{:02x}", c as u32));
    } else {
        out.push_str(&format!("\\u{{{:x}}}", c as u32));
    }
}

/// Text from logs for prose, a heading or a table cell: one line, at most `max` characters,
/// escaped (`escape`), never starting a block.
pub(super) fn inline(text: &str, max: usize) -> String {
    not_a_block(escape(&clip(text.trim(), max)))
}

/// Control characters as spaces, and every Markdown punctuation that could start markup
/// escaped: `|` too, so a table cell never splits; `<` so nothing is taken for HTML; `@` and
/// `#` so nobody is mentioned and no issue linked; `$` so nothing is read as math. A web address
/// is kept from GFM's autolinks (`http\://`, `www\.`): a link taken from the raw text would show
/// the escapes inside it (`?a=1\&b=2`) and end at one of them.
pub(super) fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let alnum = |x: Option<char>| x.is_some_and(char::is_alphanumeric);
        match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '$' => {
                out.push('\\');
                out.push(c);
            }
            // An underscore inside a word is never emphasis (`SESSION_EXPIRED`).
            '_' if !(alnum(prev) && alnum(next)) => out.push_str("\\_"),
            '@' if !alnum(prev) => out.push_str("\\@"),
            ':' if chars[i + 1..].starts_with(&['/', '/']) => out.push_str("\\:"),
            '.' if i >= 3 && chars[i - 3..i].iter().all(|c| c.eq_ignore_ascii_case(&'w')) => {
                out.push_str("\\.")
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text that begins a line after a list marker or a label must not start a block of its own
/// (`- x`, `+ x`, `1. x`, `= x`).
pub(super) fn not_a_block(s: String) -> String {
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    match s.chars().next() {
        Some('-' | '+' | '=') => format!("\\{s}"),
        Some(_) if digits > 0 && matches!(s[digits..].chars().next(), Some('.' | ')')) => {
            format!("{}\\{}", &s[..digits], &s[digits..])
        }
        _ => s,
    }
}

/// Text of a rule pack (runbook steps, Run Book titles): its code spans are kept (`accumulo
/// admin checkTablets`), the rest escaped as `inline` does (`tserver_<host>.log` keeps its
/// `<host>`).
pub(super) fn prose(text: &str) -> String {
    let text = text.trim();
    let mut out = String::with_capacity(text.len() + 8);
    let mut plain = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let run = rest[open..].chars().take_while(|&c| c == '`').count();
        let after = &rest[open + run..];
        // The closing run: exactly as many backticks.
        let close = find_run(after, run);
        plain.push_str(&rest[..open]);
        match close {
            Some(end) if !after[..end].contains(['\n', '\r']) => {
                out.push_str(&escape(&plain));
                plain.clear();
                let span = &rest[open..open + run + end + run];
                for c in span.chars() {
                    if c.is_control() {
                        out.push(' ');
                    } else {
                        out.push(c);
                    }
                }
                rest = &after[end + run..];
            }
            _ => {
                plain.push_str(&rest[open..open + run]);
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    out.push_str(&escape(&plain));
    not_a_block(out)
}

/// Where in `s` a run of exactly `n` backticks starts.
pub(super) fn find_run(s: &str, n: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            let start = i;
            while i < b.len() && b[i] == b'`' {
                i += 1;
            }
            if i - start == n {
                return Some(start);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The longest run of backticks in `s`.
pub(super) fn longest_run(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Text from logs as an inline code span: one line, fenced by more backticks than it holds.
pub(super) fn code(text: &str) -> String {
    let mut body = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            visible(c, &mut body);
        } else {
            body.push(c);
        }
    }
    if body.is_empty() {
        return "` `".to_string();
    }
    let fence = "`".repeat(longest_run(&body) + 1);
    // A span that starts or ends with a backtick (or with spaces on both ends) is padded: one
    // space each side is taken off when it is read.
    let pad = body.starts_with('`')
        || body.ends_with('`')
        || (body.starts_with(' ') && body.ends_with(' '));
    if pad {
        format!("{fence} {body} {fence}")
    } else {
        format!("{fence}{body}{fence}")
    }
}

/// A reference: a web address as an autolink, anything else as rule text.
pub(super) fn reference(r: &str) -> String {
    let r = r.trim();
    let url = (r.starts_with("https://") || r.starts_with("http://"))
        && !r.contains(|c: char| c.is_whitespace() || c.is_control() || "<>`".contains(c));
    if url { format!("<{r}>") } else { prose(r) }
}

/// An event's text as a fenced code block: at most `BLOCK_LINES` lines and `BLOCK_BYTES`
/// bytes, control characters (but tabs) shown as `\x1b`, the fence longer than any run of
/// backticks inside, so nothing in it can close it.
pub(super) fn code_block(out: &mut dyn Write, text: &str) -> io::Result<()> {
    let mut body = String::with_capacity(text.len().min(BLOCK_BYTES));
    let mut cut = false;
    for (n, line) in text.split('\n').enumerate() {
        if n == BLOCK_LINES {
            cut = true;
            break;
        }
        let mut l = String::with_capacity(line.len());
        for c in line.chars() {
            if c.is_control() && c != '\t' {
                visible(c, &mut l);
            } else {
                l.push(c);
            }
        }
        let room = BLOCK_BYTES.saturating_sub(body.len() + usize::from(n > 0));
        if l.len() > room {
            let mut end = room;
            while !l.is_char_boundary(end) {
                end -= 1;
            }
            l.truncate(end);
            cut = true;
        }
        if n > 0 {
            body.push('\n');
        }
        body.push_str(&l);
        if cut {
            break;
        }
    }
    if cut {
        body.push_str("\n[... cut at 60 lines / 8 KiB]");
    }
    let fence = "`".repeat(longest_run(&body).max(2) + 1);
    writeln!(out, "{fence}text")?;
    writeln!(out, "{body}")?;
    writeln!(out, "{fence}")?;
    writeln!(out)
}
