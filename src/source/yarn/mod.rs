//! `yarn logs -applicationId ID` output saved to a file: `looks_like_yarn_logs` recognises it by
//! its first bytes, `Sections` splits it, streaming, into one section per container log file.
//!
//! The text Hadoop prints (hadoop-yarn-common, `org.apache.hadoop.yarn.logaggregation`; checked
//! in the source and in saved outputs):
//!
//! Hadoop 2 (2.x before the file controllers): `LogCLIHelpers.dumpAllContainersLogs` / `dumpAContainersLogs*` print one
//! banner per container, `println("\n\nContainer: " + id + " on " + nodeFile)` (so two blank
//! lines first) and `"="` repeated `containerString.length()` (2 more than the visible line);
//! then `AggregatedLogFormat.LogReader.readAContainerLogsForALogType` prints each log file:
//! `LogType:NAME`, `Log Upload Time:DATE` (omitted when no time is given), `LogLength:N`,
//! `Log Contents:`, exactly N bytes (the file as stored; no newline added), then
//! - 2.6: `println("")` only, no End line;
//! - 2.7: `End of LogType:NAME` right after the bytes (on the last line when the file does not
//!   end with a newline), then an empty line;
//! - later 2.x (the version with the `bytes`/`-size` argument): `"\nEnd of LogType:NAME"`, then
//!   an empty line.
//!
//! 2.2 printed `LogType: NAME` / `LogLength: N` (a space) and no End line. The running-container
//! path of `LogsCLI` prints no `LogLength:` line, only `LogType:`, `Log Upload Time:`,
//! `Log Contents:`, the NodeManager's text, a newline and `End of LogType:NAME`.
//!
//! Hadoop 3 (3.x, the pluggable file controllers; backported to 2.9/2.10, not checked there):
//! `LogAggregationTFileController` /
//! `LogAggregationIndexedFileController.readAggregatedLogs` call `LogToolUtils.outputContainerLog`,
//! whose header (`formatContainerLogHeader`) repeats the banner for every log file:
//! `Container: ID on NODE`, `LogAggregationType: AGGREGATED` (`LOCAL` from a running container's
//! NodeManager), `"="` x the banner's length, `LogType:NAME`, `LogLastModifiedTime:DATE`,
//! `LogLength:N`, `LogContents:`, the N bytes, then `aggregatedLogSuffix`:
//! `"\nEnd of LogType:NAME\n"`, `"*"` x (len(`End of LogType:NAME`) + 50), `"\n\n"`. The
//! NodeManager (`NMWebServices`, LOCAL) writes `End of LogType:NAME.` (plus `This log file
//! belongs to a running container (ID) and so may not be complete.` while it runs) with no
//! newline before it. 3.0/3.1 printed no header for an empty file, only the suffix.
//!
//! NODE is the aggregated file's name: `host:port` with `:` -> `_`
//! (`LogAggregationUtils.getNodeString`), plus `_<millis>` under rolling aggregation
//! (`worker1.example.com_45454_1634646632767`). DATE is `Times.format`
//! (`Mon Mar 11 02:15:02 +0000 2024`). Client chatter (`INFO client.RMProxy: Connecting to
//! ResourceManager ...`) may precede the first banner when stderr was saved too.
//!
//! Choices: a section's content is the LogLength bytes whenever `LogLength:` holds a number, even
//! when the text after them is not an `End of LogType:` line (Hadoop wrote exactly that many
//! bytes; content may itself hold marker-like lines); text between the N bytes and the next
//! header is skipped. A file cut short ends its last section at the end of the stream. Without a
//! usable `LogLength:` the content runs to the next `End of LogType:`, `LogType:` or banner line
//! (one empty line just before it, Hadoop's own newline, is left out). When the `Log Contents:`
//! line ends in CRLF the file was converted, and the CR of each CRLF pair is not counted against
//! LogLength.

use std::io::{self, Read};

use memchr::memchr;

/// Header-area lines longer than this are never headers (and are not kept in memory).
const MAX_HEADER_LINE: usize = 64 * 1024;
/// The read buffer: a header-length line plus the lookahead a content line start needs.
const BUF_CAP: usize = 2 * MAX_HEADER_LINE + 16;
/// Lines `looks_like_yarn_logs` reads for a banner (blank lines, client chatter before it).
const MAX_LEAD_LINES: usize = 64;
/// Lines after a banner within which `looks_like_yarn_logs` wants a `LogType:` line.
const BANNER_TO_LOGTYPE: usize = 4;
/// Lines between `LogType:` and `Log Contents:` (Hadoop prints at most two).
const MAX_META_LINES: usize = 6;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Does this text (the first bytes of a stream, up to 64 KiB) look like `yarn logs` output?
/// True when, among its first lines (blank lines or a little client chatter may come first), a
/// line `Container: container_... [on NODE]` is followed within a few lines by a `LogType:` line
/// (Hadoop 2 and 3). Cheap: one substring search rejects ordinary text.
pub fn looks_like_yarn_logs(head: &[u8]) -> bool {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    if memchr::memmem::find(head, b"Container: container_").is_none() {
        return false;
    }
    let lines: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .take(MAX_LEAD_LINES + BANNER_TO_LOGTYPE)
        .collect();
    lines
        .iter()
        .take(MAX_LEAD_LINES)
        .enumerate()
        .any(|(i, line)| {
            parse_banner(line).is_some()
                && lines
                    .iter()
                    .skip(i + 1)
                    .take(BANNER_TO_LOGTYPE)
                    .any(|l| l.starts_with(b"LogType:"))
        })
}

/// One log section: one container's one log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// `container_1445144423722_0020_01_000001` (or `container_e17_...`).
    pub container: String,
    /// `application_1445144423722_0020`, from the container id.
    pub application: Option<String>,
    /// The banner's node without its port (and rolling-aggregation stamp):
    /// `host2.example.com_45454` -> `host2.example.com`; `host:port` too.
    pub host: Option<String>,
    /// `stderr`, `stdout`, `syslog`, `prelaunch.err`, `directory.info`, `launch_container.sh`...
    pub log_type: String,
    /// 1-based physical line number (in the whole stream) of the content's first line.
    pub first_line: u64,
}

/// Splits a yarn-logs stream into sections, streaming: memory stays bounded (one buffer of
/// `BUF_CAP` bytes), whatever the sections' sizes. Takes any `Read` (a `BufRead` included).
pub struct Sections<R> {
    input: Input<R>,
    /// The last banner's container, application and host.
    banner: Option<Banner>,
    body: Body,
    /// The line in `line` is still to be looked at (it ended a header that was not one).
    replay: bool,
    line: Vec<u8>,
    started: bool,
}

#[derive(Clone, Debug)]
struct Banner {
    container: String,
    application: Option<String>,
    host: Option<String>,
}

/// Where the open section's content ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    /// No section open (or its content is all read).
    Closed,
    /// `left` more bytes (CRs of CRLF pairs not counted when `crlf`).
    Length { left: u64, crlf: bool },
    /// Up to the next marker line.
    Markers { at_line_start: bool },
}

impl<R: Read> Sections<R> {
    pub fn new(reader: R) -> Self {
        Sections {
            input: Input::new(reader),
            banner: None,
            body: Body::Closed,
            replay: false,
            line: Vec::new(),
            started: false,
        }
    }

    /// The next section, or None at the end. After it returns a section, `content()` reads
    /// exactly that section's content bytes. Calling it again skips whatever of the previous
    /// content was not read.
    pub fn next_section(&mut self) -> io::Result<Option<Section>> {
        self.skip_content()?;
        if !self.started {
            self.started = true;
            self.input.fill(BOM.len())?;
            if self.input.avail().starts_with(BOM) {
                self.input.consume(BOM.len());
            }
        }
        loop {
            if !self.replay && self.input.read_line(&mut self.line)? != LineRead::Line {
                if self.input.at_end() {
                    return Ok(None);
                }
                continue; // an over-long line: not a header
            }
            self.replay = false;
            let line = trim_eol(&self.line);
            if let Some(banner) = parse_banner(line) {
                self.banner = Some(banner);
                continue;
            }
            let (Some(log_type), Some(banner)) = (log_type_of(line), &self.banner) else {
                continue; // junk, separators, `End of LogType:`, a LogType before any banner
            };
            let log_type = String::from_utf8_lossy(log_type).into_owned();
            let banner = banner.clone();
            let Some(body) = self.read_meta()? else {
                continue;
            };
            self.body = body;
            return Ok(Some(Section {
                container: banner.container,
                application: banner.application,
                host: banner.host,
                log_type,
                first_line: self.input.newlines + 1,
            }));
        }
    }

    /// A reader over the current section's content (it ends at the section's end).
    pub fn content(&mut self) -> Content<'_, R> {
        Content { sections: self }
    }

    /// Physical lines (newlines) consumed so far.
    pub fn lines_consumed(&self) -> u64 {
        self.input.newlines
    }

    /// The lines after `LogType:` up to `Log Contents:`; None when they are not a header (the
    /// line that broke it is replayed).
    fn read_meta(&mut self) -> io::Result<Option<Body>> {
        let mut length = None;
        for _ in 0..MAX_META_LINES {
            if self.input.read_line(&mut self.line)? != LineRead::Line {
                return Ok(None);
            }
            let line = trim_eol(&self.line);
            if line == b"Log Contents:" || line == b"LogContents:" {
                if !self.line.ends_with(b"\n") {
                    return Ok(None); // the stream ends here: no content line
                }
                let crlf = self.line.ends_with(b"\r\n");
                return Ok(Some(match length {
                    Some(left) => Body::Length { left, crlf },
                    None => Body::Markers {
                        at_line_start: true,
                    },
                }));
            }
            if let Some(v) = line.strip_prefix(b"LogLength:") {
                length = std::str::from_utf8(v)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok());
            } else if !line.starts_with(b"Log Upload Time:")
                && !line.starts_with(b"LogLastModifiedTime:")
            {
                self.replay = true;
                return Ok(None);
            }
        }
        Ok(None)
    }

    fn skip_content(&mut self) -> io::Result<()> {
        let mut scratch = [0u8; 8192];
        while self.read_content(&mut scratch)? > 0 {}
        self.body = Body::Closed;
        Ok(())
    }

    fn read_content(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        match self.body {
            Body::Closed => Ok(0),
            Body::Length { left, crlf } => {
                let (n, counted) = self.read_length(out, left, crlf)?;
                self.body = if n == 0 || counted == left {
                    Body::Closed
                } else {
                    Body::Length {
                        left: left - counted,
                        crlf,
                    }
                };
                Ok(n)
            }
            Body::Markers { at_line_start } => {
                if at_line_start && self.at_marker()? {
                    self.body = Body::Closed;
                    return Ok(0);
                }
                self.input.fill(1)?;
                let avail = self.input.avail();
                let max = out.len().min(avail.len());
                if max == 0 {
                    self.body = Body::Closed;
                    return Ok(0);
                }
                let n = memchr(b'\n', &avail[..max]).map_or(max, |i| i + 1);
                out[..n].copy_from_slice(&avail[..n]);
                let at_line_start = avail[n - 1] == b'\n';
                self.input.consume(n);
                self.body = Body::Markers { at_line_start };
                Ok(n)
            }
        }
    }

    /// Copies up to `left` counted bytes; returns (bytes copied, bytes counted).
    fn read_length(&mut self, out: &mut [u8], left: u64, crlf: bool) -> io::Result<(usize, u64)> {
        if left == 0 {
            return Ok((0, 0));
        }
        self.input.fill(2)?;
        let eof = self.input.eof;
        let avail = self.input.avail();
        let max = out.len().min(avail.len());
        let (n, counted) = if crlf {
            let (mut i, mut counted) = (0, 0u64);
            while i < max && counted < left {
                if avail[i] == b'\r' {
                    match avail.get(i + 1) {
                        Some(b'\n') => {
                            i += 1; // a CR the conversion added: not in LogLength
                            continue;
                        }
                        None if !eof && i > 0 => break, // look again with more input
                        _ => {}
                    }
                }
                counted += 1;
                i += 1;
            }
            (i, counted)
        } else {
            let n = max.min(usize::try_from(left).unwrap_or(usize::MAX));
            (n, n as u64)
        };
        out[..n].copy_from_slice(&avail[..n]);
        self.input.consume(n);
        Ok((n, counted))
    }

    /// At a content line start (marker mode): is the content over? A marker line ends it, and
    /// so does an empty line right before one (the newline Hadoop prints before the marker).
    fn at_marker(&mut self) -> io::Result<bool> {
        let len = match self.input.peek_line(0)? {
            Peek::Eof => return Ok(true),
            Peek::TooLong => return Ok(false),
            Peek::Line(len) => len,
        };
        let line = &self.input.avail()[..len];
        if is_marker(line) {
            return Ok(true);
        }
        if trim_eol(line).is_empty()
            && line.ends_with(b"\n")
            && let Peek::Line(next) = self.input.peek_line(len)?
            && is_marker(&self.input.avail()[len..len + next])
        {
            self.input.consume(len);
            return Ok(true);
        }
        Ok(false)
    }
}

/// Reads the current section's content (see `Sections::content`).
pub struct Content<'a, R> {
    sections: &'a mut Sections<R>,
}

impl<R: Read> Read for Content<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.sections.read_content(buf)
    }
}

/// A line that ends a marker-delimited content: `End of LogType:`, the next `LogType:`, a banner.
fn is_marker(line: &[u8]) -> bool {
    let line = trim_eol(line);
    line.starts_with(b"End of LogType:")
        || log_type_of(line).is_some()
        || parse_banner(line).is_some()
}

/// `LogType:NAME` (2.2: `LogType: NAME`) -> NAME.
fn log_type_of(line: &[u8]) -> Option<&[u8]> {
    let name = line.strip_prefix(b"LogType:")?.trim_ascii();
    (!name.is_empty()).then_some(name)
}

/// `Container: container_... on NODE` (or without ` on NODE`, as `LogsCLI -containerId` prints).
fn parse_banner(line: &[u8]) -> Option<Banner> {
    let rest = trim_eol(line)
        .trim_ascii_end()
        .strip_prefix(b"Container: ")?;
    let id_len = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .unwrap_or(rest.len());
    let (id, rest) = rest.split_at(id_len);
    if id.len() <= b"container_".len() || !id.starts_with(b"container_") {
        return None;
    }
    let node = if rest.is_empty() {
        None
    } else {
        let node = rest.strip_prefix(b" on ")?;
        if node.is_empty() || node.iter().any(|b| b.is_ascii_whitespace()) {
            return None;
        }
        Some(String::from_utf8_lossy(node).into_owned())
    };
    let container = String::from_utf8_lossy(id).into_owned();
    Some(Banner {
        application: application_of(&container),
        host: node.as_deref().and_then(host_of),
        container,
    })
}

/// `container_[eEPOCH_]CLUSTERTS_APP_ATTEMPT_ID` -> `application_CLUSTERTS_APP`.
fn application_of(container: &str) -> Option<String> {
    let mut parts: Vec<&str> = container.strip_prefix("container_")?.split('_').collect();
    if parts
        .first()
        .and_then(|p| p.strip_prefix('e'))
        .is_some_and(all_digits)
    {
        parts.remove(0);
    }
    (parts.len() == 4 && parts.iter().all(|p| all_digits(p)))
        .then(|| format!("application_{}_{}", parts[0], parts[1]))
}

/// The host of a banner's node: `host_port`, `host_port_millis` or `host:port` -> `host`.
fn host_of(node: &str) -> Option<String> {
    let host = match node.rsplit_once(':') {
        Some((host, port)) if all_digits(port) => host,
        _ => node
            .match_indices('_')
            .map(|(i, _)| i)
            .find(|&i| node[i + 1..].split('_').all(all_digits))
            .map_or(node, |i| &node[..i]),
    };
    (!host.is_empty()).then(|| host.to_owned())
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineRead {
    Line,
    TooLong,
    Eof,
}

enum Peek {
    /// A whole line (with its newline, unless the stream ends first) of this many bytes.
    Line(usize),
    TooLong,
    Eof,
}

/// A reader with a buffer of its own: header lines and the lookahead at content line starts
/// need up to a line and a bit of contiguous bytes.
struct Input<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    /// Newlines consumed so far.
    newlines: u64,
}

impl<R: Read> Input<R> {
    fn new(inner: R) -> Self {
        Input {
            inner,
            buf: vec![0; BUF_CAP].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            newlines: 0,
        }
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn at_end(&self) -> bool {
        self.eof && self.start == self.end
    }

    /// Reads until `want` (at most `BUF_CAP`) bytes are buffered or the stream ends.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        let want = want.min(self.buf.len());
        while self.end - self.start < want && !self.eof {
            if self.end == self.buf.len() || self.buf.len() - self.start < want {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n.min(self.buf.len() - self.end),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        let taken = &self.buf[self.start..self.start + n];
        self.newlines += memchr::memchr_iter(b'\n', taken).count() as u64;
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Consumes a line into `out` (with its newline); an over-long one is consumed, not kept.
    fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<LineRead> {
        out.clear();
        let (mut any, mut too_long) = (false, false);
        loop {
            self.fill(1)?;
            let avail = self.avail();
            if avail.is_empty() {
                return Ok(match (any, too_long) {
                    (false, _) => LineRead::Eof,
                    (true, true) => LineRead::TooLong,
                    (true, false) => LineRead::Line,
                });
            }
            any = true;
            let (take, done) = memchr(b'\n', avail).map_or((avail.len(), false), |i| (i + 1, true));
            if !too_long && out.len() + take <= MAX_HEADER_LINE {
                out.extend_from_slice(&avail[..take]);
            } else {
                too_long = true;
                out.clear();
            }
            self.consume(take);
            if done {
                return Ok(if too_long {
                    LineRead::TooLong
                } else {
                    LineRead::Line
                });
            }
        }
    }

    /// The line that starts `skip` bytes into the buffered bytes, without consuming it.
    fn peek_line(&mut self, skip: usize) -> io::Result<Peek> {
        let mut searched = skip;
        loop {
            let avail = self.avail();
            if let Some(i) = memchr(b'\n', &avail[searched..]) {
                return Ok(Peek::Line(searched + i + 1 - skip));
            }
            let have = avail.len() - skip;
            if have > MAX_HEADER_LINE {
                return Ok(Peek::TooLong);
            }
            if self.eof {
                return Ok(if have == 0 {
                    Peek::Eof
                } else {
                    Peek::Line(have)
                });
            }
            searched = avail.len();
            self.fill(avail.len() + 1)?;
        }
    }
}

#[cfg(test)]
mod tests;
