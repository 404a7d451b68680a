//! Triage order, from the Run Book: "Lower layers should be online and healthy before
//! attempting to fix higher layers." Findings are grouped by layer, component and host; groups
//! come lowest layer first (storage and coordination, then data services, then the
//! application), then worst severity first. When a service reports trouble with another
//! component (a JDBC error in the application's log is a PostgreSQL finding seen from the
//! application's host), the group says who saw it.

use super::{Finding, attribute};
use crate::rules::{Layer, Rule, Severity};

#[derive(Clone, Debug)]
pub struct TriageGroup {
    pub layer: Layer,
    pub component: String,
    pub host: Option<String>,
    /// The service whose log shows the trouble, when it is not the component's own.
    pub seen_by: Option<&'static str>,
    pub severity: Severity,
    /// Indices into the (sorted) findings.
    pub findings: Vec<usize>,
}

/// Builds the triage groups of sorted findings.
pub fn triage(findings: &[Finding], rules: &[Rule]) -> Vec<TriageGroup> {
    let mut groups: Vec<TriageGroup> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let rule = &rules[f.rule as usize];
        let (component, layer) = attribute(rule, &f.origin);
        let host = f.origin.host.clone();
        let seen_by = f
            .origin
            .service
            .filter(|_| f.origin.component != Some(component.as_str()));
        match groups.iter_mut().find(|g| {
            g.layer == layer && g.component == component && g.host == host && g.seen_by == seen_by
        }) {
            Some(g) => {
                g.severity = g.severity.max(f.severity(rules));
                g.findings.push(i);
            }
            None => groups.push(TriageGroup {
                layer,
                component,
                host,
                seen_by,
                severity: f.severity(rules),
                findings: vec![i],
            }),
        }
    }
    groups.sort_by(|a, b| {
        // Lowest layer first; then worst; then the component's own logs before what other
        // services saw of it; then the first seen.
        a.layer
            .cmp(&b.layer)
            .then(b.severity.cmp(&a.severity))
            .then(a.seen_by.is_some().cmp(&b.seen_by.is_some()))
            .then_with(|| a.findings[0].cmp(&b.findings[0]))
    });
    groups
}
