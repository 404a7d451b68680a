//! Archive members as streams of their own: a support bundle (`incident-42.tar.gz`, a zip of
//! per-host `.tgz` files) is read member by member, never extracted (logtriage writes nothing).
//! A tar is read in one pass, in order; a zip file on disk is read through its central
//! directory, so its members can be scanned in parallel; a zip inside another archive (no
//! seeking there) is read in one pass through its local headers. Links, devices and FIFOs
//! inside an archive are listed, never followed; encrypted zip members are listed. Member names
//! are shown sanitised (control characters escaped) and never used as paths on disk.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Separates an archive's name from its member's: `bundle.tar.gz!/host2/x.log`.
pub const MEMBER_SEPARATOR: &str = "!/";

/// What a member is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberKind {
    File,
    Dir,
    /// A symbolic or hard link, to this target.
    Link(String),
    /// A device, FIFO or other special entry.
    Special,
}

/// One member's header.
#[derive(Clone, Debug)]
pub struct Member {
    /// Sanitised: control characters and invalid UTF-8 escaped.
    pub name: String,
    /// The size the header claims (uncompressed).
    pub size: u64,
    pub kind: MemberKind,
    pub encrypted: bool,
}

impl Member {
    /// Why this member is not scanned, if it is not.
    pub fn skip_reason(&self) -> Option<String> {
        match &self.kind {
            MemberKind::File if self.encrypted => {
                Some("encrypted archive member: skipped (no password)".to_string())
            }
            MemberKind::File | MemberKind::Dir => None,
            MemberKind::Link(t) => Some(format!(
                "link inside an archive (to {t}): skipped, never followed"
            )),
            MemberKind::Special => {
                Some("device, FIFO or other special member inside an archive: skipped".to_string())
            }
        }
    }
}

/// A member name as it may be shown: control characters escaped (`\x1b`), invalid UTF-8
/// replaced, a leading `/` or `./` dropped; `..` is kept (the name is never used on disk).
pub fn sanitise(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    let mut s = out.as_str();
    loop {
        let before = s;
        s = s.trim_start_matches('/');
        s = s.strip_prefix("./").unwrap_or(s);
        if s == before {
            break;
        }
    }
    s.to_string()
}

/// What went wrong while reading an archive: where reading stopped.
#[derive(Debug)]
pub struct ArchiveError {
    /// The member being read (or the last one read whole) when reading stopped.
    pub member: Option<String>,
    pub message: String,
}

/// A reader that counts what was read from it and whether it reached its end.
pub struct Tracked<R> {
    inner: R,
    pub read: u64,
    pub at_end: bool,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if n == 0 && !buf.is_empty() {
            self.at_end = true;
        }
        Ok(n)
    }
}

/// Calls `each` with every member of the tar stream `r`, in order, and a reader of its content
/// (for files), until it returns false. Returns where reading stopped if the archive is damaged
/// or cut short; a member cut short (its content ends before the size its header gives) is an
/// error too.
pub fn tar_members(
    r: &mut dyn Read,
    each: &mut dyn FnMut(&Member, &mut dyn Read) -> bool,
) -> Result<(), ArchiveError> {
    let mut archive = tar::Archive::new(r);
    let entries = archive.entries().map_err(|e| ArchiveError {
        member: None,
        message: format!("not a readable tar archive: {e}"),
    })?;
    let mut last: Option<String> = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| ArchiveError {
            member: last.clone(),
            message: match &last {
                Some(_) => format!("damaged or cut short after this member: {e}"),
                None => format!("damaged or cut short at its first member: {e}"),
            },
        })?;
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                MemberKind::File
            }
            tar::EntryType::Directory => MemberKind::Dir,
            tar::EntryType::Symlink | tar::EntryType::Link => MemberKind::Link(
                entry
                    .link_name_bytes()
                    .map(|b| sanitise(&b))
                    .unwrap_or_default(),
            ),
            _ => MemberKind::Special,
        };
        let member = Member {
            name: sanitise(&entry.path_bytes()),
            size: entry.size(),
            kind,
            encrypted: false,
        };
        if member.kind == MemberKind::File {
            let mut tracked = Tracked {
                inner: &mut entry,
                read: 0,
                at_end: false,
            };
            let go_on = each(&member, &mut tracked);
            if tracked.at_end && tracked.read < member.size {
                return Err(ArchiveError {
                    member: Some(member.name.clone()),
                    message: format!(
                        "cut short: this member ends after {} of the {} bytes its header gives",
                        tracked.read, member.size
                    ),
                });
            }
            if !go_on {
                return Ok(());
            }
        } else if !each(&member, &mut io::empty()) {
            return Ok(());
        }
        last = Some(member.name);
    }
    Ok(())
}

/// Calls `each` with every member of the zip stream `r`, read in one pass through its local
/// headers (inside another archive, or from stdin), until it returns false.
pub fn zip_stream_members(
    mut r: &mut dyn Read,
    each: &mut dyn FnMut(&Member, &mut dyn Read) -> bool,
) -> Result<(), ArchiveError> {
    let mut last: Option<String> = None;
    loop {
        let file = match zip::read::read_zipfile_from_stream(&mut r) {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(()),
            Err(e) => {
                return Err(ArchiveError {
                    member: last,
                    message: format!("zip archive damaged or cut short: {e}"),
                });
            }
        };
        let mut file = file;
        let member = zip_member(&file);
        let go_on = if member.kind == MemberKind::File && !member.encrypted {
            each(&member, &mut file)
        } else {
            each(&member, &mut io::empty())
        };
        if !go_on {
            return Ok(());
        }
        // Dropping the member reads past the rest of its data.
        drop(file);
        last = Some(member.name);
    }
}

fn zip_member<R: Read>(f: &zip::read::ZipFile<'_, R>) -> Member {
    let kind = if f.is_dir() {
        MemberKind::Dir
    } else if f.is_symlink() {
        MemberKind::Link(String::new())
    } else if f.is_file() {
        MemberKind::File
    } else {
        MemberKind::Special
    };
    Member {
        name: sanitise(f.name_raw()),
        size: f.size(),
        kind,
        encrypted: f.encrypted(),
    }
}

/// A file read with positioned reads: clones share the open file, each with its own position
/// (zip members are read in parallel).
#[derive(Clone)]
pub struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
    /// Bytes read are added to these (progress, decompression-bomb checks).
    counters: Vec<Arc<AtomicU64>>,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        for c in &self.counters {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let at = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = at.ok_or_else(|| io::Error::other("seek before the start of the file"))?;
        Ok(self.pos)
    }
}

/// A zip file on disk, its central directory read once; members can be opened in parallel.
#[derive(Clone)]
pub struct ZipFileIndex {
    archive: zip::ZipArchive<SharedFile>,
}

impl ZipFileIndex {
    pub fn open(file: File, counters: Vec<Arc<AtomicU64>>) -> Result<Self, ArchiveError> {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let shared = SharedFile {
            file: Arc::new(file),
            pos: 0,
            len,
            counters,
        };
        zip::ZipArchive::new(shared)
            .map(|archive| ZipFileIndex { archive })
            .map_err(|e| ArchiveError {
                member: None,
                message: format!("not a readable zip archive: {e}"),
            })
    }

    pub fn len(&self) -> usize {
        self.archive.len()
    }

    pub fn is_empty(&self) -> bool {
        self.archive.is_empty()
    }

    /// Member `i`'s header.
    pub fn member(&mut self, i: usize) -> Result<Member, ArchiveError> {
        self.archive
            .by_index_raw(i)
            .map(|f| zip_member(&f))
            .map_err(|e| ArchiveError {
                member: None,
                message: format!("zip archive damaged at member {}: {e}", i + 1),
            })
    }

    /// Calls `with` with a reader of member `i`'s content.
    pub fn read_member<T>(
        &mut self,
        i: usize,
        with: impl FnOnce(&mut dyn Read) -> T,
    ) -> Result<T, String> {
        let mut f = self.archive.by_index(i).map_err(|e| e.to_string())?;
        Ok(with(&mut f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitise(b"/host2/x.log"), "host2/x.log");
        assert_eq!(sanitise(b"./a/../../etc/x.log"), "a/../../etc/x.log");
        assert_eq!(sanitise(b"evil\x1b[31m.log"), "evil\\x1b[31m.log");
        assert_eq!(sanitise(b"bad\xffname"), "bad\u{fffd}name");
    }

    #[test]
    fn tar_members_in_order_and_a_cut_member_is_an_error() {
        let mut b = tar::Builder::new(Vec::new());
        for (name, text) in [("h1/a.log", "one\n"), ("h2/b.log", "two two\n")] {
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, text.as_bytes()).unwrap();
        }
        let bytes = b.into_inner().unwrap();
        let mut seen = Vec::new();
        tar_members(&mut bytes.as_slice(), &mut |m, r| {
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            seen.push((m.name.clone(), s));
            true
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                ("h1/a.log".to_string(), "one\n".to_string()),
                ("h2/b.log".to_string(), "two two\n".to_string())
            ]
        );
        // Cut inside the second member's content (header 512 + 512 data + header 512 + 3).
        let cut = &bytes[..512 * 3 + 3];
        let err = tar_members(&mut &cut[..], &mut |_, r| {
            let _ = io::copy(r, &mut io::sink());
            true
        })
        .unwrap_err();
        assert_eq!(err.member.as_deref(), Some("h2/b.log"));
        assert!(
            err.message.contains("after 3 of the 8 bytes"),
            "{}",
            err.message
        );
    }
}
