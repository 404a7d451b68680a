//! Timestamp recognition at the start of a log line: the forms this stack's layouts print
//! (log4j `%d{ISO8601}` with a space or a `T`, Kafka's bracketed form, Hadoop/Spark console
//! `yy/MM/dd HH:mm:ss`, the compact `yyMMdd HHmmss` of old Hadoop daemons, PostgreSQL's `%m`/`%t`
//! with a zone name). Parsing is byte-level and allocation-free; a timestamp keeps the text as
//! written, and a normalised ISO 8601 form is built only for reported events. No time zone is
//! invented: a zone is kept only when the line states it.

use jiff::civil::DateTime;

/// The timestamp shapes we recognise at the start of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsKind {
    /// `2024-03-11 02:14:31,010`, `2024-03-11T02:14:31.010`, optional zone.
    Iso,
    /// `[2024-03-11 02:14:31,010]` (Kafka).
    Bracketed,
    /// `24/03/11 02:14:31` (Hadoop/Spark console).
    Slash,
    /// `240311 021431` (old Hadoop daemons; loghub HDFS).
    Compact,
}

/// A zone the line states explicitly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Zone {
    Utc,
    /// Offset in minutes east of UTC.
    Offset(i32),
    /// A zone abbreviation such as `CEST`: kept as written, not interpreted.
    Named,
}

/// A timestamp found at the start of a line.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    /// Bytes of the line the timestamp (with its brackets and zone) spans.
    pub end: usize,
    /// Bytes of the timestamp text as written (without brackets), from `start`.
    pub start: usize,
    pub text_end: usize,
    pub civil: DateTime,
    pub zone: Option<Zone>,
}

impl TsKind {
    pub const ALL: [TsKind; 4] = [
        TsKind::Iso,
        TsKind::Bracketed,
        TsKind::Slash,
        TsKind::Compact,
    ];
}

impl Stamp {
    /// Normalised ISO 8601: `2024-03-11T02:14:31.010`, plus `Z` or `+hh:mm` when the line said so.
    pub fn iso(&self) -> String {
        let c = self.civil;
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            c.year(),
            c.month(),
            c.day(),
            c.hour(),
            c.minute(),
            c.second()
        );
        let ms = c.subsec_nanosecond() / 1_000_000;
        if c.subsec_nanosecond() != 0 {
            s.push_str(&format!(".{ms:03}"));
        }
        match self.zone {
            Some(Zone::Utc) => s.push('Z'),
            Some(Zone::Offset(m)) => {
                let sign = if m < 0 { '-' } else { '+' };
                s.push_str(&format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60));
            }
            _ => {}
        }
        s
    }

    /// An ordering key (civil time; zones are not applied).
    pub fn key(&self) -> i64 {
        civil_key(self.civil)
    }
}

/// Milliseconds since 1970-01-01T00:00 of a civil (zone-less) time: an ordering key.
pub fn civil_key(c: DateTime) -> i64 {
    // Days from civil (H. Hinnant's algorithm): integer arithmetic only, on the hot path.
    let (y, m, d) = (c.year() as i64, c.month() as i64, c.day() as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 86_400 + c.hour() as i64 * 3600 + c.minute() as i64 * 60 + c.second() as i64) * 1000)
        + (c.subsec_nanosecond() / 1_000_000) as i64
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i32> {
    let s = b.get(at..at + n)?;
    let mut v: i32 = 0;
    for &d in s {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (d - b'0') as i32;
    }
    Some(v)
}

fn build(y: i32, mo: i32, d: i32, h: i32, mi: i32, s: i32, nanos: i32) -> Option<DateTime> {
    DateTime::new(
        y as i16, mo as i8, d as i8, h as i8, mi as i8, s as i8, nanos,
    )
    .ok()
}

/// Parses `HH:MM:SS` then an optional `,mmm`/`.mmm` fraction; returns (h, m, s, nanos, end).
fn clock(b: &[u8], at: usize) -> Option<(i32, i32, i32, i32, usize)> {
    let h = digits(b, at, 2)?;
    if b.get(at + 2) != Some(&b':') {
        return None;
    }
    let mi = digits(b, at + 3, 2)?;
    if b.get(at + 5) != Some(&b':') {
        return None;
    }
    let s = digits(b, at + 6, 2)?;
    let mut end = at + 8;
    let mut nanos = 0;
    if matches!(b.get(end), Some(b',') | Some(b'.'))
        && b.get(end + 1).is_some_and(u8::is_ascii_digit)
    {
        let mut n = 0;
        let mut scale = 100_000_000;
        end += 1;
        while let Some(&d) = b.get(end) {
            if !d.is_ascii_digit() || n == 9 {
                break;
            }
            nanos += (d - b'0') as i32 * scale;
            scale /= 10;
            n += 1;
            end += 1;
        }
    }
    Some((h, mi, s, nanos, end))
}

/// Words that follow a timestamp but are levels, not zone names.
fn is_level_word(w: &[u8]) -> bool {
    super::level::Level::parse(w).is_some()
}

/// An explicit zone right after the clock: `Z`, `+01:00`, `+0100`, or ` UTC`/` CEST`.
fn zone(b: &[u8], at: usize) -> (Option<Zone>, usize) {
    match b.get(at) {
        Some(b'Z') => return (Some(Zone::Utc), at + 1),
        Some(&c @ (b'+' | b'-')) => {
            if let (Some(h), Some(m)) = (digits(b, at + 1, 2), {
                if b.get(at + 3) == Some(&b':') {
                    digits(b, at + 4, 2)
                } else {
                    digits(b, at + 3, 2)
                }
            }) && h <= 23
                && m <= 59
            {
                let len = if b.get(at + 3) == Some(&b':') { 6 } else { 5 };
                let mins = h * 60 + m;
                return (
                    Some(Zone::Offset(if c == b'-' { -mins } else { mins })),
                    at + len,
                );
            }
        }
        Some(b' ') => {
            let start = at + 1;
            let mut end = start;
            while end < b.len() && end - start <= 5 && b[end].is_ascii_uppercase() {
                end += 1;
            }
            let word = &b[start..end];
            let next_ok = matches!(b.get(end), None | Some(b' ') | Some(b'\r'));
            if (3..=5).contains(&word.len()) && next_ok && !is_level_word(word) {
                let z = if word == b"UTC" || word == b"GMT" {
                    Zone::Utc
                } else {
                    Zone::Named
                };
                return (Some(z), end);
            }
        }
        _ => {}
    }
    (None, at)
}

fn iso_at(b: &[u8], at: usize) -> Option<Stamp> {
    let y = digits(b, at, 4)?;
    if b.get(at + 4) != Some(&b'-') || b.get(at + 7) != Some(&b'-') {
        return None;
    }
    let mo = digits(b, at + 5, 2)?;
    let d = digits(b, at + 8, 2)?;
    if !matches!(b.get(at + 10), Some(b' ') | Some(b'T')) {
        return None;
    }
    let (h, mi, s, nanos, end) = clock(b, at + 11)?;
    let civil = build(y, mo, d, h, mi, s, nanos)?;
    let (zone, zend) = zone(b, end);
    Some(Stamp {
        end: zend,
        start: at,
        text_end: zend,
        civil,
        zone,
    })
}

/// Parses a timestamp of the given kind at the start of `line`.
pub fn parse_kind(line: &[u8], kind: TsKind) -> Option<Stamp> {
    match kind {
        TsKind::Iso => iso_at(line, 0),
        TsKind::Bracketed => {
            if line.first() != Some(&b'[') {
                return None;
            }
            let mut st = iso_at(line, 1)?;
            if line.get(st.end) != Some(&b']') {
                return None;
            }
            st.text_end = st.end;
            st.end += 1;
            Some(st)
        }
        TsKind::Slash => {
            let y = digits(line, 0, 2)?;
            if line.get(2) != Some(&b'/')
                || line.get(5) != Some(&b'/')
                || line.get(8) != Some(&b' ')
            {
                return None;
            }
            let mo = digits(line, 3, 2)?;
            let d = digits(line, 6, 2)?;
            let (h, mi, s, nanos, end) = clock(line, 9)?;
            let civil = build(2000 + y, mo, d, h, mi, s, nanos)?;
            Some(Stamp {
                end,
                start: 0,
                text_end: end,
                civil,
                zone: None,
            })
        }
        TsKind::Compact => {
            let y = digits(line, 0, 2)?;
            let mo = digits(line, 2, 2)?;
            let d = digits(line, 4, 2)?;
            if line.get(6) != Some(&b' ') {
                return None;
            }
            let h = digits(line, 7, 2)?;
            let mi = digits(line, 9, 2)?;
            let s = digits(line, 11, 2)?;
            if !matches!(line.get(13), Some(b' ')) {
                return None;
            }
            let civil = build(2000 + y, mo, d, h, mi, s, 0)?;
            Some(Stamp {
                end: 13,
                start: 0,
                text_end: 13,
                civil,
                zone: None,
            })
        }
    }
}

/// Tries every known kind.
#[cfg(test)]
pub fn parse_any(line: &[u8]) -> Option<Stamp> {
    [
        TsKind::Iso,
        TsKind::Bracketed,
        TsKind::Slash,
        TsKind::Compact,
    ]
    .into_iter()
    .find_map(|k| parse_kind(line, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log4j_iso_with_comma_and_t() {
        let s = parse_kind(
            b"2024-03-11 02:14:31,010 [tserver.TabletServer] ERROR: x",
            TsKind::Iso,
        )
        .unwrap();
        assert_eq!(s.iso(), "2024-03-11T02:14:31.010");
        assert_eq!(s.end, 23);
        let s = parse_kind(
            b"2021-01-22T10:24:04,608 [master.Master] WARN : x",
            TsKind::Iso,
        )
        .unwrap();
        assert_eq!(s.iso(), "2021-01-22T10:24:04.608");
    }

    #[test]
    fn level_after_time_is_not_a_zone() {
        let s = parse_kind(
            b"2022-12-02 15:22:04,287 INFO org.apache.hadoop.hdfs.StateChange: x",
            TsKind::Iso,
        )
        .unwrap();
        assert_eq!(s.zone, None);
        assert_eq!(s.end, 23);
    }

    #[test]
    fn postgres_zone_is_kept() {
        let s = parse_kind(
            b"2024-01-11 06:23:58.586 UTC [26] PANIC:  could not",
            TsKind::Iso,
        )
        .unwrap();
        assert_eq!(s.iso(), "2024-01-11T06:23:58.586Z");
        assert_eq!(
            &b"2024-01-11 06:23:58.586 UTC [26]"[..s.end],
            b"2024-01-11 06:23:58.586 UTC"
        );
        let s = parse_kind(b"2024-01-11 06:23:58 CEST [26] LOG:  x", TsKind::Iso).unwrap();
        assert_eq!(s.zone, Some(Zone::Named));
        assert_eq!(s.iso(), "2024-01-11T06:23:58");
    }

    #[test]
    fn other_kinds() {
        let s = parse_kind(
            b"[2024-10-30 19:17:25,248] WARN Client session",
            TsKind::Bracketed,
        )
        .unwrap();
        assert_eq!(s.iso(), "2024-10-30T19:17:25.248");
        assert_eq!(s.end, 25);
        let s = parse_kind(
            b"17/04/12 18:49:33 ERROR scheduler.TaskSetManager: x",
            TsKind::Slash,
        )
        .unwrap();
        assert_eq!(s.iso(), "2017-04-12T18:49:33");
        let s = parse_kind(
            b"081109 203615 148 INFO dfs.DataNode$PacketResponder: x",
            TsKind::Compact,
        )
        .unwrap();
        assert_eq!(s.iso(), "2008-11-09T20:36:15");
        assert!(parse_any(b"\tat java.lang.Thread.run(Thread.java:745)").is_none());
        assert!(parse_any(b"2024-13-40 99:99:99,000 bad").is_none());
    }

    #[test]
    fn civil_key_counts_from_the_epoch() {
        assert_eq!(civil_key(jiff::civil::date(1970, 1, 1).at(0, 0, 0, 0)), 0);
        assert_eq!(
            civil_key(jiff::civil::date(2000, 3, 1).at(0, 0, 1, 0)),
            951_868_801_000
        );
        assert_eq!(
            civil_key(jiff::civil::date(2024, 2, 29).at(12, 0, 0, 5_000_000)),
            1_709_208_000_005
        );
    }

    #[test]
    fn keys_order_like_time() {
        let a = parse_any(b"2024-03-11 02:14:31,010 x").unwrap().key();
        let b = parse_any(b"2024-03-11 02:14:31,011 x").unwrap().key();
        let c = parse_any(b"2024-03-12 00:00:00,000 x").unwrap().key();
        assert!(a < b && b < c);
    }
}
