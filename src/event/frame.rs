//! Multi-line framing inside a buffer of whole lines: from any byte offset, walk back to the
//! header line of the event that holds it and forward to the next header. The batch engine only
//! frames around literal hits, so most lines are never looked at one by one.

use super::layout::Layout;

/// Events are never framed longer than this: a longer one is cut, and the rest of it is read as
/// further events (reported at their own first line).
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// Start of the line holding `pos` (never before `lo`).
#[inline]
pub fn line_start(buf: &[u8], lo: usize, pos: usize) -> usize {
    memchr::memrchr(b'\n', &buf[lo..pos]).map_or(lo, |i| lo + i + 1)
}

/// End of the line starting at or holding `pos`: the offset just past its `\n` (or `hi`).
#[inline]
pub fn next_line(buf: &[u8], pos: usize, hi: usize) -> usize {
    memchr::memchr(b'\n', &buf[pos..hi]).map_or(hi, |i| pos + i + 1)
}

/// The line at `start` without its terminator (`\n` or `\r\n`).
#[inline]
pub fn line_at(buf: &[u8], start: usize, hi: usize) -> &[u8] {
    let end = memchr::memchr(b'\n', &buf[start..hi]).map_or(hi, |i| start + i);
    let l = &buf[start..end];
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// Start of the header line of the event holding `pos`. `lo` is a known event boundary (the
/// buffer's first byte is always one).
pub fn event_start(layout: Layout, buf: &[u8], lo: usize, pos: usize) -> usize {
    let mut ls = line_start(buf, lo, pos);
    loop {
        if ls == lo || layout.is_header(line_at(buf, ls, buf.len())) {
            return ls;
        }
        if pos - ls > MAX_EVENT_BYTES {
            return ls;
        }
        ls = line_start(buf, lo, ls - 1);
    }
}

/// End of the event whose header line starts at `start`: the start of the next header line, or
/// `hi`.
pub fn event_end(layout: Layout, buf: &[u8], start: usize, hi: usize) -> usize {
    let mut p = next_line(buf, start, hi);
    while p < hi {
        if p - start > MAX_EVENT_BYTES || layout.is_header(line_at(buf, p, hi)) {
            return p;
        }
        p = next_line(buf, p, hi);
    }
    hi
}

/// Start of the last header line in `buf[lo..hi]` (searching back at most `MAX_EVENT_BYTES`);
/// `None` when there is none in that reach.
pub fn last_header(layout: Layout, buf: &[u8], lo: usize, hi: usize) -> Option<usize> {
    if hi <= lo {
        return None;
    }
    // `hi` is just past a `\n` (or the end of input): start from the last line.
    let mut ls = line_start(buf, lo, hi - 1);
    loop {
        if layout.is_header(line_at(buf, ls, hi)) {
            return Some(ls);
        }
        if ls == lo || hi - ls > MAX_EVENT_BYTES {
            return None;
        }
        ls = line_start(buf, lo, ls - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &[u8] = b"2024-03-11 02:14:31,010 ERROR [a.B] - accept failed\n\
java.io.IOException: Too many open files\n\
\tat sun.nio.ch.ServerSocketChannelImpl.accept0(Native Method)\n\
2024-03-11 02:14:32,000 INFO [a.B] - next\n";

    #[test]
    fn frames_a_stack_trace_with_its_header() {
        let hit = LOG.windows(4).position(|w| w == b"Too ").unwrap();
        let s = event_start(Layout::Log4j, LOG, 0, hit);
        assert_eq!(s, 0);
        let e = event_end(Layout::Log4j, LOG, s, LOG.len());
        assert!(LOG[..e].ends_with(b"(Native Method)\n"));
        assert_eq!(last_header(Layout::Log4j, LOG, 0, LOG.len()), Some(e));
    }

    #[test]
    fn crlf_lines() {
        let log = b"2024-03-11 02:14:31,010 ERROR [a.B] - x\r\n\tat y\r\n2024-03-11 02:14:32,000 INFO [a.B] - z\r\n";
        let e = event_end(Layout::Log4j, log, 0, log.len());
        assert_eq!(&log[e..e + 4], b"2024");
        assert_eq!(
            line_at(log, 0, log.len()),
            b"2024-03-11 02:14:31,010 ERROR [a.B] - x"
        );
    }
}
