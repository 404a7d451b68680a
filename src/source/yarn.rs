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
mod tests {
    use super::*;

    const H2: &[u8] = include_bytes!("../../tests/fixtures/yarn/hadoop2-spark.log");
    const H3: &[u8] = include_bytes!("../../tests/fixtures/yarn/hadoop3-spark.log");

    /// Every section with its content.
    fn split(text: &[u8]) -> Vec<(Section, Vec<u8>)> {
        split_reader(text)
    }

    fn split_reader<R: Read>(reader: R) -> Vec<(Section, Vec<u8>)> {
        let mut sections = Sections::new(reader);
        let mut out = Vec::new();
        while let Some(s) = sections.next_section().unwrap() {
            let mut content = Vec::new();
            sections.content().read_to_end(&mut content).unwrap();
            out.push((s, content));
            assert!(out.len() < 10_000, "no end");
        }
        out
    }

    /// The reference: for each `LogLength:N` header, the N bytes after its contents line.
    fn by_loglength(text: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut length = None;
        while at < text.len() {
            let end = memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i + 1);
            let line = trim_eol(&text[at..end]);
            if let Some(n) = line.strip_prefix(b"LogLength:") {
                length = Some(std::str::from_utf8(n).unwrap().parse::<usize>().unwrap());
            }
            at = end;
            if line == b"Log Contents:" || line == b"LogContents:" {
                let n = length.take().unwrap();
                out.push(text[at..at + n].to_vec());
                at += n;
            }
        }
        out
    }

    fn sec(container: &str, host: &str, log_type: &str, first_line: u64) -> Section {
        Section {
            container: container.into(),
            application: application_of(container),
            host: Some(host.into()),
            log_type: log_type.into(),
            first_line,
        }
    }

    fn line_of(section: &Section, content: &[u8], needle: &str) -> u64 {
        let text = std::str::from_utf8(content).unwrap();
        let i = text.lines().position(|l| l.contains(needle)).unwrap();
        section.first_line + i as u64
    }

    /// Reads one byte per call: every buffer boundary gets crossed.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn detects_both_fixtures() {
        assert!(looks_like_yarn_logs(H2));
        assert!(looks_like_yarn_logs(H3));
        assert!(looks_like_yarn_logs(&H3[..220]));
        let mut bom = BOM.to_vec();
        bom.extend_from_slice(H3);
        assert!(looks_like_yarn_logs(&bom));
    }

    #[test]
    fn does_not_detect_other_text() {
        assert!(!looks_like_yarn_logs(b""));
        assert!(!looks_like_yarn_logs(b"\n\n\n"));
        let log4j = b"2024-03-11 02:14:31,010 ERROR [main] org.apache.hadoop.hdfs.DFSClient: Failed\n\
            24/03/11 02:14:15 INFO yarn.YarnAllocator: Launching container container_1710122400000_0042_01_000002 on host worker2.example.com\n";
        assert!(!looks_like_yarn_logs(log4j));
        let mentions = b"24/03/11 02:14:15 WARN yarn.YarnAllocator: Container: container_1710122400000_0042_01_000002 on worker2.example.com_45454 exited\n\
            LogType:stderr\n";
        assert!(!looks_like_yarn_logs(mentions));
        let banner_only =
            b"Container: container_1710122400000_0042_01_000002 on worker2.example.com_45454\n\
            =====\nsomething else\n\n\n\n\nLogType:stderr\n";
        assert!(!looks_like_yarn_logs(banner_only));
        let odd = b"Container: container_1710122400000_0042_01_000002 exited on worker2 now\nLogType:stderr\n";
        assert!(!looks_like_yarn_logs(odd));
    }

    #[test]
    fn hadoop2_sections() {
        let got = split(H2);
        let (c1, c2) = (
            "container_1710122400000_0042_01_000001",
            "container_1710122400000_0042_01_000002",
        );
        let want = vec![
            sec(c1, "worker1.example.com", "stderr", 10),
            sec(c1, "worker1.example.com", "stdout", 105),
            sec(c2, "worker2.example.com", "stderr", 115),
            sec(c2, "worker2.example.com", "stdout", 156),
        ];
        assert_eq!(got.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), want);
        assert_eq!(
            got[0].0.application.as_deref(),
            Some("application_1710122400000_0042")
        );
        let contents: Vec<Vec<u8>> = got.iter().map(|(_, c)| c.clone()).collect();
        assert_eq!(contents, by_loglength(H2));
        assert_eq!(contents[0].len(), 8273);
        assert!(contents[1].is_empty());
        // The README's ERROR header lines.
        assert_eq!(
            line_of(&got[0].0, &got[0].1, "ERROR scheduler.TaskSetManager"),
            50
        );
        assert_eq!(
            line_of(&got[0].0, &got[0].1, "ERROR yarn.ApplicationMaster"),
            53
        );
        assert_eq!(
            line_of(&got[2].0, &got[2].1, "ERROR executor.Executor"),
            125
        );
        assert_eq!(
            line_of(&got[2].0, &got[2].1, "ERROR util.SparkUncaught"),
            142
        );
    }

    #[test]
    fn hadoop3_sections() {
        let got = split(H3);
        let (c1, c2) = (
            "container_e17_1710115201234_0007_01_000001",
            "container_e17_1710115201234_0007_01_000002",
        );
        let (w1, w2) = ("worker1.example.com", "worker2.example.com");
        let want = vec![
            sec(c1, w1, "launch_container.sh", 8),
            sec(c1, w1, "prelaunch.err", 38),
            sec(c1, w1, "prelaunch.out", 49),
            sec(c1, w1, "stderr", 64),
            sec(c1, w1, "stdout", 132),
            sec(c2, w2, "prelaunch.err", 143),
            sec(c2, w2, "prelaunch.out", 154),
            sec(c2, w2, "stderr", 169),
            sec(c2, w2, "stdout", 201),
            sec(c2, w2, "syslog", 213),
        ];
        assert_eq!(got.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(), want);
        assert_eq!(
            got[0].0.application.as_deref(),
            Some("application_1710115201234_0007")
        );
        let contents: Vec<Vec<u8>> = got.iter().map(|(_, c)| c.clone()).collect();
        assert_eq!(contents, by_loglength(H3));
        assert_eq!(contents[8], b"rows parsed: 524288\nrows rejected: 1");
        assert_eq!(
            line_of(&got[3].0, &got[3].1, "ERROR scheduler.TaskSetManager"),
            87
        );
        assert_eq!(
            line_of(&got[3].0, &got[3].1, "ERROR datasources.FileFormatWriter"),
            89
        );
        assert_eq!(
            line_of(&got[3].0, &got[3].1, "ERROR yarn.ApplicationMaster"),
            116
        );
        assert_eq!(
            line_of(&got[7].0, &got[7].1, "ERROR executor.Executor"),
            173
        );
        assert_eq!(line_of(&got[9].0, &got[9].1, "ERROR [main]"), 215);
    }

    #[test]
    fn byte_at_a_time_reads_the_same() {
        for text in [H2, H3] {
            assert_eq!(split_reader(Trickle(text)), split(text));
        }
    }

    #[test]
    fn skipping_and_partial_reads() {
        let mut sections = Sections::new(H3);
        let mut types = Vec::new();
        let mut n = 0;
        while let Some(s) = sections.next_section().unwrap() {
            n += 1;
            if n % 2 == 0 {
                let mut five = [0u8; 5];
                let k = sections.content().read(&mut five).unwrap();
                assert!(k <= 5);
            }
            types.push(s.log_type);
        }
        assert_eq!(types.len(), 10);
        assert_eq!(
            sections.lines_consumed(),
            H3.iter().filter(|&&b| b == b'\n').count() as u64
        );
        assert!(sections.next_section().unwrap().is_none());
        assert_eq!(sections.content().read(&mut [0u8; 4]).unwrap(), 0);
    }

    #[test]
    fn truncated_file() {
        // Cut in the middle of the driver's stderr: the last section runs to the end.
        let cut = memchr::memmem::find(H3, b"Driver stacktrace:").unwrap();
        let got = split(&H3[..cut]);
        assert_eq!(got.len(), 4);
        assert_eq!(got[3].0.log_type, "stderr");
        let start = memchr::memmem::find(H3, b"24/03/11 02:14:05 INFO util.SignalUtils").unwrap();
        assert_eq!(got[3].1, &H3[start..cut]);
        // Cut anywhere: never a panic, sections are a prefix of the whole file's.
        let whole = split(H3);
        for cut in (0..H3.len()).step_by(7) {
            let got = split(&H3[..cut]);
            assert!(got.len() <= whole.len());
            for (i, (s, c)) in got.iter().enumerate() {
                assert_eq!(s, &whole[i].0);
                assert!(whole[i].1.starts_with(c));
            }
        }
        for cut in (0..H2.len()).step_by(11) {
            split(&H2[..cut]);
        }
    }

    #[test]
    fn bad_or_missing_loglength_uses_the_markers() {
        let good = split(H3);
        for replacement in [
            &b"LogLength:abc"[..],
            b"LogLength:",
            b"LogLength:-5",
            b"Log Upload Time:x",
        ] {
            let text = replace_all_loglength(H3, replacement);
            let mut got = split(&text);
            // The stdout that ends without a newline gets the one Hadoop printed before End.
            assert_eq!(got[8].1.pop(), Some(b'\n'));
            assert_eq!(got, good, "{}", String::from_utf8_lossy(replacement));
        }
        // Hadoop 2.7: End of LogType right after the content.
        let text = replace_all_loglength(H2, b"LogLength:?");
        assert_eq!(split(&text), split(H2));
    }

    fn replace_all_loglength(text: &[u8], with: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in text.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"LogLength:") {
                out.extend_from_slice(with);
                out.push(b'\n');
            } else {
                out.extend_from_slice(line);
            }
        }
        out
    }

    #[test]
    fn loglength_is_trusted() {
        // Too small by 4: the section holds the 4 bytes less; the rest is skipped, and the next
        // section is still found.
        let text =
            String::from_utf8(H3.to_vec())
                .unwrap()
                .replacen("LogLength:5188", "LogLength:5184", 1);
        let got = split(text.as_bytes());
        let good = split(H3);
        assert_eq!(got.len(), good.len());
        assert_eq!(got[3].1, &good[3].1[..5184]);
        assert_eq!(got[4], good[4]);
        // Content that holds marker-like lines is kept whole.
        let inner =
            "End of LogType:stderr\nLogType:fake\nContainer: container_1_0001_01_000009 on h_1\n";
        let text = format!(
            "Container: container_1_0001_01_000001 on h_1\nLogType:stdout\nLogLength:{}\nLogContents:\n{inner}\nEnd of LogType:stdout\n",
            inner.len()
        );
        let got = split(text.as_bytes());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, inner.as_bytes());
        // Larger than the stream: the content runs to the end.
        let text = b"Container: container_1_0001_01_000001 on h_1\nLogType:stdout\nLogLength:999\nLog Contents:\nabc\n";
        assert_eq!(split(text)[0].1, b"abc\n");
    }

    #[test]
    fn crlf_file() {
        let crlf: Vec<u8> = H3
            .split_inclusive(|&b| b == b'\n')
            .flat_map(|l| match l.strip_suffix(b"\n") {
                Some(l) => [l, b"\r\n"].concat(),
                None => l.to_vec(),
            })
            .collect();
        let good = split(H3);
        let got = split(&crlf);
        assert_eq!(got.len(), good.len());
        for ((s, c), (gs, gc)) in got.iter().zip(&good) {
            assert_eq!(s, gs);
            let want: Vec<u8> = gc
                .split_inclusive(|&b| b == b'\n')
                .flat_map(|l| match l.strip_suffix(b"\n") {
                    Some(l) => [l, b"\r\n"].concat(),
                    None => l.to_vec(),
                })
                .collect();
            assert_eq!(c, &want);
        }
        assert_eq!(split_reader(Trickle(&crlf)), got);
        assert!(looks_like_yarn_logs(&crlf));
    }

    #[test]
    fn other_hadoop_forms() {
        // 2.6: no End line; 2.2: a space after the colon; a banner without "on".
        let text = b"\n\nContainer: container_1400000000000_0001_01_000001 on node7_8041\n\
            ==========\n\
            LogType: stderr\nLogLength: 4\nLog Contents:\nabc\n\n\
            LogType:stdout\nLog Upload Time:Tue Nov 15 22:35:30 +0000 2016\nLogLength:2\nLog Contents:\nx\n\n\
            \n\nContainer: container_1400000000000_0001_01_000002\n====\n\
            LogType:stderr\nLogLength:0\nLog Contents:\n\n";
        assert!(looks_like_yarn_logs(text));
        let got = split(text);
        assert_eq!(got.len(), 3);
        assert_eq!(
            (got[0].0.log_type.as_str(), got[0].1.as_slice()),
            ("stderr", &b"abc\n"[..])
        );
        assert_eq!(got[0].0.host.as_deref(), Some("node7"));
        assert_eq!(got[0].0.first_line, 8);
        assert_eq!(
            (got[1].0.log_type.as_str(), got[1].1.as_slice()),
            ("stdout", &b"x\n"[..])
        );
        assert_eq!(got[2].0.host, None);
        assert_eq!(got[2].0.container, "container_1400000000000_0001_01_000002");
        assert!(got[2].1.is_empty());
        // Later 2.x ("\nEnd of LogType"), running container without LogLength (LogsCLI), and a
        // NodeManager LOCAL section whose content ends without a newline.
        let text = b"Container: container_1_0001_01_000001 on h.example.com:8041\n====\n\
            LogType:stderr\nLog Upload Time:x\nLog Contents:\nline 1\nline 2\n\nEnd of LogType:stderr\n\n\
            Container: container_e3_1_0001_01_000002 on h2_8041_1634646632767\nLogAggregationType: LOCAL\n===\n\
            LogType:stdout\nLogLastModifiedTime:x\nLogLength:7\nLogContents:\nno eol!End of LogType:stdout.This log file belongs to a running container (container_e3_1_0001_01_000002) and so may not be complete.\n*****\n\n";
        let got = split(text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, b"line 1\nline 2\n");
        assert_eq!(got[0].0.host.as_deref(), Some("h.example.com"));
        assert_eq!(got[1].1, b"no eol!");
        assert_eq!(got[1].0.host.as_deref(), Some("h2"));
        assert_eq!(got[1].0.application.as_deref(), Some("application_1_0001"));
        assert_eq!(got[1].0.first_line, 18);
    }

    #[test]
    fn junk_long_lines_and_orphans() {
        let mut text = b"WARNING: YARN_OPTS has been replaced by HADOOP_OPTS.\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 200_000));
        text.extend_from_slice(b"\nLogType:stderr\nLogLength:3\nLog Contents:\nno!\n");
        text.extend_from_slice(b"Container: container_1_0001_01_000001 on ");
        text.extend(std::iter::repeat_n(b'h', 70_000));
        text.extend_from_slice(b"_1\nLogType:stderr\nLogLength:3\nLog Contents:\nno!\n");
        text.extend_from_slice(b"\nEnd of LogType:prelaunch.err\n****\n\n"); // 3.0/3.1 empty file
        text.extend_from_slice(
            b"Container: container_1_0001_01_000002 on h_1\n===\nLogType:stderr\nLog Contents:\n",
        );
        let long_line: Vec<u8> = std::iter::repeat_n(b'y', 300_000).chain(*b"\n").collect();
        text.extend_from_slice(&long_line);
        text.extend_from_slice(b"LogType is a word\nok\n\nEnd of LogType:stderr\n");
        let got = split(&text);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.container, "container_1_0001_01_000002");
        assert_eq!(got[0].0.first_line, 20);
        let mut want = long_line.clone();
        want.extend_from_slice(b"LogType is a word\nok\n");
        assert_eq!(got[0].1, want);
        assert_eq!(split_reader(Trickle(&text)), got);
    }

    #[test]
    fn header_pieces() {
        assert_eq!(
            host_of("host2.example.com_45454").as_deref(),
            Some("host2.example.com")
        );
        assert_eq!(
            host_of("wrk-1.au.adaltas.cloud_45454_1634646632767").as_deref(),
            Some("wrk-1.au.adaltas.cloud")
        );
        assert_eq!(host_of("host:8041").as_deref(), Some("host"));
        assert_eq!(host_of("my_host_8041").as_deref(), Some("my_host"));
        assert_eq!(host_of("plainhost").as_deref(), Some("plainhost"));
        assert_eq!(host_of("_8041"), None);
        assert_eq!(
            application_of("container_1445144423722_0020_01_000001").as_deref(),
            Some("application_1445144423722_0020")
        );
        assert_eq!(
            application_of("container_e17_1445144423722_0020_01_000001").as_deref(),
            Some("application_1445144423722_0020")
        );
        assert_eq!(application_of("container_x"), None);
        assert!(parse_banner(b"Container: container_1_0001_01_000001 on h_1\r\n").is_some());
        assert!(parse_banner(b"Container: container_ on h_1").is_none());
        assert!(parse_banner(b"Container: container_1_0001_01_000001 on ").is_none());
    }
}
