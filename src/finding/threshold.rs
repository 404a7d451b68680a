//! Thresholds: a finding of a rule with `threshold = { count, within }` exists only when, in one
//! file, `count` of its occurrences fall within the window. The state is bounded (`count - 1`
//! timestamps at each end) and merges exactly, so consecutive parts of a file can be checked
//! for a window that straddles them.

use std::collections::VecDeque;

use crate::rules::Threshold;

/// Has a threshold been reached? Keeps the first and last `count - 1` timestamps so that two
/// consecutive parts of one file can be checked for a window that straddles them.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ThresholdState {
    count: usize,
    within_ms: i64,
    head: Vec<Option<i64>>,
    tail: VecDeque<Option<i64>>,
    pub reached: bool,
}

impl ThresholdState {
    pub fn new(t: &Threshold) -> Self {
        ThresholdState {
            count: t.count.max(1) as usize,
            within_ms: t.within_ms,
            head: Vec::new(),
            tail: VecDeque::new(),
            reached: t.count <= 1,
        }
    }

    fn fits(&self, first: Option<i64>, last: Option<i64>) -> bool {
        match (first, last) {
            (Some(a), Some(b)) => (b - a).abs() <= self.within_ms,
            // Untimed events (console output) count as close together.
            _ => true,
        }
    }

    /// Adds one occurrence; true when this one reaches the threshold.
    pub fn push(&mut self, ts: Option<i64>) -> bool {
        let keep = self.count - 1;
        let mut just = false;
        if !self.reached
            && keep > 0
            && self.tail.len() >= keep
            && self.fits(self.tail[self.tail.len() - keep], ts)
        {
            self.reached = true;
            just = true;
        }
        if self.head.len() < keep {
            self.head.push(ts);
        }
        self.tail.push_back(ts);
        if self.tail.len() > keep {
            self.tail.pop_front();
        }
        just
    }

    /// Folds in the state of the part that comes right after this one.
    pub fn merge(&mut self, next: ThresholdState) {
        let keep = self.count - 1;
        if !self.reached && !next.reached && keep > 0 {
            let seq: Vec<Option<i64>> = self
                .tail
                .iter()
                .copied()
                .chain(next.head.iter().copied())
                .collect();
            self.reached = (keep..seq.len()).any(|i| self.fits(seq[i - keep], seq[i]));
        }
        self.reached |= next.reached;
        for t in next.head {
            if self.head.len() < keep {
                self.head.push(t);
            }
        }
        self.tail.extend(next.tail);
        while self.tail.len() > keep {
            self.tail.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(count: u32, within_ms: i64) -> ThresholdState {
        ThresholdState::new(&Threshold {
            count,
            within_ms,
            within: String::new(),
        })
    }

    fn run(ts: &[i64]) -> bool {
        let mut s = state(3, 10);
        ts.iter().for_each(|&t| {
            s.push(Some(t));
        });
        s.reached
    }

    #[test]
    fn window_must_hold_count_occurrences() {
        assert!(!run(&[0, 20, 40, 60]));
        assert!(run(&[0, 20, 25, 29]));
        assert!(!run(&[0, 5]));
    }

    #[test]
    fn merging_parts_equals_one_pass() {
        let seqs: [&[i64]; 4] = [
            &[0, 20, 25, 29, 50],
            &[0, 20, 40, 60, 80],
            &[0, 1, 30, 31, 32, 90],
            &[5, 6, 7],
        ];
        for seq in seqs {
            for cut1 in 0..=seq.len() {
                for cut2 in cut1..=seq.len() {
                    let part = |r: &[i64]| {
                        let mut s = state(3, 10);
                        r.iter().for_each(|&t| {
                            s.push(Some(t));
                        });
                        s
                    };
                    let mut a = part(&seq[..cut1]);
                    a.merge(part(&seq[cut1..cut2]));
                    a.merge(part(&seq[cut2..]));
                    assert_eq!(a.reached, run(seq), "{seq:?} cut at {cut1},{cut2}");
                }
            }
        }
    }
}
