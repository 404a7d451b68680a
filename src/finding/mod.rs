//! Findings: occurrences grouped by fingerprint (`aggregate`, `fingerprint`), attributed to the
//! service and host that logged them (`source::origin`), put in a total, deterministic order, and
//! arranged into the Run Book's triage order (`triage`): lowest layer first.

pub mod aggregate;
pub mod clock;
pub mod fingerprint;
pub mod incident;
pub mod phase;
pub mod scenario;
pub mod silence;
pub mod templates;
pub mod threshold;
pub mod timeline;
pub mod triage;
pub mod unknown;

pub use crate::source::Origin;
pub use aggregate::{Aggregate, FileAggregator, Finding};

use crate::rules::{Layer, Rule};

/// Components whose rules describe a symptom of whatever process logged them.
const GENERIC_COMPONENTS: &[&str] = &["jvm", "disk", "network"];

/// The component and layer a finding belongs to: a JVM, disk or network rule's finding belongs
/// to the service whose log it came from (file handles exhausted in a DataNode log are an HDFS
/// problem in the storage layer); other rules keep their own.
pub fn attribute(rule: &Rule, origin: &Origin) -> (String, Layer) {
    if GENERIC_COMPONENTS.contains(&rule.component.as_str())
        && let (Some(c), Some(l)) = (origin.component, origin.layer)
    {
        return (c.to_string(), l);
    }
    (rule.component.clone(), rule.layer)
}

/// Sorts findings: severity (worst first), first seen (untimed last), file order, line, rule id.
pub fn sort(findings: &mut [Finding], rules: &[Rule]) {
    findings.sort_by(|a, b| {
        let (ra, rb) = (&rules[a.rule as usize], &rules[b.rule as usize]);
        b.severity(rules)
            .cmp(&a.severity(rules))
            .then_with(|| match (&a.first_seen, &b.first_seen) {
                (Some(x), Some(y)) => x.0.cmp(&y.0),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.first_at.cmp(&b.first_at))
            .then_with(|| ra.id.cmp(&rb.id))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

/// Fills a rule's summary template with the finding's fields (`{name}`); the title when the
/// rule has no template. Unknown names are left as written.
pub fn summary(rule: &Rule, fields: &[(String, String)]) -> String {
    let Some(t) = &rule.summary else {
        return rule.title.clone();
    };
    let mut out = String::with_capacity(t.len());
    let mut rest = t.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match fields.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}
