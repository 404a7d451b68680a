//! Events written twice. Accumulo's default log4j configuration (1.6–1.10, `generic_logger`:
//! signatures.md) sends every line to `X.debug.log` (DEBUG and above) and the INFO-and-above
//! ones again to `X.log`; scanning both would count each failure twice. So an `X.log*` file whose `X.debug.log*` family is among the
//! inputs is scanned only for events older than the earliest event of that family: those may
//! survive only in `X.log*`, which rotates more slowly. Everything later is counted once, from
//! the debug log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::event::layout;
use crate::source::origin::{base_name, classify};
use crate::source::{Input, sample::read_head};

/// Bytes read from the start of a debug log to find its first timestamp.
const HEAD_BYTES: usize = 64 * 1024;

/// An input whose later events are counted from another file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountedElsewhere {
    /// Events at or after this time (a `Stamp::key`) are skipped here.
    pub from_key: i64,
    /// The same time, ISO 8601.
    pub from: String,
    /// The file holding the earliest event of the family that has them.
    pub counted_in: String,
}

impl CountedElsewhere {
    /// Why part of the file was not counted, for reports.
    pub fn note(&self) -> String {
        format!(
            "events from {} on are counted from {} (Accumulo writes its INFO and higher lines to both)",
            self.from, self.counted_in
        )
    }
}

/// An Accumulo log's family inside an archive (`member` is its path there): (folder, service
/// stem, is it the debug log).
pub fn member_family(member: &str) -> Option<(PathBuf, String, bool)> {
    if classify(member).component != Some("accumulo") {
        return None;
    }
    family(Path::new(member))
}

/// Accumulo debug-log families met so far in one archive read in one pass: their earliest
/// event. Members come in the archive's order; a tar made of a sorted folder holds
/// `X.debug.log*` before `X.log*`, so the plain log's copies are known when it comes.
#[derive(Default)]
pub struct MemberFamilies {
    earliest: std::sync::Mutex<HashMap<(PathBuf, String), CountedElsewhere>>,
}

impl MemberFamilies {
    /// Notes a debug-log member's first event (from its first bytes).
    pub fn saw_debug_log(&self, family: (PathBuf, String), path: &str, head: &[u8]) {
        let Some((from_key, from)) = first_stamp_in(head) else {
            return;
        };
        let mut map = self.earliest.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(family).or_insert_with(|| CountedElsewhere {
            from_key,
            from: from.clone(),
            counted_in: path.to_string(),
        });
        if from_key < entry.from_key {
            *entry = CountedElsewhere {
                from_key,
                from,
                counted_in: path.to_string(),
            };
        }
    }

    /// For a plain log member of a family whose debug log was met: from when it is counted
    /// elsewhere.
    pub fn counted_elsewhere(&self, family: &(PathBuf, String)) -> Option<CountedElsewhere> {
        let map = self.earliest.lock().unwrap_or_else(|e| e.into_inner());
        map.get(family).cloned()
    }
}

/// (folder, service stem): `logs/tserver_node3` for `logs/tserver_node3.debug.log.2.gz`.
fn family(path: &Path) -> Option<(PathBuf, String, bool)> {
    let name = path.file_name()?.to_str()?;
    let base = base_name(name);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Some(stem) = base.strip_suffix(".debug.log") {
        return Some((dir, stem.to_string(), true));
    }
    let stem = base.strip_suffix(".log")?;
    Some((dir, stem.to_string(), false))
}

/// The first timestamp in the file at `path`: (key, ISO text).
fn first_stamp(path: &Path) -> Option<(i64, String)> {
    let mut head = Vec::new();
    read_head(path, HEAD_BYTES, &mut head);
    first_stamp_in(&head)
}

/// The first timestamp in the text `head`: (key, ISO text).
pub fn first_stamp_in(head: &[u8]) -> Option<(i64, String)> {
    let layout = layout::detect(head);
    head.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        layout.header(line).0.map(|s| (s.key(), s.iso()))
    })
}

/// Among `paths`: the Accumulo `X.log*` files (by index) whose `X.debug.log*` family is there
/// too, with that family's files.
pub fn plain_copies<'p>(paths: &[&'p Path]) -> Vec<(usize, Vec<&'p Path>)> {
    let mut debug_logs: HashMap<(PathBuf, String), Vec<&Path>> = HashMap::new();
    let mut plain = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let Some((dir, stem, debug)) = family(path) else {
            continue;
        };
        if classify(&path.to_string_lossy()).component != Some("accumulo") {
            continue;
        }
        if debug {
            debug_logs.entry((dir, stem)).or_default().push(path);
        } else {
            plain.push((i, (dir, stem)));
        }
    }
    plain
        .into_iter()
        .filter_map(|(i, key)| debug_logs.get(&key).map(|d| (i, d.clone())))
        .collect()
}

/// Per input (same order): whether its events from some time on are counted from another file.
pub fn plan(inputs: &[Input]) -> Vec<Option<CountedElsewhere>> {
    let files: Vec<(usize, &Path)> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, input)| match input {
            Input::File(p) => Some((i, p.as_path())),
            Input::Stdin => None,
        })
        .collect();
    let paths: Vec<&Path> = files.iter().map(|(_, p)| *p).collect();
    let mut out = vec![None; inputs.len()];
    let mut earliest: HashMap<Vec<&Path>, Option<CountedElsewhere>> = HashMap::new();
    for (k, debug_logs) in plain_copies(&paths) {
        out[files[k].0] = earliest
            .entry(debug_logs)
            .or_insert_with_key(|debug_logs| {
                debug_logs
                    .iter()
                    .filter_map(|p| first_stamp(p).map(|(k, iso)| (k, iso, p)))
                    .min_by_key(|(k, _, _)| *k)
                    .map(|(from_key, from, p)| CountedElsewhere {
                        from_key,
                        from,
                        counted_in: p.display().to_string(),
                    })
            })
            .clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accumulo_log_defers_to_its_debug_log_family_from_the_family_s_earliest_event() {
        let d = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| {
            let p = d.path().join(name);
            std::fs::write(&p, text).unwrap();
            Input::File(p)
        };
        let inputs = vec![
            w("tserver_n1.log", "2024-03-11 01:00:00,000 [x] WARN : a\n"),
            w(
                "tserver_n1.debug.log",
                "2024-03-11 02:00:00,000 [x] DEBUG: b\n",
            ),
            w(
                "tserver_n1.debug.log.1",
                "2024-03-11 01:30:00,000 [x] DEBUG: c\n",
            ),
            w("tserver_n2.log", "2024-03-11 01:00:00,000 [x] WARN : d\n"),
            w(
                "hadoop-hdfs-datanode-n1.log",
                "2024-03-11 01:00:00,000 WARN x: e\n",
            ),
            Input::Stdin,
        ];
        let plan = plan(&inputs);
        let c = plan[0].as_ref().expect("the .log defers to its debug logs");
        assert_eq!(c.from, "2024-03-11T01:30:00");
        assert!(c.counted_in.ends_with("tserver_n1.debug.log.1"));
        assert!(
            c.note()
                .contains("events from 2024-03-11T01:30:00 on are counted from")
        );
        // Debug logs themselves, a .log without a debug log, other services, stdin: whole.
        assert_eq!(plan[1..], [None, None, None, None, None]);
    }
}
