//! The `--state` checkpoint: for each followed file, by identity (device, inode, fingerprint of
//! its first bytes), the offset and line number up to which everything has been reported, and a
//! fingerprint of the bytes just before the read offset (to recognise the file, or a copy of it,
//! after a restart). Written atomically: a temporary file in the same folder (mode 0600),
//! flushed to disk, then renamed over the old one, so a crash leaves the old or the new state,
//! never a torn one.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// When the files were last looked for (nanoseconds since the Unix epoch): files created
    /// after it were not followed yet, so after a restart they are read from their first line.
    pub saved_at_ns: i64,
    pub files: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where the file was last seen.
    pub path: String,
    pub dev: u64,
    pub ino: u64,
    /// FNV-1a of the file's first `head_len` bytes.
    pub head_len: u32,
    pub head_hash: String,
    /// Everything before this offset has been reported (it is an event boundary).
    pub offset: u64,
    /// Line number at `offset` (null: not known yet, to be counted).
    pub line: Option<u64>,
    /// How far the file had been read; FNV-1a of the `recent_len` bytes before it.
    pub read_to: u64,
    pub recent_len: u32,
    pub recent_hash: String,
    /// Lines at `offset` that continue an event are not reported (its header was before).
    #[serde(default)]
    pub skip_continuation: bool,
    /// The file's modification time (nanoseconds since the Unix epoch) when not a whole line of
    /// it had been read yet: if it changed while stopped, a copy may hold what was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime_ns: Option<i64>,
    /// Rules (by id) already reported for the event at `offset`, which was not complete yet
    /// (`check` reports the last event of a file at its end): not reported again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reported: Vec<String>,
}

impl State {
    pub fn saved_at(&self) -> SystemTime {
        if self.saved_at_ns >= 0 {
            UNIX_EPOCH + Duration::from_nanos(self.saved_at_ns as u64)
        } else {
            UNIX_EPOCH
        }
    }
}

pub fn nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

pub fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// Reads a state file; `Ok(None)` when there is none yet.
pub fn load(path: &Path) -> Result<Option<State>, String> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    let state: State =
        serde_json::from_slice(&text).map_err(|e| format!("not a logtriage state file: {e}"))?;
    if state.version != VERSION {
        return Err(format!(
            "state file version {} (this logtriage writes version {VERSION})",
            state.version
        ));
    }
    Ok(Some(state))
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "state".into());
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}

/// Writes the state atomically, readable by its owner only.
pub fn save(path: &Path, state: &State) -> io::Result<()> {
    let tmp = temp_path(path);
    // A temporary file left by a crash may have other permissions: start afresh.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let mut text = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
        text.push(b'\n');
        f.write_all(&text)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename itself reaches the disk when the folder is synced.
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn round_trip_atomic_and_private() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("tail.state");
        assert_eq!(load(&p), Ok(None));
        let s = State {
            version: VERSION,
            saved_at_ns: 1_700_000_000_000_000_000,
            files: vec![Entry {
                path: "/var/log/x.log".into(),
                dev: 1,
                ino: 2,
                head_len: 3,
                head_hash: hex(4),
                offset: 5,
                line: Some(6),
                read_to: 7,
                recent_len: 8,
                recent_hash: hex(9),
                skip_continuation: false,
                mtime_ns: None,
                reported: Vec::new(),
            }],
        };
        save(&p, &s).unwrap();
        save(&p, &s).unwrap();
        assert_eq!(load(&p), Ok(Some(s)));
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let left: Vec<_> = fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left");
        fs::write(&p, b"{").unwrap();
        assert!(load(&p).is_err());
    }
}
