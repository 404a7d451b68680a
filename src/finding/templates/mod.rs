//! Templates of unknown errors: events at an error level that no rule matched are grouped by
//! the shape of their message, so ten thousand repeats of one problem are one line with one
//! stable id. Pure and deterministic (no I/O): the scanner masks each event (`mask`), the
//! reports merge the distinct masked templates token by token (`group`) and name each
//! template by `template_id`.
//!
//! # Masking
//!
//! `mask` replaces the variable parts of a message with tokens, in this order (earlier, more
//! specific rules first; later rules never see what an earlier one replaced):
//!
//! | Token | What |
//! |---|---|
//! | `<ts>` | an ISO 8601 timestamp inside the message (`2015-10-18 18:01:47,978`, `…T…Z`) |
//! | `<uuid>` | `3c9c5e5a-1b2c-4d5e-8f90-0123456789ab` |
//! | `<bp>` | HDFS block pool `BP-\d+-<ip>-\d+` |
//! | `<blk>` | HDFS block `blk_-?\d+(_\d+)?` |
//! | `<container>` | `container_(e\d+_)?\d+_\d+_\d+_\d+` |
//! | `<appattempt>` | `appattempt_\d+_\d+_\d+` |
//! | `<application>` | `application_\d+_\d+` |
//! | `<attempt>` | `attempt_\d+_\d+_[mr]_\d+_\d+` |
//! | `<task>` | `task_\d+_\d+_[mr]_\d+` |
//! | `<job>` | `job_\d+_\d+` |
//! | `<session>` | ZooKeeper session-like ids `0x[0-9a-f]{8,16}` |
//! | `<hex>` | any other `0x…`, and bare hex strings of 8 or more characters with a digit and a letter |
//! | `<path>` | URIs (`hdfs://nn:8020/x`, `file:/tmp/x`, `http://…`) and absolute paths (`/a/b`) |
//! | `<addr>` | `host/1.2.3.4:5678`, `/1.2.3.4:5678`, `1.2.3.4[:port]`, `host.domain:port`, `host-name-1:port`, `localhost:port` |
//! | `'<*>'` `"<*>"` | quoted values |
//! | `<num> unit` | a number with a unit attached or not (`65020ms`, `5 s`, `12.5 MB`, `10 seconds`): always written `<num>`, one space, the unit as logged (`<num> ms`, `<num> MB`) |
//! | `<num>` | other numbers: integers, decimals and dotted versions, negative numbers; also digit runs inside `_`/`-` separated names (`DFSClient_NONMAPREDUCE_<num>_<num>`, `worker-<num>`) |
//!
//! Runs of whitespace become one space. A digit run glued to letters that are not a unit
//! (`log4j`, `s3a`, `64bit`, `x86`) is kept. Exception class names in the message
//! (`java.io.IOException`, or an unqualified `EndOfStreamException:`) are never masked.
//!
//! # Exceptions
//!
//! The exception of an event is part of its identity: the last `Caused by:` of its stack trace;
//! else the first continuation line that is an exception (`java.io.IOException: …`,
//! `Exception in thread "main" java.lang.OutOfMemoryError: …`); else the last exception class
//! named in the message itself (`… due to java.io.IOException: …`). Only the class is kept,
//! not its message. Hadoop's `org.apache.hadoop.ipc.RemoteException(X)` stands for `X`.

use super::fingerprint::{OFFSET, fnv1a};
use crate::event::level::find_level;
use crate::event::time::{TsKind, parse_kind};

/// The token a merged position becomes in `group`.
pub const WILDCARD: &str = "<*>";

/// The message of an event with its variable parts masked, and the exception class of its
/// stack trace (its last `Caused by:` when there is one).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Masked {
    pub text: String,
    pub exception: Option<String>,
}

impl Masked {
    /// `template_id` of this template.
    pub fn id(&self) -> String {
        template_id(&self.text, self.exception.as_deref())
    }
}

/// Masks one event. `message` is the event's message: its header line with the timestamp,
/// level, thread and logger prefix already removed (`message_of` does that for the layouts of
/// this stack). `event` is the whole event text, header line first: its first line is skipped
/// and the rest (the continuation lines) is read only for the exception, so stack frames never
/// change the text.
pub fn mask(message: &str, event: &str) -> Masked {
    let spans = class_spans(message);
    let mut masked = String::with_capacity(message.len());
    let mut last = 0;
    for s in &spans {
        masked.push_str(&mask_gap(&message[last..s.start]));
        masked.push_str(&message[s.start..s.end]);
        last = s.end;
    }
    masked.push_str(&mask_gap(&message[last..]));
    let text = masked.split_whitespace().collect::<Vec<_>>().join(" ");
    let exception = continuation_exception(event).or_else(|| spans.last().map(|s| s.name.clone()));
    Masked { text, exception }
}

/// The message of a header line: strips a leading timestamp (any form `event::time` knows),
/// everything up to and including the level word (thread ids, `[myid:1]`, `[logger]`), then
/// separators (`:`, ` - `), bracketed threads (`[main]`, ZooKeeper's `[thread:Class@line]`)
/// and a logger (`org.apache.x.Y:`, `Y (thread):`) when the layout puts one there (not after
/// `LEVEL:` nor after ZooKeeper's ` - `). A line without a level is returned after its
/// timestamp.
pub fn message_of(header: &str) -> &str {
    let b = header.as_bytes();
    let mut pos = TsKind::ALL
        .into_iter()
        .find_map(|k| parse_kind(b, k))
        .map_or(0, |st| st.end);
    let Some((_, off)) = find_level(&b[pos..]) else {
        return header[pos..].trim_start();
    };
    pos += off;
    let mut logger_allowed = !header[..pos].ends_with(':');
    let mut rest = &header[pos..];
    loop {
        let t = rest.trim_start();
        if let Some(r) = t.strip_prefix(':') {
            logger_allowed = false;
            rest = r;
        } else if let Some(r) = t.strip_prefix("- ") {
            logger_allowed = false;
            rest = r;
        } else if t.starts_with('[')
            && let Some(end) = bracket_end(t)
        {
            rest = &t[end..];
        } else {
            rest = t;
            break;
        }
    }
    if logger_allowed {
        rest = strip_logger(rest);
    }
    rest
}

/// Stable id of a template: 16 lower-case hex digits of FNV-1a 64 over
/// `"logtriage-tpl-v1\0" + text + "\0" + exception` (an empty exception when there is none).
/// Stable across builds, machines and Rust versions (never `std`'s `DefaultHasher`).
pub fn template_id(text: &str, exception: Option<&str>) -> String {
    let mut h = fnv1a(OFFSET, b"logtriage-tpl-v1\0");
    h = fnv1a(h, text.as_bytes());
    h = fnv1a(h, b"\0");
    h = fnv1a(h, exception.unwrap_or("").as_bytes());
    format!("{h:016x}")
}

mod grouping;
mod masking;

pub use grouping::group;
use masking::{bracket_end, class_spans, continuation_exception, mask_gap, strip_logger};

#[cfg(test)]
mod tests;
