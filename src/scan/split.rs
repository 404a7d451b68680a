//! Splitting one large file into ranges scanned in parallel. Each range starts at an event
//! boundary (the first header line at or after the cut), so an event (a log line and its stack
//! trace) is never divided between two workers, and line numbers stay exact: each range counts
//! its own lines and is shifted by the lines of the ranges before it.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;

use crate::event::Layout;
use crate::event::frame::{self, MAX_EVENT_BYTES};

/// Reads one byte range of a file with positioned reads (ranges share the open file).
pub struct RangeReader<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
}

impl<'f> RangeReader<'f> {
    pub fn new(file: &'f File, range: Range<u64>) -> Self {
        RangeReader {
            file,
            pos: range.start,
            end: range.end,
        }
    }
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min((self.end - self.pos) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The first event boundary at or after `cut`: the start of the first header line (or, past a
/// whole event's worth of bytes without one, the first line start).
fn boundary_after(file: &File, cut: u64, size: u64, layout: Layout) -> io::Result<u64> {
    let from = cut - 1;
    let want = ((MAX_EVENT_BYTES + 64 * 1024) as u64).min(size - from) as usize;
    let mut probe = vec![0; want];
    let mut got = 0;
    while got < want {
        let n = file.read_at(&mut probe[got..], from + got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    probe.truncate(got);
    // probe[0] is the byte before the cut: the first line start at or after the cut.
    let Some(first) = memchr::memchr(b'\n', &probe).map(|i| i + 1) else {
        return Ok(size);
    };
    let mut p = first;
    while p < probe.len() {
        let next = frame::next_line(&probe, p, probe.len());
        if next == probe.len() && probe[next - 1] != b'\n' && from + (next as u64) < size {
            break; // a line cut by the probe's end: cannot tell
        }
        if layout.is_header(frame::line_at(&probe, p, probe.len())) {
            return Ok(from + p as u64);
        }
        p = next;
    }
    if from + probe.len() as u64 >= size {
        // No header between the cut and the end: the rest belongs to the event before it.
        return Ok(size);
    }
    Ok((from + first as u64).min(size))
}

/// Cuts `0..size` into ranges of about `range_bytes`, each starting at an event boundary.
pub fn plan(
    file: &File,
    size: u64,
    layout: Layout,
    range_bytes: u64,
) -> io::Result<Vec<Range<u64>>> {
    let mut starts = vec![0u64];
    let mut cut = range_bytes;
    while cut < size {
        let b = boundary_after(file, cut, size, layout)?;
        if b >= size {
            break;
        }
        if starts.last().is_some_and(|&last| b > last) {
            starts.push(b);
        }
        cut = b.max(cut) + range_bytes;
    }
    Ok(starts
        .iter()
        .enumerate()
        .map(|(i, &s)| s..starts.get(i + 1).copied().unwrap_or(size))
        .collect())
}
