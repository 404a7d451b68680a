//! Layouts: how each log format of this stack marks the first line of an event (its header), and
//! how a file's layout is recognised from its first lines. A header carries the event's
//! timestamp and level; every other line (stack-trace frames, `Caused by:`, PostgreSQL `DETAIL:`
//! lines, ...) continues the event above it.

use super::level::{Level, find_level};
use super::time::{self, Stamp, TsKind};

/// The layouts we know, named as the JSON report names them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Layout {
    /// Accumulo `%d{ISO8601} [%-8c{2}] %-5p: %m%n` (log4j 1 and 2; 2.1.5+ with `Thread[%T]`).
    Accumulo,
    /// Hadoop daemons `%d{ISO8601} %p %c: %m%n` (also HDP's ` (thread)` variant).
    Hadoop,
    /// Hadoop MapReduce tasks and AMs `%d{ISO8601} %p [%t] %c: %m%n`.
    HadoopMapReduce,
    /// Hadoop/Spark console `%d{yy/MM/dd HH:mm:ss} %p %c{1|2}: %m%n` (Spark driver `server.err`).
    HadoopConsole,
    /// Old Hadoop daemons `yyMMdd HHmmss PID LEVEL class: msg`.
    HadoopCompact,
    /// ZooKeeper `%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n`.
    ZooKeeper,
    /// Kafka `[%d] %p %m (%c)%n`.
    Kafka,
    /// PostgreSQL with a `log_line_prefix` starting with `%m` or `%t`.
    PostgreSql,
    /// PostgreSQL with the empty prefix of versions up to 9.6: `FATAL:  message`.
    PostgreSqlBare,
    /// Any other log4j-like layout: a timestamp and a level start each event.
    Log4j,
    /// log4j without a date, `[%t] %-5p %c %x - %m%n` (a Spark driver's log4j.properties):
    /// `[main] WARN  org.apache.spark.X  - msg`; the thread may hold spaces.
    ThreadLevel,
    /// No timestamps at all (stdout, stderr): every line not a continuation starts an event.
    Console,
}

impl Layout {
    /// Every layout, in detection-report order.
    pub const ALL: [Layout; 12] = [
        Layout::Accumulo,
        Layout::Hadoop,
        Layout::HadoopMapReduce,
        Layout::HadoopConsole,
        Layout::HadoopCompact,
        Layout::ZooKeeper,
        Layout::Kafka,
        Layout::PostgreSql,
        Layout::PostgreSqlBare,
        Layout::Log4j,
        Layout::ThreadLevel,
        Layout::Console,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layout::Accumulo => "accumulo",
            Layout::Hadoop => "hadoop",
            Layout::HadoopMapReduce => "hadoop-mapreduce",
            Layout::HadoopConsole => "hadoop-console",
            Layout::HadoopCompact => "hadoop-compact",
            Layout::ZooKeeper => "zookeeper",
            Layout::Kafka => "kafka",
            Layout::PostgreSql => "postgresql",
            Layout::PostgreSqlBare => "postgresql-bare",
            Layout::Log4j => "log4j",
            Layout::ThreadLevel => "log4j-thread-level",
            Layout::Console => "console",
        }
    }

    /// The timestamp form that starts this layout's header lines (None: no timestamps).
    pub fn ts_kind(self) -> Option<TsKind> {
        match self {
            Layout::Accumulo
            | Layout::Hadoop
            | Layout::HadoopMapReduce
            | Layout::ZooKeeper
            | Layout::PostgreSql
            | Layout::Log4j => Some(TsKind::Iso),
            Layout::Kafka => Some(TsKind::Bracketed),
            Layout::HadoopConsole => Some(TsKind::Slash),
            Layout::HadoopCompact => Some(TsKind::Compact),
            Layout::PostgreSqlBare | Layout::ThreadLevel | Layout::Console => None,
        }
    }

    /// Is this line (without its line terminator) the first line of an event?
    #[inline]
    pub fn is_header(self, line: &[u8]) -> bool {
        if line.starts_with(b"Exception in thread \"") {
            return true;
        }
        match self.ts_kind() {
            Some(kind) => match time::parse_kind(line, kind) {
                Some(st) if self == Layout::PostgreSql => {
                    !find_level(&line[st.end..]).is_some_and(|(l, _)| l.continues_previous())
                }
                Some(_) => true,
                None => false,
            },
            None if self == Layout::PostgreSqlBare => {
                bare_pg_level(line).is_some_and(|l| !l.continues_previous())
            }
            None if self == Layout::ThreadLevel => thread_level(line).is_some(),
            None => !is_console_continuation(line),
        }
    }

    /// The timestamp and level of a header line.
    pub fn header(self, line: &[u8]) -> (Option<Stamp>, Option<Level>) {
        match self.ts_kind() {
            Some(kind) => match time::parse_kind(line, kind) {
                Some(st) => (Some(st), find_level(&line[st.end..]).map(|(l, _)| l)),
                None => (None, None),
            },
            None if self == Layout::PostgreSqlBare => (None, bare_pg_level(line)),
            None if self == Layout::ThreadLevel => (None, thread_level(line)),
            None => (None, None),
        }
    }
}

/// `FATAL:  sorry, too many clients already` (PostgreSQL without a line prefix).
fn bare_pg_level(line: &[u8]) -> Option<Level> {
    let colon = memchr::memchr(b':', &line[..line.len().min(12)])?;
    if line.get(colon + 1..colon + 3) != Some(b"  ") {
        return None;
    }
    Level::parse(&line[..colon])
}

/// The level of `[thread] LEVEL logger - msg`: the word after the first `] ` that is a level
/// (a thread such as `[Executor task launch worker for task 0.0 in stage 2.0 (TID 1)]` holds
/// spaces and brackets of its own).
fn thread_level(line: &[u8]) -> Option<Level> {
    if line.first() != Some(&b'[') {
        return None;
    }
    let head = &line[..line.len().min(256)];
    memchr::memchr_iter(b']', head).find_map(|close| {
        let rest = head[close + 1..].strip_prefix(b" ")?;
        let end = rest.iter().position(|&c| c == b' ')?;
        Level::parse(&rest[..end])
    })
}

/// Lines that continue an event in timestamp-less output: stack frames, causes, indented text,
/// and a bare exception line (`java.io.IOException: Too many open files`).
pub fn is_console_continuation(line: &[u8]) -> bool {
    match line.first() {
        None => false,
        Some(b' ' | b'\t') => true,
        _ => {
            line.starts_with(b"Caused by: ")
                || line.starts_with(b"Suppressed: ")
                || line.starts_with(b"Driver stacktrace:")
                || looks_like_exception_line(line)
        }
    }
}

/// `java.io.IOException: msg`, `org.apache.spark.SparkException: msg`, `java.lang.StackOverflowError`.
fn looks_like_exception_line(line: &[u8]) -> bool {
    let end = line
        .iter()
        .position(|&c| c == b':' || c == b' ')
        .unwrap_or(line.len());
    let name = &line[..end];
    if end < line.len() && line[end] != b':' {
        return false;
    }
    let dotted = name.contains(&b'.')
        && name
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'$' || c == b'_');
    dotted
        && (name.ends_with(b"Exception")
            || name.ends_with(b"Error")
            || name.ends_with(b"Throwable"))
}

/// Names the layout of one header line (None: not a header of any timestamped layout).
fn classify_line(line: &[u8]) -> Option<Layout> {
    if let Some(st) = time::parse_kind(line, TsKind::Bracketed) {
        let _ = st;
        return Some(Layout::Kafka);
    }
    if time::parse_kind(line, TsKind::Slash).is_some() {
        return Some(Layout::HadoopConsole);
    }
    if time::parse_kind(line, TsKind::Compact).is_some() {
        return Some(Layout::HadoopCompact);
    }
    if let Some(st) = time::parse_kind(line, TsKind::Iso) {
        let rest = &line[st.end..];
        if rest.starts_with(b" Thread[") {
            return Some(Layout::Accumulo);
        }
        if rest.starts_with(b" [myid:") || rest.starts_with(b" - ") {
            return Some(Layout::ZooKeeper);
        }
        let (level, after) = match find_level(rest) {
            Some(x) => x,
            None => return Some(Layout::Log4j),
        };
        let before = &rest[..after];
        let tail = &rest[after..];
        if (st.zone.is_some()
            || rest.starts_with(b" [") && rest.get(2).is_some_and(u8::is_ascii_digit))
            && (tail.starts_with(b"  ") || before.ends_with(b":") && tail.starts_with(b"  "))
        {
            return Some(Layout::PostgreSql);
        }
        if before.ends_with(b":") && tail.starts_with(b"  ") && level != Level::Info {
            return Some(Layout::PostgreSql);
        }
        if rest.starts_with(b" [")
            && (before.ends_with(b":") || tail.starts_with(b" :") || tail.starts_with(b":"))
        {
            return Some(Layout::Accumulo);
        }
        if rest.starts_with(b" [") && tail.starts_with(b" :") {
            return Some(Layout::Accumulo);
        }
        // `LEVEL [thread] logger: msg` vs `LEVEL [logger] - msg`
        let after_level = tail.trim_ascii_start();
        if after_level.starts_with(b"[") {
            if let Some(close) = memchr::memchr(b']', after_level) {
                let next = &after_level[close + 1..];
                if next.starts_with(b" - ") {
                    return Some(Layout::Log4j);
                }
                let word_end = next[1.min(next.len())..]
                    .iter()
                    .position(|&c| c == b' ')
                    .map(|p| p + 1)
                    .unwrap_or(next.len());
                if next[..word_end].ends_with(b":") {
                    return Some(Layout::HadoopMapReduce);
                }
            }
            return Some(Layout::Log4j);
        }
        // `LEVEL org.apache.X: msg` or `LEVEL org.apache.X (thread): msg`
        let word_end = after_level
            .iter()
            .position(|&c| c == b' ')
            .unwrap_or(after_level.len());
        let word = &after_level[..word_end];
        if word.ends_with(b":") && word.contains(&b'.') {
            return Some(Layout::Hadoop);
        }
        if word.contains(&b'.') && after_level[word_end..].starts_with(b" (") {
            return Some(Layout::Hadoop);
        }
        return Some(Layout::Log4j);
    }
    if bare_pg_level(line).is_some() {
        return Some(Layout::PostgreSqlBare);
    }
    if thread_level(line).is_some() {
        return Some(Layout::ThreadLevel);
    }
    None
}

/// Recognises a file's layout from its first lines (up to 32 lines or 8 KiB): the layout
/// most header lines belong to; `Console` when no line has a known timestamp.
pub fn detect(head: &[u8]) -> Layout {
    let head = &head[..head.len().min(8 * 1024)];
    let mut counts: Vec<(Layout, usize)> = Vec::new();
    for line in head.split(|&c| c == b'\n').take(32) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(l) = classify_line(line) {
            match counts.iter_mut().find(|(k, _)| *k == l) {
                Some((_, n)) => *n += 1,
                None => counts.push((l, 1)),
            }
        }
    }
    // PostgreSQL files mix plain log lines with `LEVEL:  ` ones: any PostgreSQL-looking line
    // among the timestamped Log4j ones makes the file PostgreSQL.
    let pg = counts
        .iter()
        .find(|(l, _)| *l == Layout::PostgreSql)
        .map(|x| x.1)
        .unwrap_or(0);
    let log4j = counts
        .iter()
        .find(|(l, _)| *l == Layout::Log4j)
        .map(|x| x.1)
        .unwrap_or(0);
    if pg > 0 && pg + log4j == counts.iter().map(|x| x.1).sum::<usize>() {
        return Layout::PostgreSql;
    }
    counts
        .iter()
        .max_by_key(|(l, n)| (*n, std::cmp::Reverse(*l)))
        .map(|(l, _)| *l)
        .unwrap_or(Layout::Console)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> &'static str {
        detect(s.as_bytes()).name()
    }

    #[test]
    fn log4j_without_a_date_frames_by_thread_and_level() {
        // tests/real/spark/spark-somani-spark-driver.lines3501-4400.log lines 50-51
        let head = "[main] WARN  DataNucleus.Query  - Query for candidates of MConstraint\n\
                    Required table missing : \"`KEY_CONSTRAINTS`\" in Catalog\n\
                    [Executor task launch worker for task 0.0 in stage 2.0 (TID 1)] ERROR org.apache.spark.executor.Executor  - x\n";
        let l = detect(head.as_bytes());
        assert_eq!(l.name(), "log4j-thread-level");
        let lines: Vec<&[u8]> = head.as_bytes().split(|&c| c == b'\n').collect();
        assert!(l.is_header(lines[0]));
        assert!(
            !l.is_header(lines[1]),
            "a message's second line continues it"
        );
        assert_eq!(l.header(lines[2]).1, Some(Level::Error));
    }

    #[test]
    fn detects_each_layout() {
        assert_eq!(
            d("2024-03-11 02:14:31,010 [tserver.TabletServer] ERROR: Lost tablet server lock\n"),
            "accumulo"
        );
        assert_eq!(
            d("2020-12-24 14:55:32,420 [master.Master] WARN : Tablet server kn-host-4:9997\n"),
            "accumulo"
        );
        assert_eq!(
            d("2021-01-22T10:24:04,608 [master.Master] WARN : Lost servers [x]\n"),
            "accumulo"
        );
        assert_eq!(
            d("2026-03-11T10:24:04,608 Thread[42] [manager.Manager] WARN : Lost servers [x]\n"),
            "accumulo"
        );
        assert_eq!(
            d("2022-12-02 15:22:04,287 INFO org.apache.hadoop.hdfs.StateChange: BLOCK* x\n"),
            "hadoop"
        );
        assert_eq!(
            d(
                "2018-02-13 22:19:13,972 ERROR org.apache.hadoop.yarn.server.nodemanager.LocalDirsHandlerService (DiskHealthMonitor-Timer): Most\n"
            ),
            "hadoop"
        );
        assert_eq!(
            d(
                "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created\n"
            ),
            "hadoop-mapreduce"
        );
        assert_eq!(
            d("17/04/12 18:49:33 ERROR scheduler.TaskSetManager: Task 0\n"),
            "hadoop-console"
        );
        assert_eq!(
            d("081109 203615 148 INFO dfs.DataNode$PacketResponder: x\n"),
            "hadoop-compact"
        );
        assert_eq!(
            d(
                "2020-01-01 08:02:37,617 [myid:1] - WARN  [NIOServerCxn.Factory:1.2.3.4:NIOServerCnxnFactory@193] - Too many\n"
            ),
            "zookeeper"
        );
        assert_eq!(
            d(
                "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - x\n"
            ),
            "zookeeper"
        );
        assert_eq!(
            d(
                "[2024-10-30 19:17:25,248] WARN Client session timed out (org.apache.zookeeper.ClientCnxn)\n"
            ),
            "kafka"
        );
        assert_eq!(
            d(
                "2024-01-11 06:23:58.586 UTC [26] PANIC:  could not write\n2024-01-11 06:23:58.588 UTC [1] LOG:  checkpointer\n"
            ),
            "postgresql"
        );
        assert_eq!(
            d(
                "2016-01-01 10:00:00 UTC [1234] koverse@kvdb FATAL:  sorry, too many clients already\n"
            ),
            "postgresql"
        );
        assert_eq!(
            d("FATAL:  sorry, too many clients already\nLOG:  database system is shut down\n"),
            "postgresql-bare"
        );
        assert_eq!(
            d("2024-03-11 02:14:31,010 ERROR [com.koverse.server.ThriftServer] - boom\n"),
            "log4j"
        );
        assert_eq!(
            d("Exception in thread \"main\" java.lang.OutOfMemoryError: x\n\tat a.b(C.java:1)\n"),
            "console"
        );
    }

    #[test]
    fn headers_and_continuations() {
        let l = Layout::Accumulo;
        assert!(l.is_header(b"2024-03-11 02:14:31,010 [tserver.TabletServer] ERROR: x"));
        assert!(!l.is_header(b"\tat org.apache.Foo.bar(Foo.java:1)"));
        assert!(!l.is_header(b"java.io.IOException: Too many open files"));
        assert!(l.is_header(b"Exception in thread \"main\" java.lang.Error"));
        let pg = Layout::PostgreSql;
        assert!(pg.is_header(b"2024-01-11 06:23:58.586 UTC [26] ERROR:  could not extend file"));
        assert!(!pg.is_header(b"2024-01-11 06:23:58.586 UTC [26] HINT:  Check free disk space."));
        assert!(!pg.is_header(b"\tSELECT 1"));
        let c = Layout::Console;
        assert!(c.is_header(b"Starting server"));
        assert!(!c.is_header(b"\tat a.b.C.d(C.java:1)"));
        assert!(!c.is_header(b"Caused by: java.io.IOException: x"));
        assert!(!c.is_header(b"java.lang.OutOfMemoryError: Java heap space"));
        assert!(c.is_header(b"Error: could not start"));
    }

    #[test]
    fn header_fields() {
        let (ts, lv) =
            Layout::Accumulo.header(b"2020-12-24 14:55:32,420 [master.Master] WARN : Tablet");
        assert_eq!(ts.unwrap().iso(), "2020-12-24T14:55:32.420");
        assert_eq!(lv, Some(Level::Warn));
    }
}
