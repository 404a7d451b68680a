//! Fingerprints: a stable 64-bit FNV-1a hash of what identifies a problem — the rule id, the
//! captured fields the rule groups by, and the service and host that logged it. Never times,
//! line numbers or the paths of rotated copies, so the same problem has the same fingerprint in
//! the next sweep, on another machine, with another build. (`std`'s `DefaultHasher` is not
//! stable across Rust versions, so it is not used.)

/// FNV-1a 64's offset basis: the start of every hash (templates' ids use it too).
pub const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 of `bytes`, continued from `h`.
pub fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// The fingerprint of an occurrence of `rule_id` with these grouped fields (in the rule's
/// `group_by` order), from `service` on `host`.
pub fn fingerprint(
    rule_id: &str,
    grouped: &[(&str, &str)],
    service: Option<&str>,
    host: Option<&str>,
) -> u64 {
    let mut h = fnv1a(OFFSET, b"logtriage-fp-v1\0");
    h = fnv1a(h, rule_id.as_bytes());
    for (k, v) in grouped {
        h = fnv1a(h, b"\0");
        h = fnv1a(h, k.as_bytes());
        h = fnv1a(h, b"=");
        h = fnv1a(h, v.as_bytes());
    }
    h = fnv1a(h, b"\0service=");
    h = fnv1a(h, service.unwrap_or("").as_bytes());
    h = fnv1a(h, b"\0host=");
    fnv1a(h, host.unwrap_or("").as_bytes())
}

/// The fingerprint of rule `rule`'s occurrence with these captured fields from `origin`: the
/// same value the engine computes (the engine computes it before the sweep has named the host;
/// reports compute it again once it has).
pub fn of(
    rule: &crate::rules::Rule,
    fields: &[(String, String)],
    origin: &crate::source::Origin,
) -> u64 {
    let grouped: Vec<(&str, &str)> = rule
        .group_by
        .iter()
        .map(|g| {
            (
                g.as_str(),
                fields
                    .iter()
                    .find(|(k, _)| k == g)
                    .map_or("", |(_, v)| v.as_str()),
            )
        })
        .collect();
    fingerprint(&rule.id, &grouped, origin.service, origin.host.as_deref())
}

/// As written in reports: 16 lower-case hex digits.
pub fn hex(fp: u64) -> String {
    format!("{fp:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_across_builds() {
        // A fixed value: if this changes, every ticket's de-duplication key changes.
        assert_eq!(hex(fingerprint("x", &[], None, None)), "8c1e687ff6c4a44b");
        assert_ne!(
            fingerprint("x", &[], Some("a"), None),
            fingerprint("x", &[], None, Some("a"))
        );
    }
}
