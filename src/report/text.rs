//! Text for terminals, shared by the sweep's report and the follower's: 80 columns, word
//! wrapping, clipping that keeps what matters (a path's end, a line's start), severity colours
//! (`anstyle`; `anstream` strips them when not on a terminal or with `NO_COLOR`).

use anstyle::{AnsiColor, Effects, Style};

use crate::rules::Severity;

pub const WIDTH: usize = 80;
pub const DIM: Style = Style::new().effects(Effects::DIMMED);
pub const BOLD: Style = Style::new().effects(Effects::BOLD);

pub fn sev_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new()
            .fg_color(Some(AnsiColor::BrightRed.into()))
            .effects(Effects::BOLD),
        Severity::High => Style::new()
            .fg_color(Some(AnsiColor::Red.into()))
            .effects(Effects::BOLD),
        Severity::Medium => Style::new()
            .fg_color(Some(AnsiColor::Yellow.into()))
            .effects(Effects::BOLD),
        Severity::Low => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        Severity::Info => Style::new().effects(Effects::DIMMED),
    }
}

/// `12345678` -> `12,345,678`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Word-wraps `text` to lines of `width` columns of text, every line after the first indented
/// by `indent` (callers pass the room the first line has after its prefix, and an indent as
/// wide as that prefix, so every line ends by the same column).
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut col = 0;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if col > 0 && col + 1 + w > width {
            out.push('\n');
            out.push_str(indent);
            col = 0;
        } else if col > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += w;
    }
    out
}

/// Cuts a line to `width` characters.
pub fn clip(line: &str, width: usize) -> String {
    let line = line.trim_end();
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut s: String = line.chars().take(width.saturating_sub(3)).collect();
    s.push_str("...");
    s
}

/// Cuts a path to `width` characters from the left, keeping its end (file name and line).
pub fn clip_left(p: &str, width: usize) -> String {
    let n = p.chars().count();
    if n <= width {
        return p.to_string();
    }
    let tail: String = p.chars().skip(n - (width - 3)).collect();
    format!("...{tail}")
}

/// `2024-03-11T02:14:31.010` -> `2024-03-11 02:14:31`.
pub fn short_time(iso: &str) -> String {
    let t = iso.replacen('T', " ", 1);
    t.split('.').next().unwrap_or(&t).to_string()
}

/// `service on host`, or either alone.
pub fn who(o: &crate::source::Origin) -> Option<String> {
    match (o.service, &o.host) {
        (Some(s), Some(h)) => Some(format!("{s} on {h}")),
        (Some(s), None) => Some(s.to_string()),
        (None, Some(h)) => Some(format!("on {h}")),
        (None, None) => None,
    }
}
