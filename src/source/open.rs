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

pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub compressed: bool,
}

/// Reads up to `n` bytes (fewer only at end of input).
fn peek(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// Opens an input; bytes read from disk are added to `counter` when given.
pub fn open(input: &Input, counter: Option<Arc<AtomicU64>>) -> io::Result<Opened> {
    let mut raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(Counted::new(io::stdin(), counter)),
        Input::File(p) => Box::new(Counted::new(File::open(p)?, counter)),
    };
    let head = peek(&mut raw, 2)?;
    let compressed = head == [0x1f, 0x8b];
    let joined = Cursor::new(head).chain(raw);
    let reader: Box<dyn Read + Send> = if compressed {
        Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(256 * 1024, joined),
        ))
    } else {
        Box::new(joined)
    };
    Ok(Opened { reader, compressed })
}
