//! Opening an input for reading: a file or stdin, decompressed in-process when its first bytes
//! are the gzip magic (whatever its name: `x.log.2` may be gzip), multi-member gzip included.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::walk::Input;

/// Counts the bytes read from disk (before decompression) into a shared counter (progress).
pub struct Counted<R> {
    inner: R,
    counter: Option<Arc<AtomicU64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = &self.counter {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl<R> Counted<R> {
    pub fn new(inner: R, counter: Option<Arc<AtomicU64>>) -> Self {
        Counted { inner, counter }
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

pub struct Opened {
    /// The text, after `head` when `head` is not empty (plain files).
    pub reader: Box<dyn Read + Send>,
    /// A plain input's first bytes (up to 64 KiB, what its first read gave), not in `reader`:
    /// a caller can look at them before reading on. Empty for gzip.
    pub head: Vec<u8>,
    pub compressed: bool,
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
const FIRST_READ_BYTES: usize = 64 * 1024;

/// Reads what one call gives, up to `n` bytes, and at least 2 (the gzip magic) unless the input
/// ends first.
fn first_bytes(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    thread_local! {
        // Read into a buffer kept per thread: only the bytes read are copied out, none zeroed.
        static FIRST: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    FIRST.with_borrow_mut(|buf| {
        buf.resize(n, 0);
        let mut got = 0;
        while got < 2.min(n) {
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

/// Opens an input; bytes read from disk are added to `counter` when given. Gzip is
/// decompressed on a thread of its own, a few blocks ahead (for reading a whole input).
pub fn open(input: &Input, counter: Option<Arc<AtomicU64>>) -> io::Result<Opened> {
    open_input(input, counter, true)
}

/// As `open`, decompressing gzip on the caller's thread only as far as it reads: for reading
/// the start of an input.
pub fn open_inline(input: &Input) -> io::Result<Opened> {
    open_input(input, None, false)
}

fn open_input(
    input: &Input,
    counter: Option<Arc<AtomicU64>>,
    read_ahead: bool,
) -> io::Result<Opened> {
    let mut raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(Counted::new(io::stdin(), counter)),
        Input::File(p) => Box::new(Counted::new(File::open(p)?, counter)),
    };
    // The first read takes up to a block: a small file is then read whole in one call.
    let head = first_bytes(&mut raw, FIRST_READ_BYTES)?;
    let compressed = head.starts_with(&[0x1f, 0x8b]);
    if !compressed {
        return Ok(Opened {
            reader: raw,
            head,
            compressed,
        });
    }
    let joined = Cursor::new(head).chain(raw);
    let gz = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(256 * 1024, joined));
    Ok(Opened {
        // Decompress on another core while this one scans.
        reader: if read_ahead {
            Box::new(Pipelined::new(gz))
        } else {
            Box::new(gz)
        },
        head: Vec::new(),
        compressed,
    })
}
