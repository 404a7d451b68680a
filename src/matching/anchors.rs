//! Choosing the literal pass's anchors. Searching for every literal of every rule takes several
//! SIMD passes (aho-corasick's Teddy searcher stops past 64 patterns); instead, each literal is
//! given one short *anchor* — a 4-byte piece of it — chosen so that few anchors cover all
//! literals and each anchor is rare in log text. The pass looks for the anchors only, and each
//! anchor found is checked against the literals it stands for. Which anchors are rare is
//! estimated by a byte-pair (Markov) model of log text, learnt from the bundled samples, and by
//! counting them in a sample of the logs about to be scanned when there is one. The choice
//! changes only the speed: every literal is still checked in full.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Anchor length: Teddy fingerprints up to 4 bytes of each pattern.
pub const ANCHOR_LEN: usize = 4;

/// Most literals one anchor stands for: each anchor found is checked against all of its
/// literals, so a very shared anchor (e.g. "ure " in many literals) would make that check long.
pub const MAX_LITERALS_PER_ANCHOR: usize = 16;

/// Weight of an anchor's existence against its expected frequency (occurrences per byte):
/// larger values favour fewer, more shared anchors; smaller, rarer ones. Tuned on the benchmark
/// corpus (BENCHMARKS.md): with the model alone, 3e-5 chooses 40 anchors for the built-in
/// packs' 203 literals.
const ANCHOR_WEIGHT: f64 = 3e-5;

/// Log text the frequency model learns from: the bundled samples (Accumulo, the application
/// log and Spark driver output, 38 KB). Only byte pairs are learnt: a coarse model, which a
/// sample of the logs at hand refines.
const TRAINING_TEXT: [&[u8]; 5] = [
    include_bytes!("../../samples/accumulo/master_node1.debug.log"),
    include_bytes!("../../samples/accumulo/master_node1.log"),
    include_bytes!("../../samples/accumulo/tserver_node3.log"),
    include_bytes!("../../samples/koverse-server/koverse-server.log"),
    include_bytes!("../../samples/koverse-server/server.err"),
];

/// Byte and byte-pair frequencies of log text.
struct PairModel {
    /// P(byte).
    byte: Vec<f64>,
    /// P(next byte | byte), row-major.
    next: Vec<f64>,
}

impl PairModel {
    fn learn(texts: &[&[u8]]) -> PairModel {
        // Add-one smoothing for bytes; a small constant for pairs never seen.
        let mut byte = vec![1.0f64; 256];
        let mut pair = vec![0.01f64; 256 * 256];
        for t in texts {
            for &b in t.iter() {
                byte[b as usize] += 1.0;
            }
            for w in t.windows(2) {
                pair[w[0] as usize * 256 + w[1] as usize] += 1.0;
            }
        }
        let total: f64 = byte.iter().sum();
        byte.iter_mut().for_each(|p| *p /= total);
        for row in pair.chunks_mut(256) {
            let sum: f64 = row.iter().sum();
            row.iter_mut().for_each(|p| *p /= sum);
        }
        PairModel { byte, next: pair }
    }

    /// Expected occurrences of `gram` per byte of log text.
    fn frequency(&self, gram: &[u8]) -> f64 {
        let Some(&first) = gram.first() else {
            return 1.0;
        };
        let mut p = self.byte[first as usize];
        for w in gram.windows(2) {
            p *= self.next[w[0] as usize * 256 + w[1] as usize];
        }
        p
    }
}

fn model() -> &'static PairModel {
    static MODEL: OnceLock<PairModel> = OnceLock::new();
    MODEL.get_or_init(|| PairModel::learn(&TRAINING_TEXT))
}

/// The chosen anchors, and for each literal which anchor stands for it and where.
#[derive(Debug)]
pub struct Anchors {
    pub anchors: Vec<Vec<u8>>,
    /// Per literal (in input order): (anchor index, offset of the anchor in the literal).
    pub of_literal: Vec<(usize, usize)>,
}

/// Weight of the model against a sample of the logs at hand, in bytes: a sample this long
/// counts as much as the model.
const MODEL_WEIGHT_BYTES: f64 = 64.0 * 1024.0;

/// Counts the occurrences in `sample` of each `ANCHOR_LEN`-byte piece (shorter pieces: 0), with
/// an open-addressing table keyed by the piece's 4 bytes (a few nanoseconds per sample byte).
fn count_in(sample: &[u8], pieces: &[&[u8]]) -> Vec<u32> {
    let mut counts = vec![0u32; pieces.len()];
    if sample.len() < ANCHOR_LEN {
        return counts;
    }
    let bits = (pieces.len() * 2)
        .next_power_of_two()
        .max(256)
        .trailing_zeros();
    let slot = |key: u32| (key.wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize;
    let mask = (1usize << bits) - 1;
    let mut keys = vec![0u32; 1 << bits];
    let mut ids = vec![u32::MAX; 1 << bits];
    for (id, p) in pieces.iter().enumerate() {
        let Ok(four) = <[u8; 4]>::try_from(*p) else {
            continue;
        };
        let key = u32::from_le_bytes(four);
        let mut s = slot(key);
        while ids[s] != u32::MAX {
            s = (s + 1) & mask;
        }
        keys[s] = key;
        ids[s] = id as u32;
    }
    // Most sample positions start no piece: a bit per 2-byte prefix rejects them first.
    let mut prefixes = vec![0u64; 1 << 10];
    for p in pieces.iter().filter(|p| p.len() == 4) {
        let k = u16::from_le_bytes([p[0], p[1]]) as usize;
        prefixes[k >> 6] |= 1 << (k & 63);
    }
    for w in sample.windows(4) {
        let k = u16::from_le_bytes([w[0], w[1]]) as usize;
        if prefixes[k >> 6] & (1 << (k & 63)) == 0 {
            continue;
        }
        let key = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let mut s = slot(key);
        while ids[s] != u32::MAX {
            if keys[s] == key {
                counts[ids[s] as usize] += 1;
                break;
            }
            s = (s + 1) & mask;
        }
    }
    counts
}

/// Chooses anchors for `literals` by greedy weighted set cover: repeatedly the piece that
/// covers the most literals not yet covered (at most `MAX_LITERALS_PER_ANCHOR`) per unit of
/// cost (expected frequency plus `ANCHOR_WEIGHT`). A piece's frequency is the model's, blended
/// with its count in `sample` (text of the logs about to be scanned; may be empty).
/// Deterministic: ties go to the smaller piece. A literal shorter than `ANCHOR_LEN` is its own
/// anchor.
pub fn choose(literals: &[&[u8]], sample: &[u8]) -> Anchors {
    let model = model();
    // Every piece of every literal, with the literals it occurs in (first offset each).
    let mut piece_ids: HashMap<&[u8], usize> = HashMap::new();
    let mut pieces: Vec<&[u8]> = Vec::new();
    let mut holders: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut pieces_of: Vec<Vec<usize>> = vec![Vec::new(); literals.len()];
    for (li, lit) in literals.iter().enumerate() {
        let n = lit.len().min(ANCHOR_LEN);
        for off in 0..=lit.len() - n {
            let piece = &lit[off..off + n];
            let id = *piece_ids.entry(piece).or_insert_with(|| {
                pieces.push(piece);
                holders.push(Vec::new());
                pieces.len() - 1
            });
            if holders[id].last().is_none_or(|&(l, _)| l != li) {
                holders[id].push((li, off));
                pieces_of[li].push(id);
            }
        }
    }
    let counts = count_in(sample, &pieces);
    let cost: Vec<f64> = pieces
        .iter()
        .zip(&counts)
        .map(|(p, &n)| {
            let expected = (f64::from(n) + MODEL_WEIGHT_BYTES * model.frequency(p))
                / (sample.len() as f64 + MODEL_WEIGHT_BYTES);
            expected + ANCHOR_WEIGHT
        })
        .collect();
    let mut uncovered_holders: Vec<usize> = holders.iter().map(Vec::len).collect();
    let mut covered = vec![false; literals.len()];
    let mut chosen = vec![false; pieces.len()];
    let mut left = literals.len();
    let mut anchors = Anchors {
        anchors: Vec::new(),
        of_literal: vec![(usize::MAX, 0); literals.len()],
    };
    while left > 0 {
        let score = |i: usize| uncovered_holders[i].min(MAX_LITERALS_PER_ANCHOR) as f64 / cost[i];
        let best = (0..pieces.len())
            .filter(|&i| uncovered_holders[i] > 0 && !chosen[i])
            .max_by(|&a, &b| {
                score(a)
                    .total_cmp(&score(b))
                    .then_with(|| pieces[b].cmp(pieces[a]))
            })
            .expect("an uncovered literal has pieces");
        let ai = anchors.anchors.len();
        anchors.anchors.push(pieces[best].to_vec());
        let mut taken = 0;
        for &(li, off) in &holders[best] {
            if covered[li] || taken == MAX_LITERALS_PER_ANCHOR {
                continue;
            }
            taken += 1;
            covered[li] = true;
            left -= 1;
            anchors.of_literal[li] = (ai, off);
            for &p in &pieces_of[li] {
                uncovered_holders[p] -= 1;
            }
        }
        // Each piece is chosen once: the literals it could not take find other anchors.
        chosen[best] = true;
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_cover(literals: &[&[u8]], a: &Anchors) {
        for (li, lit) in literals.iter().enumerate() {
            let (ai, off) = a.of_literal[li];
            let anchor = &a.anchors[ai];
            assert_eq!(&lit[off..off + anchor.len()], anchor.as_slice(), "{lit:?}");
        }
    }

    #[test]
    fn every_literal_gets_an_anchor_inside_it() {
        let lits: Vec<&[u8]> = vec![
            b"Too many open files",
            b"No space left on device",
            b"abc",
            b"lock in zookeeper lost (reason = ",
            b"Master lock in zookeeper lost (reason = ",
            b"Manager lock in zookeeper lost (reason = ",
        ];
        let a = choose(&lits, b"");
        check_cover(&lits, &a);
        // The three zookeeper-lock literals share one anchor.
        assert_eq!(a.of_literal[3].0, a.of_literal[4].0);
        assert_eq!(a.of_literal[4].0, a.of_literal[5].0);
        assert!(a.anchors.len() <= 4, "{:?}", a.anchors);
    }

    #[test]
    fn built_in_literals_fit_one_simd_searcher_and_anchors_stay_bounded() {
        let rules = crate::rules::load(&[], false).expect("built-in packs");
        let mut lits: Vec<&[u8]> = rules
            .iter()
            .flat_map(|r| r.literals.iter().map(|l| l.as_bytes()))
            .collect();
        lits.sort();
        lits.dedup();
        let a = choose(&lits, b"");
        check_cover(&lits, &a);
        assert!(a.anchors.len() <= 64, "{} anchors", a.anchors.len());
        let mut distinct = a.anchors.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), a.anchors.len(), "an anchor chosen twice");
        let mut per_anchor = vec![0; a.anchors.len()];
        a.of_literal.iter().for_each(|&(ai, _)| per_anchor[ai] += 1);
        assert!(per_anchor.iter().all(|&n| n <= MAX_LITERALS_PER_ANCHOR));
    }

    #[test]
    fn a_sample_steers_anchors_away_from_its_common_text() {
        let lits: Vec<&[u8]> = vec![b"lease renewal failed", b"renewal of lease"];
        let without = choose(&lits, b"");
        assert_eq!(without.anchors, vec![b"enew".to_vec()]);
        // In these logs "renewal" is everywhere, "lease" nowhere.
        let sample = b"renewal failed. renewal of ".repeat(1000);
        let with = choose(&lits, &sample);
        check_cover(&lits, &with);
        assert_eq!(with.anchors.len(), 1);
        assert!(
            [b"leas".as_slice(), b"ease"].contains(&with.anchors[0].as_slice()),
            "{with:?}"
        );
    }

    #[test]
    fn counts_pieces_in_a_sample() {
        let pieces: Vec<&[u8]> = vec![b"abcd", b"bcda", b"xyz", b"zzzz"];
        assert_eq!(count_in(b"abcdabcda", &pieces), vec![2, 2, 0, 0]);
        assert_eq!(count_in(b"abc", &pieces), vec![0, 0, 0, 0]);
    }

    #[test]
    fn common_text_makes_a_poor_anchor() {
        let m = model();
        assert!(m.frequency(b" the") > m.frequency(b"ZooK"));
        assert!(m.frequency(b"INFO") > m.frequency(b"qxzj"));
    }
}
