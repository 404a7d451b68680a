//! The open-file limit and summarised warnings. At start the soft `RLIMIT_NOFILE` is raised to
//! the hard limit (as servers do), and the descriptor budget (`--max-open`) is derived from it.
//! Problems that many files share (cannot open: too many open files) are told as one line per
//! cause with a count, at most once a minute, and in the summary on exit.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Descriptors kept free of followed files: standard streams, inotify, the signal pipe, the
/// state file, webhook connections, alert commands, folders being walked.
const MARGIN: u64 = 32;
/// The default budget is at most this many open files.
const DEFAULT_MAX: u64 = 4096;
/// A summarised warning is repeated at most this often.
pub const REPEAT: Duration = Duration::from_secs(60);

/// The open-file limit: before and after raising it, and why it could not be raised.
pub struct NoFile {
    pub before: u64,
    pub now: u64,
    pub error: Option<String>,
}

/// Raises the soft open-file limit to the hard one.
// `rlim_t` is not `u64` everywhere.
#[allow(clippy::unnecessary_cast)]
pub fn raise_nofile() -> NoFile {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return NoFile {
            before: 1024,
            now: 1024,
            error: Some(std::io::Error::last_os_error().to_string()),
        };
    }
    let before = rl.rlim_cur as u64;
    // An unlimited hard limit cannot be the soft one (the kernel caps it at nr_open).
    let want = if rl.rlim_max == libc::RLIM_INFINITY {
        1 << 20
    } else {
        rl.rlim_max as u64
    };
    if want <= before {
        return NoFile {
            before,
            now: before,
            error: None,
        };
    }
    let new = libc::rlimit {
        rlim_cur: want as libc::rlim_t,
        rlim_max: rl.rlim_max,
    };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } != 0 {
        return NoFile {
            before,
            now: before,
            error: Some(std::io::Error::last_os_error().to_string()),
        };
    }
    NoFile {
        before,
        now: want,
        error: None,
    }
}

/// The default number of followed files held open under an open-file limit.
pub fn default_budget(limit: u64) -> u64 {
    (limit / 2).min(DEFAULT_MAX).saturating_sub(MARGIN).max(8)
}

/// Files held open at most even past the budget (closed files that changed are read at once).
pub fn hard_budget(limit: u64) -> u64 {
    limit.saturating_sub(MARGIN + 16).max(8)
}

/// Summarised warnings: the latest count per (what, cause), told at most once a minute.
#[derive(Default)]
pub struct Tallies {
    told: BTreeMap<(&'static str, String), Instant>,
    most: BTreeMap<(&'static str, String), usize>,
}

impl Tallies {
    /// Takes a step's counts; returns the lines to print now.
    pub fn add(&mut self, counts: Vec<(&'static str, String, usize)>, now: Instant) -> Vec<String> {
        let mut lines = Vec::new();
        for (what, cause, n) in counts {
            let key = (what, cause);
            let most = self.most.entry(key.clone()).or_insert(0);
            *most = (*most).max(n);
            let due = self.told.get(&key).is_none_or(|t| now >= *t + REPEAT);
            if due {
                lines.push(format!("{n} {what}: {}; retrying", key.1));
                self.told.insert(key, now);
            }
        }
        lines
    }

    /// The summary lines: each cause with the most files it concerned at once.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for ((what, cause), n) in &self.most {
            s.push_str(&format!("  {what}: {cause} (up to {n} at once)\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_and_tallies() {
        assert_eq!(default_budget(1024), 480);
        assert_eq!(default_budget(256), 96);
        assert_eq!(default_budget(1 << 20), 4064);
        let mut t = Tallies::default();
        let now = Instant::now();
        let c = || {
            vec![(
                "files could not be opened",
                "Too many open files".to_string(),
                412,
            )]
        };
        assert_eq!(
            t.add(c(), now),
            vec!["412 files could not be opened: Too many open files; retrying"]
        );
        assert!(t.add(c(), now + Duration::from_secs(30)).is_empty());
        assert_eq!(t.add(c(), now + REPEAT).len(), 1);
        assert!(t.summary().contains("up to 412 at once"));
    }
}
