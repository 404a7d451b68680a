//! Opening an input for reading: a file or stdin, decompressed in-process when its first bytes
//! are a compressor's magic (whatever its name: `x.log.2` may be gzip): gzip, xz, bzip2 and
//! zstd, multi-member / multi-stream / multi-frame included. `sniff` tells what a stream's
//! first bytes are (compressed, a tar or zip archive, `yarn logs` output, or text), so an
//! archive member or a decompressed stream is recognised the same way as a file.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::walk::Input;

/// Counts the bytes read from disk (before decompression) into shared counters (progress, and
/// the input's own count that decompression-bomb checks compare output with).
pub struct Counted<R> {
    inner: R,
    counters: Vec<Arc<AtomicU64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for c in &self.counters {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl<R> Counted<R> {
    pub fn new(inner: R, counter: Option<Arc<AtomicU64>>) -> Self {
        Counted {
            inner,
            counters: counter.into_iter().collect(),
        }
    }

    pub fn with_counters(inner: R, counters: Vec<Arc<AtomicU64>>) -> Self {
        Counted { inner, counters }
    }
}

/// Reads from `inner` on a thread of its own, a few blocks ahead of the consumer: gzip
/// decompression and scanning then run on two cores at once. Memory: `DEPTH` blocks.
pub struct Pipelined {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    recycle: std::sync::mpsc::SyncSender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

const PIPE_BLOCK: usize = 1 << 20;
const PIPE_DEPTH: usize = 3;

impl Pipelined {
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(PIPE_DEPTH);
        let (recycle, spare) = std::sync::mpsc::sync_channel::<Vec<u8>>(PIPE_DEPTH + 2);
        std::thread::spawn(move || {
            loop {
                let mut block = spare
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(PIPE_BLOCK));
                block.resize(PIPE_BLOCK, 0);
                let mut n = 0;
                let result = loop {
                    match inner.read(&mut block[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => {
                            n += k;
                            if n == block.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                block.truncate(n);
                let last = n == 0 || result.is_err();
                if n > 0 && tx.send(Ok(block)).is_err() {
                    return;
                }
                if let Err(e) = result {
                    let _ = tx.send(Err(e));
                    return;
                }
                if last {
                    return;
                }
            }
        });
        Pipelined {
            rx,
            recycle,
            current: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl Read for Pipelined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(block)) => {
                    let old = std::mem::replace(&mut self.current, block);
                    let _ = self.recycle.try_send(old);
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A compressor whose output logrotate (`compresscmd`) or a support bundle may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Compression {
    Gzip,
    Xz,
    Bzip2,
    Zstd,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
        }
    }

    /// The compressor whose magic bytes start `head`.
    pub fn of(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Compression::Xz)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.len() >= 10
            && head.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&head[3])
            // A block (pi) or the end of the stream (sqrt pi): not a log line that says "BZh9".
            && (head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
                || head[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
        {
            Some(Compression::Bzip2)
        } else {
            None
        }
    }

    /// A decoder of every member, stream or frame in `r`, one after another.
    pub fn decoder<R: Read>(self, r: R) -> io::Result<Decoder<io::BufReader<R>>> {
        let r = io::BufReader::with_capacity(256 * 1024, r);
        Ok(match self {
            Compression::Gzip => Decoder::Gzip(flate2::bufread::MultiGzDecoder::new(r)),
            Compression::Xz => Decoder::Xz(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
            Compression::Bzip2 => Decoder::Bzip2(bzip2::bufread::MultiBzDecoder::new(r)),
            Compression::Zstd => Decoder::Zstd(zstd::stream::read::Decoder::with_buffer(r)?),
        })
    }
}

/// The decompressed text of a `Compression`'s data (`Send` when its source is).
pub enum Decoder<R: io::BufRead> {
    Gzip(flate2::bufread::MultiGzDecoder<R>),
    Xz(liblzma::bufread::XzDecoder<R>),
    Bzip2(bzip2::bufread::MultiBzDecoder<R>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
}

impl<R: io::BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Xz(d) => d.read(buf),
            Decoder::Bzip2(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        }
    }
}

/// What a stream's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Compressed(Compression),
    /// A tar archive (the POSIX or GNU `ustar` mark at offset 257).
    Tar,
    /// A zip archive (a local file header, or the end record of an empty one).
    Zip,
    /// `yarn logs` output: containers' log files one after another.
    YarnLogs,
    /// Log text (or a binary file, which the scanner finds and skips).
    Text,
}

/// Bytes a head must hold (when the stream has as many) for `sniff` to see a tar header.
pub const SNIFF_BYTES: usize = 512;

pub fn sniff(head: &[u8]) -> Kind {
    if let Some(c) = Compression::of(head) {
        return Kind::Compressed(c);
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Kind::Tar;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if super::yarn::looks_like_yarn_logs(head) {
        return Kind::YarnLogs;
    }
    Kind::Text
}

pub struct Opened {
    /// The text, after `head` when `head` is not empty (plain files).
    pub reader: Box<dyn Read + Send>,
    /// A plain input's first bytes (up to 64 KiB, what its first read gave), not in `reader`:
    /// a caller can look at them before reading on. Empty for compressed inputs.
    pub head: Vec<u8>,
    pub compression: Option<Compression>,
}

impl Opened {
    /// The whole text: `head`, then the rest.
    pub fn into_reader(self) -> Box<dyn Read + Send> {
        if self.head.is_empty() {
            self.reader
        } else {
            Box::new(Cursor::new(self.head).chain(self.reader))
        }
    }
}

/// Bytes asked for by the first read of an input.
pub const FIRST_READ_BYTES: usize = 64 * 1024;

/// Reads what one call gives, up to `n` bytes, and at least `SNIFF_BYTES` (the magic numbers,
/// a tar header) unless the input ends first.
pub fn first_bytes(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    thread_local! {
        // Read into a buffer kept per thread: only the bytes read are copied out, none zeroed.
        static FIRST: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    FIRST.with_borrow_mut(|buf| {
        buf.resize(n, 0);
        let mut got = 0;
        while got < SNIFF_BYTES.min(n) {
            match r.read(&mut buf[got..n]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(buf[..got].to_vec())
    })
}

/// Opens an input; bytes read from disk are added to `counter` when given. A compressed input
/// is decompressed on a thread of its own, a few blocks ahead (for reading a whole input).
pub fn open(input: &Input, counters: Vec<Arc<AtomicU64>>) -> io::Result<Opened> {
    open_input(input, counters, true)
}

/// As `open`, decompressing on the caller's thread only as far as it reads: for reading the
/// start of an input.
pub fn open_inline(input: &Input) -> io::Result<Opened> {
    open_input(input, Vec::new(), false)
}

fn open_input(
    input: &Input,
    counters: Vec<Arc<AtomicU64>>,
    read_ahead: bool,
) -> io::Result<Opened> {
    let mut raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(Counted::with_counters(io::stdin(), counters)),
        Input::File(p) => Box::new(Counted::with_counters(File::open(p)?, counters)),
    };
    // The first read takes up to a block: a small file is then read whole in one call.
    let head = first_bytes(&mut raw, FIRST_READ_BYTES)?;
    let Some(compression) = Compression::of(&head) else {
        return Ok(Opened {
            reader: raw,
            head,
            compression: None,
        });
    };
    let decoded = compression.decoder(Cursor::new(head).chain(raw))?;
    Ok(Opened {
        // Decompress on another core while this one scans.
        reader: if read_ahead {
            Box::new(Pipelined::new(decoded))
        } else {
            Box::new(decoded)
        },
        head: Vec::new(),
        compression: Some(compression),
    })
}
