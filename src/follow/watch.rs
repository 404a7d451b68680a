//! Wake-ups for the follow loop: file-system events through `notify` (inotify on Linux) for low
//! latency, and SIGINT/SIGTERM. Events are only hints: every wake-up reads every followed file
//! (a `stat` each), so a lost or merged event costs nothing but latency, and the loop also runs
//! a full check periodically. Changes to data mean "read"; anything else (a file created,
//! renamed, deleted, its permissions changed) also means "look for files again".

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::Sender;

use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

/// Why the loop woke up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Files changed; `structural`: names changed too (created, renamed, deleted...).
    Changed { structural: bool },
    /// SIGINT or SIGTERM.
    Stop,
}

/// The folders watched so far.
pub struct Watch {
    watcher: RecommendedWatcher,
    watched: HashSet<(PathBuf, bool)>,
    /// Folders that could not be watched (summarised failures), for the summary.
    pub unwatched: usize,
}

impl Watch {
    pub fn new(tx: Sender<Wake>) -> Result<Watch, String> {
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let structural = match res {
                Ok(ev) => match ev.kind {
                    EventKind::Access(_) => return,
                    EventKind::Modify(ModifyKind::Data(_)) => false,
                    _ => true,
                },
                // The kernel's queue overflowed, or the like: look at everything again.
                Err(_) => true,
            };
            let _ = tx.send(Wake::Changed { structural });
        })
        .map_err(|e| e.to_string())?;
        Ok(Watch {
            watcher,
            watched: HashSet::new(),
            unwatched: 0,
        })
    }

    /// Watches the folders not watched yet; returns warnings for those that cannot be.
    /// Failures are summarised per cause (the inotify watch limit fails thousands of folders
    /// at once).
    pub fn sync(&mut self, wanted: &[(PathBuf, bool)]) -> Vec<String> {
        let mut failed: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for (dir, recursive) in wanted {
            let key = (dir.clone(), *recursive);
            if self.watched.contains(&key) || !dir.is_dir() {
                continue;
            }
            let mode = if *recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            match self.watcher.watch(dir, mode) {
                Ok(()) => {
                    self.watched.insert(key);
                }
                Err(e) => {
                    // Remembered anyway: the periodic check covers it; warn once.
                    self.watched.insert(key);
                    failed.entry(e.to_string()).or_default().push(dir.clone());
                }
            }
        }
        let mut warnings = Vec::new();
        for (cause, dirs) in failed {
            self.unwatched += dirs.len();
            if dirs.len() <= 3 {
                for d in dirs {
                    warnings.push(format!(
                        "{}: cannot watch for changes ({cause}): checked every second instead",
                        d.display()
                    ));
                }
            } else {
                warnings.push(format!(
                    "{} folders cannot be watched for changes ({cause}; first {}): checked every second instead",
                    dirs.len(),
                    dirs[0].display()
                ));
            }
        }
        warnings
    }
}
