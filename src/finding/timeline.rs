//! When a finding happened: its occurrences folded into bursts (runs in time order with no gap
//! longer than `FOLD_MS`), kept on the finding as it is aggregated, so the sweep's timeline
//! and its incidents are built from findings, never from a second pass over lines. Bursts
//! merge exactly: the bursts of the parts of a stream (or of several files) joined give the
//! bursts of the whole, whatever the split.

use crate::event::Stamp;

/// Occurrences of one finding closer than this in time are one burst (one timeline entry,
/// "x37 until 02:14:10").
pub const FOLD_MS: i64 = 60_000;

/// Bursts one finding keeps; past this the closest neighbours are joined.
pub const MAX_BURSTS: usize = 10_000;

/// A run of one finding's occurrences with no gap longer than `FOLD_MS`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Burst {
    pub first: (i64, Stamp),
    pub last: (i64, Stamp),
    pub count: u64,
    /// Where its earliest occurrence is: (stream index, line).
    pub at: (u32, u64),
}

/// A finding's bursts, in time order once `normalise`d. Untimed occurrences are not on the
/// timeline (they are still counted by the finding).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Bursts(pub Vec<Burst>, usize);

impl Bursts {
    /// One more occurrence, in stream order.
    pub fn add(&mut self, stamp: Option<Stamp>, at: (u32, u64)) {
        let Some(st) = stamp else { return };
        let k = st.key();
        if let Some(b) = self.0.last_mut()
            && k >= b.first.0
            && k - b.last.0 <= FOLD_MS
        {
            if k > b.last.0 {
                b.last = (k, st);
            }
            b.count += 1;
            return;
        }
        self.0.push(Burst {
            first: (k, st),
            last: (k, st),
            count: 1,
            at,
        });
        // Times that go back (a rotated file appended, a sample repeated) open a burst each:
        // fold them in whenever the list doubles, so memory follows distinct times, not lines.
        if self.0.len() > 2 * self.1.max(32) {
            self.normalise();
            self.1 = self.0.len();
        }
    }

    /// Takes in another part's (or file's) bursts of the same finding.
    pub fn merge(&mut self, other: Bursts) {
        self.0.extend(other.0);
        self.normalise();
    }

    /// Sorts by time and joins bursts that overlap or lie within `FOLD_MS` of each other.
    pub fn normalise(&mut self) {
        if self.0.len() < 2 {
            return;
        }
        self.0
            .sort_by(|a, b| a.first.0.cmp(&b.first.0).then(a.at.cmp(&b.at)));
        let mut out: Vec<Burst> = Vec::with_capacity(self.0.len());
        for b in self.0.drain(..) {
            match out.last_mut() {
                Some(cur) if b.first.0 - cur.last.0 <= FOLD_MS => join(cur, b),
                _ => out.push(b),
            }
        }
        while out.len() > MAX_BURSTS {
            // Join the closest neighbours (deterministic: the earliest of equal gaps).
            let i = (0..out.len() - 1)
                .min_by_key(|&i| out[i + 1].first.0 - out[i].last.0)
                .unwrap_or(0);
            let b = out.remove(i + 1);
            join(&mut out[i], b);
        }
        self.0 = out;
    }
}

fn join(cur: &mut Burst, b: Burst) {
    if b.last.0 > cur.last.0 {
        cur.last = b.last;
    }
    if b.first.0 < cur.first.0 || (b.first.0 == cur.first.0 && b.at < cur.at) {
        cur.first = b.first;
        cur.at = b.at;
    }
    cur.count += b.count;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(text: &str) -> Stamp {
        let line = format!("{text} INFO x");
        crate::event::time::parse_kind(line.as_bytes(), crate::event::time::TsKind::Iso).unwrap()
    }

    fn bursts(times: &[&str]) -> Bursts {
        let mut b = Bursts::default();
        for (i, t) in times.iter().enumerate() {
            b.add(Some(stamp(t)), (0, i as u64 + 1));
        }
        b.normalise();
        b
    }

    fn shape(b: &Bursts) -> Vec<(u64, u64)> {
        b.0.iter().map(|x| (x.count, x.at.1)).collect()
    }

    #[test]
    fn repeats_fold_and_a_gap_starts_a_new_burst() {
        let b = bursts(&[
            "2024-03-11 02:00:00,000",
            "2024-03-11 02:00:50,000",
            "2024-03-11 02:01:40,000",
            "2024-03-11 02:05:00,000",
        ]);
        assert_eq!(shape(&b), vec![(3, 1), (1, 4)]);
    }

    #[test]
    fn merging_parts_gives_the_bursts_of_the_whole() {
        let times = [
            "2024-03-11 02:00:00,000",
            "2024-03-11 02:00:30,000",
            "2024-03-11 02:03:00,000",
            "2024-03-11 02:03:20,000",
            "2024-03-11 01:59:30,000",
            "2024-03-11 02:10:00,000",
        ];
        let whole = bursts(&times);
        for cut in 0..=times.len() {
            let mut a = bursts(&times[..cut]);
            let mut b = Bursts::default();
            for (i, t) in times[cut..].iter().enumerate() {
                b.add(Some(stamp(t)), (0, (cut + i) as u64 + 1));
            }
            a.merge(b);
            assert_eq!(shape(&a), shape(&whole), "cut at {cut}");
        }
    }
}
