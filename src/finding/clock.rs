//! One time axis across hosts. Log times that state no zone are read in one zone (`--tz`, by
//! default the machine's); times that state an offset or UTC are converted; a host whose clock
//! is off is corrected (`--clock-offset HOST=DURATION`) before anything is ordered. Within one
//! file the engine orders by civil time (`Stamp::key`, cheap, on the hot path); this turns a
//! finding's times into instants only where files and hosts meet: incidents and the timeline.

use jiff::tz::TimeZone;

use crate::event::{Stamp, time::Zone};

pub struct Clock {
    zone: TimeZone,
    /// How reports name the zone: an IANA name, an offset, or "UTC".
    pub name: String,
    /// Milliseconds added to each host's times.
    offsets: Vec<(String, i64)>,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock {
            zone: TimeZone::UTC,
            name: "UTC".to_string(),
            offsets: Vec::new(),
        }
    }
}

impl Clock {
    /// `tz`: an IANA name (`Europe/Berlin`), `UTC`, or an offset (`+02:00`, `-0500`); `None` is
    /// the machine's zone.
    pub fn new(tz: Option<&str>, offsets: Vec<(String, i64)>) -> Result<Clock, String> {
        let (zone, name) = match tz {
            None => {
                let z = TimeZone::system();
                let name = z.iana_name().unwrap_or("local").to_string();
                (z, format!("{name} (this machine's zone)"))
            }
            Some(s) if s.eq_ignore_ascii_case("utc") || s == "Z" => {
                (TimeZone::UTC, "UTC".to_string())
            }
            Some(s) => match parse_offset(s) {
                Some(secs) => (
                    TimeZone::fixed(
                        jiff::tz::Offset::from_seconds(secs).map_err(|e| e.to_string())?,
                    ),
                    s.to_string(),
                ),
                None => (
                    TimeZone::get(s).map_err(|e| {
                        format!("--tz {s:?}: not a time zone name (Europe/Berlin), UTC or an offset (+02:00): {e}")
                    })?,
                    s.to_string(),
                ),
            },
        };
        Ok(Clock {
            zone,
            name,
            offsets,
        })
    }

    /// The instant (milliseconds since the epoch, UTC) of a log time written on `host`.
    pub fn instant(&self, st: &Stamp, host: Option<&str>) -> i64 {
        let civil = crate::event::time::civil_key(st.civil);
        let utc = match st.zone {
            Some(Zone::Utc) => civil,
            Some(Zone::Offset(m)) => civil - i64::from(m) * 60_000,
            // Zone-less and abbreviated times are read in the chosen zone.
            _ => self
                .zone
                .to_ambiguous_zoned_datetime(st.civil)
                .compatible()
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(civil),
        };
        utc + host
            .and_then(|h| self.offsets.iter().find(|(n, _)| n == h))
            .map_or(0, |(_, ms)| *ms)
    }

    /// An instant as RFC 3339 in the chosen zone, with its offset.
    pub fn rfc3339(&self, ms: i64) -> String {
        let (dt, offset) = self.civil(ms);
        let sign = if offset < 0 { '-' } else { '+' };
        format!(
            "{}.{:03}{sign}{:02}:{:02}",
            dt.strftime("%Y-%m-%dT%H:%M:%S"),
            dt.subsec_nanosecond() / 1_000_000,
            offset.abs() / 3600,
            offset.abs() / 60 % 60
        )
    }

    /// An instant as `YYYY-MM-DD HH:MM:SS` in the chosen zone (terminal reports).
    pub fn short(&self, ms: i64) -> String {
        self.civil(ms).0.strftime("%Y-%m-%d %H:%M:%S").to_string()
    }

    fn civil(&self, ms: i64) -> (jiff::civil::DateTime, i32) {
        match jiff::Timestamp::from_millisecond(ms) {
            Ok(ts) => {
                let z = ts.to_zoned_datetime(self.zone.clone());
                (z.datetime(), z.offset().seconds())
            }
            Err(_) => (jiff::civil::DateTime::default(), 0),
        }
    }
}

/// `+02:00`, `-0500`, `+2`: seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<i32>().ok()?, 0)
    } else {
        let (h, m) = digits.split_at(digits.len() - 2);
        (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// A length of time as people say it: its two largest parts, `1h 17m`, `15m`, `1m 30s`, `40s`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let parts = [(s / 3600, "h"), (s / 60 % 60, "m"), (s % 60, "s")];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(2);
    parts[first..(first + 2).min(3)]
        .iter()
        .enumerate()
        .filter(|(i, (n, _))| *i == 0 || *n > 0)
        .map(|(_, (n, u))| format!("{n}{u}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `node3=-4s`: a host and the correction added to its times.
pub fn parse_clock_offset(s: &str) -> Result<(String, i64), String> {
    let (host, d) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected HOST=DURATION, e.g. node3=-4s"))?;
    let (sign, d) = match d.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, d.strip_prefix('+').unwrap_or(d)),
    };
    let ms = crate::rules::pack::parse_duration_ms(d)
        .ok_or_else(|| format!("{s:?}: {d:?} is not a duration such as 4s, 2m"))?;
    Ok((host.to_string(), sign * ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(text: &str) -> Stamp {
        let line = format!("{text} INFO x");
        crate::event::time::parse_kind(line.as_bytes(), crate::event::time::TsKind::Iso).unwrap()
    }

    #[test]
    fn zone_less_times_are_read_in_the_chosen_zone_and_hosts_corrected() {
        let berlin = Clock::new(Some("Europe/Berlin"), vec![("node3".into(), -4000)]).unwrap();
        let utc = Clock::new(Some("UTC"), vec![]).unwrap();
        let st = stamp("2024-03-11 02:10:21,004");
        assert_eq!(
            utc.instant(&st, None) - berlin.instant(&st, None),
            3_600_000
        );
        assert_eq!(
            berlin.instant(&st, Some("node3")),
            berlin.instant(&st, None) - 4000
        );
        assert_eq!(
            berlin.rfc3339(berlin.instant(&st, None)),
            "2024-03-11T02:10:21.004+01:00"
        );
        assert_eq!(
            utc.rfc3339(berlin.instant(&st, None)),
            "2024-03-11T01:10:21.004+00:00"
        );
        let fixed = Clock::new(Some("-05:00"), vec![]).unwrap();
        assert_eq!(
            fixed.instant(&st, None) - utc.instant(&st, None),
            5 * 3_600_000
        );
        assert!(Clock::new(Some("Mars/Olympus"), vec![]).is_err());
        assert_eq!(
            parse_clock_offset("node3=-4s").unwrap(),
            ("node3".into(), -4000)
        );
        assert!(parse_clock_offset("node3").is_err());
        assert_eq!(duration(15 * 60_000), "15m");
        assert_eq!(duration(2 * 3_600_000), "2h");
        assert_eq!(duration(90_000), "1m 30s");
        assert_eq!(duration(4_679_321), "1h 17m");
        assert_eq!(duration(400), "0s");
    }
}
