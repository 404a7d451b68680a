//! Which file is which. A followed file is known by its device and inode together with a
//! fingerprint of its first bytes: the inode alone fails when a deleted log's inode is reused
//! by the next one, the first bytes alone fail when logs start with the same banner. While the
//! follower holds a file open its inode cannot be reused, so device and inode suffice for the
//! files it has open; the first bytes matter across restarts (the `--state` checkpoint) and for
//! copies (copytruncate). The bytes just before the read offset tell a file that was truncated
//! and written again past that offset, and which copy holds a file's unread rest.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::time::SystemTime;

/// Bytes at the start of a file that fingerprint it.
pub const HEAD_BYTES: usize = 1024;
/// Bytes before the read offset kept to recognise the file (or a copy of it) at that offset.
pub const RECENT_BYTES: usize = 256;

/// Device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub dev: u64,
    pub ino: u64,
}

impl Ident {
    pub fn of(meta: &Metadata) -> Ident {
        Ident {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// 64-bit FNV-1a: stable across builds and machines (it is written to the state file).
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Reads up to `len` bytes at `off` (fewer only at the end of the file).
pub fn read_at(file: &File, off: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let mut got = 0;
    while got < len {
        match file.read_at(&mut buf[got..], off + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// Does the file hold exactly `expect` at `off`?
pub fn holds_at(file: &File, off: u64, expect: &[u8]) -> bool {
    expect.is_empty() || read_at(file, off, expect.len()).is_ok_and(|b| b == expect)
}

/// Do the file's bytes `[end - recent.len(), end)` equal `recent`?
pub fn holds_before(file: &File, end: u64, recent: &[u8]) -> bool {
    match end.checked_sub(recent.len() as u64) {
        Some(start) => holds_at(file, start, recent),
        None => false,
    }
}

/// The offset where the last line of a file of `size` bytes starts (after the last newline),
/// searching back at most 1 MiB; `size` when no newline is that near the end of a larger file.
pub fn last_line_start(file: &File, size: u64) -> io::Result<u64> {
    const STEP: u64 = 64 * 1024;
    let mut end = size;
    while end > 0 && size - end < (1 << 20) {
        let start = end.saturating_sub(STEP);
        let buf = read_at(file, start, (end - start) as usize)?;
        if let Some(i) = memchr::memrchr(b'\n', &buf) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(if end == 0 { 0 } else { size })
}

/// Counts newlines in `[from, to)`.
pub fn count_newlines(file: &File, from: u64, to: u64) -> io::Result<u64> {
    const STEP: usize = 1 << 20;
    let mut buf = vec![0u8; STEP];
    let mut at = from;
    let mut n = 0;
    while at < to {
        let want = ((to - at) as usize).min(STEP);
        let got = match file.read_at(&mut buf[..want], at) {
            Ok(0) => break,
            Ok(g) => g,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
        at += got as u64;
    }
    Ok(n)
}

/// When the file was created (its birth time), or, where the file system does not keep it,
/// last modified.
pub fn born(meta: &Metadata) -> Option<SystemTime> {
    meta.created().or_else(|_| meta.modified()).ok()
}

/// Where an open file is now (Linux: `/proc/self/fd`), after renames; `None` when it was
/// deleted or this cannot be known.
pub fn current_path(file: &File) -> Option<std::path::PathBuf> {
    use std::os::fd::AsRawFd;
    let p = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()?;
    if p.to_string_lossy().ends_with(" (deleted)") || !p.is_absolute() {
        return None;
    }
    Some(p)
}

/// Compressed rotated copies (`x.log.2.gz`) are not followed: they hold old lines.
pub fn is_compressed(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(b"BZh")
        || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn fs_rename(a: &std::path::Path, b: &std::path::Path) {
        std::fs::rename(a, b).unwrap();
    }

    #[test]
    fn last_line_and_counts() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.log");
        let mut f = File::create(&p).unwrap();
        f.write_all(b"one\ntwo\nthr").unwrap();
        let f = File::open(&p).unwrap();
        assert_eq!(last_line_start(&f, 11).unwrap(), 8);
        assert_eq!(last_line_start(&f, 8).unwrap(), 8);
        assert_eq!(last_line_start(&f, 3).unwrap(), 0);
        assert_eq!(count_newlines(&f, 0, 8).unwrap(), 2);
        assert!(holds_before(&f, 8, b"two\n"));
        assert!(!holds_before(&f, 8, b"twx\n"));
        assert!(holds_at(&f, 0, b"one"));
        let q = d.path().join("b.log");
        fs_rename(&p, &q);
        assert_eq!(
            current_path(&f).map(|x| x.file_name().unwrap().to_owned()),
            Some("b.log".into())
        );
        std::fs::remove_file(&q).unwrap();
        assert_eq!(current_path(&f), None);
    }
}
