//! Log levels as the layouts of this stack print them (log4j, Hadoop, ZooKeeper, Kafka, Jetty,
//! PostgreSQL severities), normalised to one upper-case vocabulary.

use std::fmt;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Notice,
    Log,
    Warn,
    Error,
    Fatal,
    Panic,
    /// PostgreSQL lines that continue the previous message (DETAIL, HINT, STATEMENT, ...).
    Detail,
    Hint,
    Statement,
    Context,
    Query,
    Location,
}

impl Level {
    /// Reads a bare level word (`WARN`, `WARNING`, `ERROR`, `DEBUG1`, ...).
    pub fn parse(w: &[u8]) -> Option<Level> {
        Some(match w {
            b"TRACE" | b"FINEST" | b"FINER" => Level::Trace,
            b"DEBUG" | b"FINE" | b"DEBUG1" | b"DEBUG2" | b"DEBUG3" | b"DEBUG4" | b"DEBUG5" => {
                Level::Debug
            }
            b"INFO" | b"CONFIG" => Level::Info,
            b"NOTICE" => Level::Notice,
            b"LOG" => Level::Log,
            b"WARN" | b"WARNING" => Level::Warn,
            b"ERROR" | b"SEVERE" => Level::Error,
            b"FATAL" => Level::Fatal,
            b"PANIC" => Level::Panic,
            b"DETAIL" => Level::Detail,
            b"HINT" => Level::Hint,
            b"STATEMENT" => Level::Statement,
            b"CONTEXT" => Level::Context,
            b"QUERY" => Level::Query,
            b"LOCATION" => Level::Location,
            _ => return None,
        })
    }

    /// Reads a level name as a user or a rule pack writes it (any case).
    pub fn from_name(s: &str) -> Option<Level> {
        Level::parse(s.to_ascii_uppercase().as_bytes())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Notice => "NOTICE",
            Level::Log => "LOG",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
            Level::Panic => "PANIC",
            Level::Detail => "DETAIL",
            Level::Hint => "HINT",
            Level::Statement => "STATEMENT",
            Level::Context => "CONTEXT",
            Level::Query => "QUERY",
            Level::Location => "LOCATION",
        }
    }

    /// PostgreSQL severities that add to the message above them rather than start one.
    pub fn continues_previous(self) -> bool {
        matches!(
            self,
            Level::Detail
                | Level::Hint
                | Level::Statement
                | Level::Context
                | Level::Query
                | Level::Location
        )
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Finds the level among the first few tokens after a timestamp: `INFO`, `[main] INFO`,
/// `[tserver.TabletServer] WARN :`, `- ERROR [`, `[26] user@db FATAL:  `, Jetty's `:WARN:`.
/// Returns the level and the offset just past its token.
pub fn find_level(rest: &[u8]) -> Option<(Level, usize)> {
    if rest.first() == Some(&b':') {
        let end = memchr::memchr(b':', &rest[1..]).map(|i| i + 1)?;
        return Level::parse(&rest[1..end]).map(|l| (l, end + 1));
    }
    let mut i = 0;
    for _ in 0..5 {
        while i < rest.len() && (rest[i] == b' ' || rest[i] == b'\t') {
            i += 1;
        }
        if i >= rest.len() {
            return None;
        }
        let start = i;
        while i < rest.len() && rest[i] != b' ' && rest[i] != b'\t' {
            i += 1;
        }
        let mut tok = &rest[start..i];
        while let [b'[' | b'(' | b'-', t @ ..] = tok {
            tok = t;
        }
        while let [t @ .., b':' | b']' | b')' | b',' | b'-'] = tok {
            tok = t;
        }
        if let Some(l) = Level::parse(tok) {
            return Some((l, i));
        }
    }
    spark_task_thread_level(rest)
}

/// A Spark driver log's `%t %p` where the thread is an executor task's, whose name holds
/// spaces: `Executor task launch worker for task 0.0 in stage 2.0 (TID 1825) WARN X: msg`.
fn spark_task_thread_level(rest: &[u8]) -> Option<(Level, usize)> {
    let head = &rest[..rest.len().min(160)];
    let tid = memchr::memmem::find(head, b"(TID ")?;
    let close = tid + memchr::memchr(b')', &head[tid..])?;
    let after = head.get(close + 1..)?.strip_prefix(b" ")?;
    let end = after.iter().position(|&c| c == b' ')?;
    let level = Level::parse(&after[..end])?;
    Some((level, close + 2 + end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(s: &str) -> Option<Level> {
        find_level(s.as_bytes()).map(|(l, _)| l)
    }

    #[test]
    fn a_spark_task_thread_with_spaces_before_the_level() {
        // tests/real/spark/spark-rapids-tools-driverlog.log line 239
        let rest = b" Executor task launch worker for task 0.0 in stage 2.0 (TID 1825) WARN MultiFileReaderThreadPool: Configuring";
        let (l, end) = find_level(rest).unwrap();
        assert_eq!(l, Level::Warn);
        assert!(rest[end..].starts_with(b" MultiFileReaderThreadPool:"));
        assert_eq!(
            lv(" Executor task launch worker for task 0.0 (TID 1) said nothing"),
            None
        );
    }

    #[test]
    fn levels_of_each_layout() {
        assert_eq!(
            lv(" [tserver.TabletServer] ERROR: Lost"),
            Some(Level::Error)
        );
        assert_eq!(lv(" [master.Master] WARN : Tablet"), Some(Level::Warn));
        assert_eq!(
            lv(" Thread[42] [master.Master] INFO : x"),
            Some(Level::Info)
        );
        assert_eq!(
            lv(" INFO org.apache.hadoop.hdfs.StateChange: BLOCK*"),
            Some(Level::Info)
        );
        assert_eq!(
            lv(" INFO [main] org.apache.hadoop.mapreduce: x"),
            Some(Level::Info)
        );
        assert_eq!(
            lv(" [myid:1] - WARN  [NIOServerCxn.Factory:x@193] - Too many"),
            Some(Level::Warn)
        );
        assert_eq!(
            lv(" - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:x] - LOOKING"),
            Some(Level::Info)
        );
        assert_eq!(lv(" [26] PANIC:  could not write"), Some(Level::Panic));
        assert_eq!(lv(" [26] koverse@kvdb FATAL:  sorry"), Some(Level::Fatal));
        assert_eq!(lv(" WARN Client session timed out"), Some(Level::Warn));
        assert_eq!(lv(":WARN:oejs.ServerConnector:qtp"), Some(Level::Warn));
        assert_eq!(lv(" ERROR [com.koverse.Server] - boom"), Some(Level::Error));
        assert_eq!(
            lv(" 148 INFO dfs.DataNode$PacketResponder: x"),
            Some(Level::Info)
        );
        assert_eq!(lv(" nothing here to see at all"), None);
    }
}
