//! The incident, not a list: findings' bursts (`timeline`) on one time axis across files and
//! hosts, cut into incidents at quiet gaps (no finding at medium or above anywhere for
//! `gap_ms`); per incident its origin (the earliest medium-or-worse finding of the lowest Run
//! Book layer it touches) and its chain (its findings in order of first occurrence, each tied
//! to what came before it: a consequence its rule declares with `follows`, else a finding of a
//! lower layer before it, a candidate cause).

use super::Finding;
use super::clock::Clock;
use super::scenario::{Server, Situation, Verdict};
use super::silence::StreamEnd;
use crate::rules::scenario::Scenarios;
use crate::rules::{EffectKind, Layer, Rule, Severity};

/// What ties a chain's finding to one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tie {
    /// The incident's origin.
    Origin,
    /// Its rule names the earlier one's as a cause (`follows`), within the declared window.
    Declared { after: usize },
    /// A lower layer's finding came before it: a candidate cause, by the Run Book's layers.
    LowerLayer { after: usize },
    /// Nothing ties it to what came before (same or higher layer, no declared link).
    None,
}

impl Tie {
    pub fn kind(self) -> &'static str {
        match self {
            Tie::Origin => "origin",
            Tie::Declared { .. } => "declared",
            Tie::LowerLayer { .. } => "lower-layer",
            Tie::None => "none",
        }
    }

    /// The chain entry (index into `Incident::chain`) it ties to.
    pub fn after(self) -> Option<usize> {
        match self {
            Tie::Declared { after } | Tie::LowerLayer { after } => Some(after),
            _ => None,
        }
    }
}

/// One finding's part in an incident.
#[derive(Clone, Debug)]
pub struct Link {
    /// Index into the sweep's findings.
    pub finding: usize,
    /// Its first occurrence inside the incident's window (an instant, `clock`), and where it is.
    pub first: i64,
    pub at: (u32, u64),
    /// Its occurrences inside the window.
    pub count: u64,
    pub layer: Layer,
    pub tie: Tie,
}

#[derive(Clone, Debug)]
pub struct Incident {
    /// Instants (`clock`): milliseconds since the epoch.
    pub start: i64,
    pub end: i64,
    /// Index into `chain` of the origin (the chain always holds it).
    pub origin: usize,
    pub origin_reason: String,
    pub chain: Vec<Link>,
    pub hosts: Vec<String>,
    pub services: Vec<&'static str>,
    /// The servers that failed in it, what the scenarios were judged on.
    pub situation: Situation,
    /// The Run Book scenarios that hold, the incident's first.
    pub scenarios: Vec<Verdict>,
}

/// What the incidents are judged against besides the findings: the Run Book scenarios, and how
/// the sweep's streams ended (which servers of each role it saw, and until when they logged).
pub struct Fleet<'a> {
    pub scenarios: &'a Scenarios,
    pub ends: &'a [StreamEnd],
}

/// Cuts the sweep's findings into incidents. `findings` are the report's, sorted; the result
/// depends only on them (not on the order files were read in).
pub fn incidents(
    findings: &[Finding],
    rules: &[Rule],
    gap_ms: i64,
    clock: &Clock,
    fleet: &Fleet,
) -> Vec<Incident> {
    let spans = spans(findings, clock);
    // The medium-or-worse bursts, by time: they decide where incidents are.
    let mut serious: Vec<(i64, i64)> = Vec::new();
    for (f, s) in findings.iter().zip(&spans) {
        if f.severity(rules) >= Severity::Medium {
            serious.extend(s.iter().map(|b| (b.0, b.1)));
        }
    }
    serious.sort();
    let mut windows: Vec<(i64, i64)> = Vec::new();
    for (first, last) in serious {
        match windows.last_mut() {
            Some((_, end)) if first - *end <= gap_ms => *end = (*end).max(last),
            _ => windows.push((first, last)),
        }
    }
    // What the sweep says of its servers, once: each incident adds the ones that failed in it.
    let base = sweep_situation(clock, fleet);
    let aliases = aliases(findings, rules);
    windows
        .into_iter()
        .map(|(start, end)| {
            let mut inc = incident(findings, &spans, rules, start, end);
            inc.situation = situation(&inc, findings, rules, base.clone(), &aliases);
            // The hosts of the servers that failed are the incident's, whoever reported them.
            let failed = [&inc.situation.down, &inc.situation.not_serving];
            inc.hosts.extend(
                failed
                    .iter()
                    .flat_map(|l| l.iter().filter_map(|s| s.host.clone())),
            );
            inc.hosts.sort();
            inc.hosts.dedup();
            inc.scenarios = super::scenario::judge(fleet.scenarios, &inc.situation, clock);
            inc
        })
        .collect()
}

/// Each finding's bursts as instants: (first, last, count, where).
type Spans = Vec<Vec<(i64, i64, u64, (u32, u64))>>;

fn spans(findings: &[Finding], clock: &Clock) -> Spans {
    findings
        .iter()
        .map(|f| {
            let host = f.origin.host.as_deref();
            f.bursts
                .0
                .iter()
                .map(|b| {
                    let first = clock.instant(&b.first.1, host);
                    (
                        first,
                        clock.instant(&b.last.1, host).max(first),
                        b.count,
                        b.at,
                    )
                })
                .collect()
        })
        .collect()
}

fn incident(findings: &[Finding], spans: &Spans, rules: &[Rule], start: i64, end: i64) -> Incident {
    let mut chain: Vec<Link> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if f.severity(rules) < Severity::Low {
            continue;
        }
        let mut inside: Vec<_> = spans[i]
            .iter()
            .filter(|b| b.1 >= start && b.0 <= end)
            .collect();
        inside.sort_by_key(|b| (b.0, b.3));
        let Some(b0) = inside.first() else { continue };
        let layer = super::attribute(&rules[f.rule as usize], &f.origin).1;
        chain.push(Link {
            finding: i,
            first: b0.0.max(start),
            at: b0.3,
            count: inside.iter().map(|b| b.2).sum(),
            layer,
            tie: Tie::None,
        });
    }
    chain.sort_by(|a, b| {
        a.first
            .cmp(&b.first)
            .then(a.layer.cmp(&b.layer))
            .then(a.finding.cmp(&b.finding))
    });
    // The origin: the lowest layer with a medium-or-worse finding, its earliest.
    let serious = |l: &Link| findings[l.finding].severity(rules) >= Severity::Medium;
    let lowest = chain
        .iter()
        .filter(|l| serious(l))
        .map(|l| l.layer)
        .min()
        .expect("an incident has a medium-or-worse finding");
    let origin = chain
        .iter()
        .position(|l| serious(l) && l.layer == lowest)
        .unwrap_or(0);
    let origin_reason = format!(
        "the earliest medium-or-worse finding of the lowest Run Book layer hit ({})",
        lowest.as_str()
    );
    chain[origin].tie = Tie::Origin;
    for i in 0..chain.len() {
        if i == origin {
            continue;
        }
        let rule = &rules[findings[chain[i].finding].rule as usize];
        let declared = rule.follows.as_ref().and_then(|fw| {
            (0..i).rev().find(|&j| {
                let other = &rules[findings[chain[j].finding].rule as usize];
                fw.names(&other.id) && chain[i].first - chain[j].first <= fw.within_ms
            })
        });
        chain[i].tie = match declared {
            Some(j) => Tie::Declared { after: j },
            None => match (0..i).rev().find(|&j| chain[j].layer < chain[i].layer) {
                Some(j) => Tie::LowerLayer { after: j },
                None => Tie::None,
            },
        };
    }
    let mut hosts: Vec<String> = chain
        .iter()
        .filter_map(|l| findings[l.finding].origin.host.clone())
        .collect();
    hosts.sort();
    hosts.dedup();
    let mut services: Vec<&'static str> = chain
        .iter()
        .filter_map(|l| findings[l.finding].origin.service)
        .collect();
    services.sort();
    services.dedup();
    Incident {
        start,
        end,
        origin,
        origin_reason,
        chain,
        hosts,
        services,
        situation: Situation::default(),
        scenarios: Vec::new(),
    }
}

/// The sweep's servers of each role: the hosts with their logs, until when each logged, and
/// the gaps a restart ended.
fn sweep_situation(clock: &Clock, fleet: &Fleet) -> Situation {
    let mut sit = Situation::default();
    for e in fleet.ends {
        let Some(service) = e.origin.service else {
            continue;
        };
        if e.origin.container.is_some() {
            continue;
        }
        // A log with no host still shows its daemon running; only named hosts are counted.
        let host = e.origin.host.clone().unwrap_or_default();
        if !host.is_empty() {
            sit.seen
                .entry(service.to_string())
                .or_default()
                .insert(host.clone());
        }
        let at = |st: &crate::event::Stamp| clock.instant(st, e.origin.host.as_deref());
        for r in &e.restarts {
            if let (Some(a), Some(b)) = (&r.prev, &r.stamp) {
                sit.gaps
                    .push((service.to_string(), host.clone(), at(a), at(b)));
            }
        }
        if let Some((_, st, _)) = &e.last {
            let t = at(st);
            match sit
                .logging_until
                .iter_mut()
                .find(|(r, h, _)| r == service && *h == host)
            {
                Some(slot) => slot.2 = slot.2.max(t),
                None => sit.logging_until.push((service.to_string(), host, t)),
            }
        }
    }
    sit
}

/// Addresses a start-up banner tied to a host ("host = dn2/10.0.0.12"): a server another log
/// names by address is counted as that host.
fn aliases<'f>(findings: &'f [Finding], rules: &[Rule]) -> Vec<(&'f str, &'f str)> {
    let mut aliases: Vec<(&str, &str)> = Vec::new();
    for f in findings {
        let Some(host) = f.origin.host.as_deref() else {
            continue;
        };
        if rules[f.rule as usize].marks.is_none() {
            continue;
        }
        let each = std::iter::once(&f.fields).chain(f.evidence.iter().map(|(_, o)| &o.fields));
        for (k, v) in each.flatten() {
            // A loopback address (a banner's 127.0.1.1) names no one host.
            if k == "address" && !v.starts_with("127.") && !aliases.iter().any(|(a, _)| a == v) {
                aliases.push((v.as_str(), host));
            }
        }
    }
    aliases
}

/// The servers that failed in an incident (the chain's findings whose rules have an `effect`),
/// added to the sweep's servers of each role (`sweep_situation`).
fn situation(
    inc: &Incident,
    findings: &[Finding],
    rules: &[Rule],
    mut sit: Situation,
    aliases: &[(&str, &str)],
) -> Situation {
    let named = |h: String| -> String {
        match aliases.iter().find(|(a, _)| *a == h) {
            Some((_, host)) => host.to_string(),
            None => h,
        }
    };
    for link in &inc.chain {
        let f = &findings[link.finding];
        let rule = &rules[f.rule as usize];
        let Some(effect) = &rule.effect else { continue };
        // "localhost:5432" in a client's log is the client's own host.
        let local = |h: String| -> Option<String> {
            if h == "localhost" || h.starts_with("127.") || h == "::1" {
                f.origin.host.clone()
            } else {
                Some(h)
            }
        };
        let Some(role) = effect.role.as_deref().or(f.origin.service) else {
            continue;
        };
        // Each server with the reason its own occurrence gives.
        let mut hosts: Vec<(Option<String>, String)> = Vec::new();
        let said = |fs: &[(String, String)]| clip(&super::summary(rule, fs), 60);
        match &effect.host_field {
            Some(field) => {
                let each =
                    std::iter::once(&f.fields).chain(f.evidence.iter().map(|(_, o)| &o.fields));
                for fs in each {
                    for (_, v) in fs.iter().filter(|(k, _)| k == field) {
                        for h in hosts_in(v).into_iter().map(named).filter_map(local) {
                            if !hosts.iter().any(|(x, _)| x.as_deref() == Some(&h)) {
                                hosts.push((Some(h), said(fs)));
                            }
                        }
                    }
                }
            }
            None if effect.role.is_some() => {}
            None => hosts.push((f.origin.host.clone(), said(&f.fields))),
        }
        if hosts.is_empty() && effect.role.is_some() {
            // Another server, not named: counted once, as seen by this log.
            hosts.push((None, said(&f.fields)));
        }
        let seen_by = match (f.origin.service, &f.origin.host) {
            (Some(s), Some(h)) => format!("{s} on {h}"),
            (Some(s), None) => s.to_string(),
            (None, Some(h)) => h.clone(),
            (None, None) => "a client".to_string(),
        };
        for (host, reason) in hosts {
            let unit = match (&host, effect.is) {
                (Some(h), EffectKind::DiskLost) => format!("{h} ({reason})"),
                (Some(h), _) => h.clone(),
                // Another server a client saw fail, or this one when its log names no host.
                (None, _) if effect.role.is_some() => format!("(seen by {seen_by})"),
                (None, _) => "(its log names no host)".to_string(),
            };
            let server = Server {
                role: role.to_string(),
                host,
                unit,
                at: link.first,
                reason,
                finding: Some(link.finding),
                reported: effect.role.is_some(),
            };
            let list = match effect.is {
                EffectKind::Down => &mut sit.down,
                EffectKind::NotServing => &mut sit.not_serving,
                EffectKind::DiskLost => &mut sit.disks_lost,
            };
            Situation::add(list, server);
        }
    }
    sit.settle();
    sit
}

/// The hosts a field names: `node3:9997[1f0a]`, `[dn1:9866, dn2:9866]`, `10.0.0.7:50010`.
/// Tokens with a port are hosts (ids in brackets are not); a value without one is one host.
fn hosts_in(value: &str) -> Vec<String> {
    let tokens: Vec<&str> = value
        .split(|c: char| c == '[' || c == ']' || c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let with_port: Vec<String> = tokens
        .iter()
        .filter_map(|t| t.rsplit_once(':'))
        .filter(|(h, p)| !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .map(|(h, _)| h.trim_start_matches('/').to_string())
        .collect();
    if !with_port.is_empty() {
        return with_port;
    }
    match tokens.as_slice() {
        [one] => vec![one.trim_start_matches('/').to_string()],
        _ => Vec::new(),
    }
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_a_field_names() {
        assert_eq!(super::hosts_in("[node3:9997[100006d30700006]]"), ["node3"]);
        assert_eq!(super::hosts_in("10.0.0.7:50010"), ["10.0.0.7"]);
        assert_eq!(super::hosts_in("[dn1:9866, dn2:9866]"), ["dn1", "dn2"]);
        assert_eq!(super::hosts_in("dn4"), ["dn4"]);
        assert_eq!(super::hosts_in("/10.0.0.9:2181"), ["10.0.0.9"]);
    }
}
