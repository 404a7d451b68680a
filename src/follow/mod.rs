//! Following logs as they grow (`logtriage tail`): every known failure reported as it is
//! written, through log rotation and truncation, none lost and none repeated.
//!
//! The parts, from the file system up:
//! - `identity`: which file is which — device and inode together with a fingerprint of the
//!   file's first bytes (either alone fails: inodes are reused, log headers repeat), and the
//!   bytes just before the read offset (to spot a file truncated and rewritten, or a copy).
//! - `stream`: one file's reading state — the bytes read but not yet framed, the line number,
//!   the offset — fed to the batch engine's `Scanner` one event at a time. An event is complete
//!   when the next header arrives, or after `--flush-after` with nothing new in the file. A
//!   partial line (no newline yet) is never scanned.
//! - `follower`: every followed file: discovery (folders, globs, new files), rotation
//!   (rename-and-create, copytruncate, delete-and-recreate, symlink swap), draining renamed
//!   files to their end, resuming from a checkpoint. Its `poll_once(now)` is one deterministic
//!   step that reads the file system and returns the occurrences found, with time given by the
//!   caller, so tests drive it without waiting.
//! - `checkpoint`: the `--state` file, written atomically (temporary file, then rename), 0600.
//! - `output`: cooldown of repeated fingerprints, the human and NDJSON printers, the summary.
//! - `alert`: `--webhook` senders and `--exec` workers, fed with what the cooldown shows, on
//!   threads of their own so that a slow receiver never delays following.
//! - `limits`: the open-file limit (raised to the hard limit at start), the descriptor budget
//!   (`--max-open`; the follower closes the least recently active files past it and watches
//!   them by path: `follower/budget`), and warnings summarised per cause.
//! - `watch`: inotify (through `notify`) for low latency; `command`: the real loop, with a
//!   periodic full check as a safety net, `--poll` for file systems without events, signals.

pub mod alert;
pub mod checkpoint;
pub mod command;
pub mod follower;
pub mod identity;
pub mod limits;
pub mod output;
pub mod stream;
pub mod watch;

use std::time::Duration;

pub use follower::{Config, Emitted, Follower};

/// Reads a duration for the command line: `500ms`, `30s`, `5m`, `2h`, `1d`, or `0`.
pub fn parse_span(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.chars().all(|c| c == '0') && !t.is_empty() {
        return Ok(Duration::ZERO);
    }
    match crate::rules::pack::parse_duration_ms(t) {
        Some(ms) if ms >= 0 => Ok(Duration::from_millis(ms as u64)),
        _ => Err(format!(
            "{s:?} is not a duration: use a number and a unit, e.g. 500ms, 2s, 5m, 1h (or 0)"
        )),
    }
}

/// `1h 02m`, `3m 05s`, `12.3 s`, `450 ms`: a span for people.
pub fn human_span(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else if s >= 1 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(parse_span("0"), Ok(Duration::ZERO));
        assert_eq!(parse_span("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_span("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_span("5").is_err());
        assert!(parse_span("soon").is_err());
        assert_eq!(human_span(Duration::from_secs(3725)), "1h 02m");
        assert_eq!(human_span(Duration::from_secs(185)), "3m 05s");
    }
}
