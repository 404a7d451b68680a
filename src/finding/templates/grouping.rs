//! Token-level grouping of masked templates, independent of the order they come in.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::WILDCARD;

/// Token-level grouping of masked templates (the Drain idea, made order-independent). Takes
/// the distinct masked templates (text, exception) and returns, for each input in the same
/// order, its final text.
///
/// Templates are split on spaces. Two templates can merge when they have the same number of
/// tokens, the same exception and the same first token, and differ in exactly one position
/// (`<*>` is a token like any other here, so a template that differs from `a <*> c` only by
/// its middle token merges into it). The position becomes `<*>`. A merge is refused when the
/// result would have half or more of its tokens `<*>` (so two-token messages such as
/// `Connection refused` / `Connection reset` stay apart).
///
/// Order: the inputs are deduplicated and sorted first; then, repeatedly until nothing
/// changes, for each position from the second to the last, every class of templates equal
/// everywhere but at that position collapses into one. The result depends only on the set of
/// inputs, never on their order.
pub fn group(templates: &[(String, Option<String>)]) -> Vec<String> {
    type Toks<'a> = Vec<&'a str>;
    type Bucket<'a> = (usize, Option<&'a str>, &'a str);

    let mut buckets: BTreeMap<Bucket<'_>, BTreeSet<Toks<'_>>> = BTreeMap::new();
    let tokenized: Vec<(Bucket<'_>, Toks<'_>)> = templates
        .iter()
        .map(|(text, exc)| {
            let toks: Toks<'_> = text.split(' ').filter(|t| !t.is_empty()).collect();
            let key = (
                toks.len(),
                exc.as_deref(),
                toks.first().copied().unwrap_or(""),
            );
            (key, toks)
        })
        .collect();
    for (key, toks) in &tokenized {
        buckets.entry(*key).or_default().insert(toks.clone());
    }

    // What each merged template became (only for templates that were merged away).
    let mut became: BTreeMap<(Bucket<'_>, Toks<'_>), Toks<'_>> = BTreeMap::new();
    for (key, set) in &mut buckets {
        let n = key.0;
        loop {
            let mut changed = false;
            for i in 1..n {
                let mut v: Vec<Toks<'_>> = set.iter().cloned().collect();
                // Stable sort of an already sorted list: ties keep the full order.
                v.sort_by(|a, b| cmp_except(a, b, i));
                let mut k = 0;
                while k < v.len() {
                    let mut e = k + 1;
                    while e < v.len() && cmp_except(&v[k], &v[e], i) == Ordering::Equal {
                        e += 1;
                    }
                    if e - k >= 2 {
                        let mut merged = v[k].clone();
                        merged[i] = WILDCARD;
                        let wild = merged.iter().filter(|t| **t == WILDCARD).count();
                        if 2 * wild < n {
                            for t in &v[k..e] {
                                set.remove(t);
                                if *t != merged {
                                    became.insert((*key, t.clone()), merged.clone());
                                }
                            }
                            set.insert(merged);
                            changed = true;
                        }
                    }
                    k = e;
                }
            }
            if !changed {
                break;
            }
        }
    }

    tokenized
        .into_iter()
        .map(|(key, mut toks)| {
            // Each step adds a `<*>`, so this ends.
            while let Some(next) = became.get(&(key, toks.clone())) {
                toks = next.clone();
            }
            toks.join(" ")
        })
        .collect()
}

/// Compares token lists equal in length, ignoring position `skip`.
pub(super) fn cmp_except(a: &[&str], b: &[&str], skip: usize) -> Ordering {
    let a = a
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != skip)
        .map(|(_, t)| t);
    let b = b
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != skip)
        .map(|(_, t)| t);
    a.cmp(b)
}
