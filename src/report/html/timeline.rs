//! The page's timeline: an SVG lane per host and service, a mark per timeline entry, incidents
//! shaded, silences drawn as gaps, and an axis whose ticks fall on round times of the report's
//! zone.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value as Json;

use super::{millis, str_of};
use crate::finding::clock::Clock;

/// The timeline's geometry (in SVG user units).
const LABEL_W: f64 = 240.0;
const PLOT_W: f64 = 940.0;
const RIGHT_PAD: f64 = 50.0;
const AXIS_H: f64 = 30.0;
const LANE_H: f64 = 22.0;
const MARK_H: f64 = 12.0;
const MIN_MARK_W: f64 = 3.0;

#[derive(Serialize, Default)]
pub(super) struct Timeline {
    width: String,
    height: String,
    plot_x: String,
    plot_end: String,
    axis_y: String,
    lanes: Vec<Lane>,
    marks: Vec<Mark>,
    incidents: Vec<Shade>,
    gaps: Vec<Shade>,
    ticks: Vec<Tick>,
    /// The entries of the document and of the whole sweep (the cap cut the rest).
    shown: usize,
    count: usize,
}

#[derive(Serialize)]
struct Lane {
    label: String,
    y: String,
    mid: String,
    /// Where the lane's line ends: the plot's end, or where its log stopped.
    end: String,
    stripe: bool,
}

#[derive(Serialize)]
struct Mark {
    x: String,
    y: String,
    w: String,
    h: String,
    severity: String,
    fingerprint: String,
    /// The finding's row in the table, if it is one.
    row: Option<usize>,
    title: String,
}

#[derive(Serialize)]
struct Shade {
    x: String,
    y: String,
    w: String,
    h: String,
    /// silence | restart | incident
    kind: &'static str,
    label: String,
    title: String,
}

#[derive(Serialize)]
struct Tick {
    x: String,
    label: String,
}

fn n(v: f64) -> String {
    format!("{v:.1}")
}

type LaneKey = (Option<String>, Option<String>);

fn lane_key(v: &Json) -> LaneKey {
    (
        v["host"].as_str().map(str::to_string),
        v["service"].as_str().map(str::to_string),
    )
}

/// The SVG timeline: a lane per host and service, one mark per timeline entry.
pub(super) fn timeline(doc: &Json, clock: &Clock, index: &BTreeMap<&str, usize>) -> Timeline {
    let entries = doc["timeline"]["entries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let findings = doc["findings"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let incidents = doc["incidents"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    // Silences: a log that stopped (its lane ends at its last line), a daemon down and
    // restarted (a gap from its last line before to its first line after).
    let mut stops: BTreeMap<LaneKey, (i64, String)> = BTreeMap::new();
    let mut restarts: Vec<(LaneKey, i64, i64, String)> = Vec::new();
    for f in findings {
        let Some(at) = millis(&f["first_seen"]) else {
            continue;
        };
        let text = format!("{}: {}", str_of(&f["title"]), str_of(&f["summary"]));
        match str_of(&f["rule"]) {
            "jvm.stopped-logging" => {
                stops.insert(lane_key(f), (at, text));
            }
            "jvm.down-then-restarted" => {
                let field = |k: &str| {
                    f["fields"][k]
                        .as_str()
                        .and_then(|v| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", v).ok())
                };
                let until = match (field("down_from"), field("down_until")) {
                    (Some(a), Some(b)) => at + a.duration_until(b).as_millis() as i64,
                    _ => at,
                };
                restarts.push((lane_key(f), at, until, text));
            }
            _ => {}
        }
    }
    let mut lane_keys: BTreeSet<LaneKey> = entries.iter().map(lane_key).collect();
    lane_keys.extend(stops.keys().cloned());
    lane_keys.extend(restarts.iter().map(|r| r.0.clone()));
    if lane_keys.is_empty() {
        return Timeline::default();
    }
    // The axis spans every entry, incident and silence.
    let mut times: Vec<i64> = Vec::new();
    for e in entries {
        times.extend(millis(&e["time"]));
        times.extend(millis(&e["until"]));
    }
    for inc in incidents {
        times.extend(millis(&inc["start"]));
        times.extend(millis(&inc["end"]));
    }
    times.extend(stops.values().map(|v| v.0));
    times.extend(restarts.iter().flat_map(|r| [r.1, r.2]));
    let t0 = times.iter().copied().min().unwrap_or(0);
    let mut t1 = times.iter().copied().max().unwrap_or(0);
    if t1 <= t0 {
        t1 = t0 + 60_000;
    }
    // A margin so that marks at the ends stay inside.
    let margin = (t1 - t0) / 50;
    let (t0, t1) = (t0 - margin, t1 + margin);
    let x = |ms: i64| LABEL_W + (ms - t0) as f64 * PLOT_W / (t1 - t0) as f64;
    let plot_end = LABEL_W + PLOT_W;
    let lanes_index: BTreeMap<&LaneKey, usize> =
        lane_keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let lane_y = |i: usize| AXIS_H + i as f64 * LANE_H;
    let height = AXIS_H + lane_keys.len() as f64 * LANE_H + 6.0;
    let lanes = lane_keys
        .iter()
        .enumerate()
        .map(|(i, (host, service))| {
            let key = (host.clone(), service.clone());
            Lane {
                label: format!(
                    "{} · {}",
                    host.as_deref().unwrap_or("(no host)"),
                    service.as_deref().unwrap_or("(no service)")
                ),
                y: n(lane_y(i)),
                mid: n(lane_y(i) + LANE_H / 2.0),
                end: n(stops.get(&key).map_or(plot_end, |s| x(s.0))),
                stripe: i % 2 == 1,
            }
        })
        .collect();
    let marks = entries
        .iter()
        .map(|e| {
            let lane = lanes_index[&lane_key(e)];
            let a = millis(&e["time"]).unwrap_or(t0);
            let b = millis(&e["until"]).unwrap_or(a).max(a);
            let w = (x(b) - x(a)).max(MIN_MARK_W);
            let fp = str_of(&e["fingerprint"]);
            Mark {
                x: n(x(a) - if b == a { MIN_MARK_W / 2.0 } else { 0.0 }),
                y: n(lane_y(lane) + (LANE_H - MARK_H) / 2.0),
                w: n(w),
                h: n(MARK_H),
                severity: str_of(&e["severity"]).to_string(),
                fingerprint: fp.to_string(),
                row: index.get(fp).copied(),
                title: format!(
                    "{} → {} | {} | {} | {}x | {} · {} | {} | fingerprint {}",
                    str_of(&e["time"]),
                    str_of(&e["until"]),
                    str_of(&e["severity"]).to_uppercase(),
                    str_of(&e["title"]),
                    e["count"].as_u64().unwrap_or(0),
                    e["host"].as_str().unwrap_or("(no host)"),
                    e["service"].as_str().unwrap_or("(no service)"),
                    str_of(&e["at"]),
                    fp,
                ),
            }
        })
        .collect();
    let lanes_h = lane_keys.len() as f64 * LANE_H;
    let shades = incidents
        .iter()
        .enumerate()
        .filter_map(|(i, inc)| {
            let (a, b) = (millis(&inc["start"])?, millis(&inc["end"])?);
            let w = (x(b) - x(a)).max(4.0);
            Some(Shade {
                x: n(x(a) - if b == a { 2.0 } else { 0.0 }),
                y: n(AXIS_H),
                w: n(w),
                h: n(lanes_h),
                kind: "incident",
                label: format!("#{}", i + 1),
                title: format!(
                    "Incident {}: {} → {}",
                    i + 1,
                    str_of(&inc["start"]),
                    str_of(&inc["end"])
                ),
            })
        })
        .collect();
    let mut gaps: Vec<Shade> = stops
        .iter()
        .map(|(key, (at, text))| {
            let y = lane_y(lanes_index[key]);
            Shade {
                x: n(x(*at)),
                y: n(y + 3.0),
                w: n(plot_end - x(*at)),
                h: n(LANE_H - 6.0),
                kind: "silence",
                label: String::new(),
                title: format!("silent after {}: {text}", clock.short(*at)),
            }
        })
        .collect();
    gaps.extend(restarts.iter().map(|(key, a, b, text)| {
        let y = lane_y(lanes_index[key]);
        Shade {
            x: n(x(*a)),
            y: n(y + 3.0),
            w: n((x(*b) - x(*a)).max(MIN_MARK_W)),
            h: n(LANE_H - 6.0),
            kind: "restart",
            label: String::new(),
            title: format!("down {} → {}: {text}", clock.short(*a), clock.short(*b)),
        }
    }));
    let ticks = ticks(clock, t0, t1)
        .into_iter()
        .map(|(ms, label)| Tick { x: n(x(ms)), label })
        .collect();
    Timeline {
        width: n(LABEL_W + PLOT_W + RIGHT_PAD),
        height: n(height),
        plot_x: n(LABEL_W),
        plot_end: n(plot_end),
        axis_y: n(AXIS_H - 4.0),
        lanes,
        marks,
        incidents: shades,
        gaps,
        ticks,
        shown: entries.len(),
        count: doc["timeline"]["count"]
            .as_u64()
            .unwrap_or(entries.len() as u64) as usize,
    }
}

/// Tick steps, in seconds: the round times of a clock (a second to four weeks).
const STEPS: [i64; 22] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    172_800, 604_800, 1_209_600, 2_419_200,
];

/// The local (wall-clock) time of `ms` in the clock's zone, as milliseconds of a UTC clock.
fn local(clock: &Clock, ms: i64) -> i64 {
    jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", clock.short(ms))
        .ok()
        .and_then(|d| jiff::tz::Offset::UTC.to_timestamp(d).ok())
        .map_or(ms, |t| t.as_millisecond() + ms.rem_euclid(1000))
}

/// The axis's ticks over `t0..=t1`: round times of the clock's zone (every 1, 2, 5, 10, 15 or
/// 30 seconds or minutes, 1, 2, 3, 6 or 12 hours, days or weeks), the step chosen so that 4 to 8
/// show; labelled with the time, the date on the first and whenever it changes (only the date
/// for steps of a day or more).
fn ticks(clock: &Clock, t0: i64, t1: i64) -> Vec<(i64, String)> {
    // Alignment on the zone's wall clock: its offset at the start (each tick corrected by its
    // own offset below, which keeps round times across a change of offset).
    let off = local(clock, t0) - t0;
    let (a, b) = (t0 + off, t1 + off);
    let count = |s: i64| b.div_euclid(s) + (-a).div_euclid(s) + 1;
    let step = STEPS
        .iter()
        .map(|s| s * 1000)
        .find(|&s| (4..=8).contains(&count(s)))
        .or_else(|| STEPS.iter().map(|s| s * 1000).find(|&s| count(s) <= 8))
        .unwrap_or_else(|| {
            // Beyond eight times four weeks: whole weeks.
            let week = 604_800_000;
            ((b - a) / 8 / week + 1) * week
        });
    let mut out: Vec<(i64, String)> = Vec::new();
    let mut day = String::new();
    let first = -((-a).div_euclid(step));
    for k in first..=b.div_euclid(step) {
        let wall = k * step;
        let guess = wall - off;
        let ms = wall - (local(clock, guess) - guess);
        if ms < t0 || ms > t1 || out.last().is_some_and(|l| l.0 >= ms) {
            continue;
        }
        let short = clock.short(ms);
        let (d, time) = short.split_at(short.len().min(10));
        let time = time.trim();
        let time = if step % 60_000 == 0 {
            &time[..time.len().min(5)]
        } else {
            time
        };
        let label = if step >= 86_400_000 {
            d.to_string()
        } else if d != day {
            format!("{d} {time}")
        } else {
            time.to_string()
        };
        day = d.to_string();
        out.push((ms, label));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn labels(zone: &str, a: &str, b: &str) -> Vec<String> {
        let clock = Clock::new(Some(zone), Vec::new()).unwrap();
        ticks(&clock, at(a), at(b))
            .into_iter()
            .map(|t| t.1)
            .collect()
    }

    #[test]
    fn ticks_fall_on_round_times_of_the_zone() {
        assert_eq!(
            labels("UTC", "2024-03-11T02:13:41Z", "2024-03-11T03:07:12Z"),
            ["2024-03-11 02:20", "02:30", "02:40", "02:50", "03:00"]
        );
        // Half an hour ahead of UTC: round in the zone's clock, not in UTC's.
        assert_eq!(
            labels("+05:30", "2024-03-11T00:00:00Z", "2024-03-11T05:00:00Z"),
            ["2024-03-11 06:00", "07:00", "08:00", "09:00", "10:00"]
        );
        // Over midnight the date comes back; days are labelled by their date only.
        let l = labels("UTC", "2024-03-11T20:10:00Z", "2024-03-12T03:50:00Z");
        assert_eq!(
            l,
            [
                "2024-03-11 21:00",
                "22:00",
                "23:00",
                "2024-03-12 00:00",
                "01:00",
                "02:00",
                "03:00"
            ]
        );
        let l = labels(
            "Europe/Berlin",
            "2024-03-01T12:00:00Z",
            "2024-03-09T12:00:00Z",
        );
        assert!(l.iter().all(|x| x.len() == 10), "{l:?}");
        assert!((4..=8).contains(&l.len()), "{l:?}");
        for (a, b) in [
            ("2024-03-11T02:13:41Z", "2024-03-11T02:13:50Z"),
            ("2024-03-11T02:13:41Z", "2024-03-11T02:19:00Z"),
            ("2024-03-11T02:13:41Z", "2024-03-14T02:19:00Z"),
            ("2024-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ] {
            let n = labels("America/New_York", a, b).len();
            assert!((3..=8).contains(&n), "{a} {b}: {n}");
        }
    }
}
