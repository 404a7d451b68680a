//! Which of the Run Book's recovery scenarios an incident is. From the incident's findings whose
//! rules carry an `effect` (a server down, not serving, a disk lost) it lists the distinct
//! servers of each role that failed; from the sweep's streams, how many servers of each role
//! there are (distinct hosts with that role's logs) and which went on logging. The scenarios
//! (`rules::scenario`, data in `rules/scenarios.toml`) are judged on that, each verdict with
//! its evidence in words ("2 of 3 ZooKeeper servers down: zk2 at 02:10:21, ...").

use std::collections::{BTreeMap, BTreeSet};

use super::clock::Clock;
use crate::rules::scenario::{Condition, Measure, Scenario, ScenarioExample, Scenarios};

/// One server (or disk) that failed in an incident.
#[derive(Clone, Debug)]
pub struct Server {
    /// Its role: a service name.
    pub role: String,
    /// Its host, when known.
    pub host: Option<String>,
    /// What is counted: the host, a disk on it, or who saw an unnamed server fail.
    pub unit: String,
    /// When it failed (an instant, `Clock`).
    pub at: i64,
    /// Why: the finding's summary.
    pub reason: String,
    /// Index into the sweep's findings.
    pub finding: Option<usize>,
    /// Another server's log reported it (a client's refused connection, the NameNode's dead
    /// DataNode), not its own.
    pub reported: bool,
}

/// How long a server's own log must go on after another log reported it down to refute it.
pub const REPORT_REFUTED_MS: i64 = 60_000;

/// What the scenarios are judged on.
#[derive(Clone, Debug, Default)]
pub struct Situation {
    /// Per role, the hosts whose logs of it the sweep holds.
    pub seen: BTreeMap<String, BTreeSet<String>>,
    pub down: Vec<Server>,
    pub not_serving: Vec<Server>,
    pub disks_lost: Vec<Server>,
    /// Each (role, host) log and the instant of its last timed line (host "" when the log
    /// names none).
    pub logging_until: Vec<(String, String, i64)>,
    /// Gaps in a (role, host) log that a start-up ended: from, to.
    pub gaps: Vec<(String, String, i64, i64)>,
}

impl Situation {
    /// Adds a failed server; one of the same role and unit keeps the earliest time and
    /// reason, and counts as its own report when either was.
    pub fn add(list: &mut Vec<Server>, s: Server) {
        match list
            .iter_mut()
            .find(|x| x.role == s.role && x.unit == s.unit)
        {
            Some(x) => {
                let reported = x.reported && s.reported;
                if s.at < x.at {
                    *x = s;
                }
                x.reported = reported;
            }
            None => list.push(s),
        }
    }

    /// A server both down and not serving is down. A server another log reported down whose
    /// own log went on for more than `REPORT_REFUTED_MS` after it, and was not in a gap ended
    /// by a restart at that time, is not counted: its own log shows it there (a client that
    /// met a planned restart), and its own findings count.
    pub fn settle(&mut self) {
        let (until, gaps) = (&self.logging_until, &self.gaps);
        let refuted = |s: &Server| {
            let mine = |r: &String, h: &String| *r == s.role && Some(h) == s.host.as_ref();
            s.reported
                && until
                    .iter()
                    .any(|(r, h, t)| mine(r, h) && *t > s.at + REPORT_REFUTED_MS)
                && !gaps
                    .iter()
                    .any(|(r, h, a, b)| mine(r, h) && *a <= s.at && s.at <= *b)
        };
        self.down.retain(|s| !refuted(s));
        self.not_serving.retain(|s| !refuted(s));
        let down = &self.down;
        self.not_serving
            .retain(|s| !down.iter().any(|d| d.role == s.role && d.unit == s.unit));
        for l in [&mut self.down, &mut self.not_serving, &mut self.disks_lost] {
            l.sort_by(|a, b| a.at.cmp(&b.at).then(a.unit.cmp(&b.unit)));
        }
    }

    /// What failed, by kind ("down", "not serving", "disks lost"), the empty kinds left out.
    pub fn failed(&self) -> Vec<(&'static str, &[Server])> {
        [
            ("down", &self.down[..]),
            ("not serving", &self.not_serving[..]),
            ("disks lost", &self.disks_lost[..]),
        ]
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .collect()
    }

    /// "down: tserver node3, datanode dn2", one clause per kind, each server written by `each`.
    pub fn describe_failed(&self, each: impl Fn(&Server) -> String) -> Vec<String> {
        self.failed()
            .into_iter()
            .map(|(what, l)| {
                let servers: Vec<String> = l.iter().map(&each).collect();
                format!("{what}: {}", servers.join(", "))
            })
            .collect()
    }

    fn list(&self, m: Measure) -> &[Server] {
        match m {
            Measure::Down => &self.down,
            Measure::NotServing => &self.not_serving,
            Measure::DisksLost => &self.disks_lost,
        }
    }
}

/// A scenario that holds for an incident, and the evidence for each of its conditions.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Index into `Scenarios::scenarios`.
    pub scenario: usize,
    pub evidence: Vec<String>,
}

/// The scenarios that hold, in the packs' order (worst first in `rules/scenarios.toml`).
pub fn judge(all: &Scenarios, sit: &Situation, clock: &Clock) -> Vec<Verdict> {
    all.scenarios
        .iter()
        .enumerate()
        .filter_map(|(i, sc)| {
            holds(all, sc, sit, clock).map(|evidence| Verdict {
                scenario: i,
                evidence,
            })
        })
        .collect()
}

/// The evidence, when every condition of `sc` holds.
fn holds(all: &Scenarios, sc: &Scenario, sit: &Situation, clock: &Clock) -> Option<Vec<String>> {
    let mut evidence = Vec::new();
    let mut latest = i64::MIN;
    for c in &sc.when {
        let (n, total, servers) = count(all, c, sit);
        if !c.count.holds(n, total) {
            return None;
        }
        if n > 0 {
            latest = latest.max(servers.iter().map(|s| s.at).max().unwrap_or(i64::MIN));
            for said in say(all, sit, c, &servers, clock) {
                if !evidence.contains(&said) {
                    evidence.push(said);
                }
            }
        }
    }
    if !sc.running.is_empty() {
        let down = |r: &str, h: &str| {
            sit.down
                .iter()
                .any(|d| d.role == r && d.host.as_deref() == Some(h))
        };
        let on = sit
            .logging_until
            .iter()
            .filter(|(r, h, t)| sc.running.contains(r) && *t > latest && !down(r, h))
            .max_by_key(|(_, _, t)| *t)?;
        let on_host = if on.1.is_empty() {
            String::new()
        } else {
            format!(" on {}", on.1)
        };
        evidence.push(format!(
            "{}{on_host} went on logging until {}",
            on.0,
            clock.short(on.2)
        ));
    }
    Some(evidence)
}

/// How many servers a condition counts, of how many the sweep knows (`None`: it cannot say).
fn count<'s>(
    all: &Scenarios,
    c: &Condition,
    sit: &'s Situation,
) -> (u32, Option<u32>, Vec<&'s Server>) {
    let servers: Vec<&Server> = sit
        .list(c.measure)
        .iter()
        .filter(|s| c.roles.is_empty() || c.roles.contains(&s.role))
        .collect();
    let n = servers.len() as u32;
    if c.roles.is_empty() || c.measure == Measure::DisksLost {
        return (n, None, servers);
    }
    let mut total = 0;
    for role in &c.roles {
        match role_total(all, sit, role, &servers) {
            Some(t) => total += t,
            None => return (n, None, servers),
        }
    }
    (n, Some(total), servers)
}

/// The servers of a role: the hosts with its logs and those named failing. `None` when the
/// sweep holds no log of it (only a single point of failure is counted then).
fn role_total(all: &Scenarios, sit: &Situation, role: &str, failed: &[&Server]) -> Option<u32> {
    let seen = sit.seen.get(role);
    if seen.is_none_or(BTreeSet::is_empty) && !all.role(role).is_some_and(|r| r.single) {
        return None;
    }
    let mut hosts: BTreeSet<&str> = seen.into_iter().flatten().map(String::as_str).collect();
    let of_role = || failed.iter().filter(|s| s.role == role);
    hosts.extend(of_role().filter_map(|s| s.host.as_deref()));
    let unnamed = of_role().any(|s| s.host.is_none());
    Some((hosts.len() as u32).max(u32::from(unnamed)))
}

/// "2 of 3 ZooKeeper servers down: zk2 at 02:10:21, ...; zk3 at ...": one clause per role.
fn say(
    all: &Scenarios,
    sit: &Situation,
    c: &Condition,
    servers: &[&Server],
    clock: &Clock,
) -> Vec<String> {
    let n = servers.len();
    let noun = |name: &str, n: u32| match all.role(name) {
        Some(r) if n == 1 => r.title.clone(),
        Some(r) => r.plural.clone(),
        None => name.to_string(),
    };
    let verb = match c.measure {
        Measure::DisksLost => "lost",
        m => m.as_str(),
    };
    let each = |list: &[&&Server]| -> String {
        list.iter()
            .map(|s| {
                let t = clock.short(s.at);
                format!("{} at {}, {}", s.unit, &t[11.min(t.len())..], s.reason)
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if c.measure == Measure::DisksLost {
        let d = if n == 1 { "disk" } else { "disks" };
        let all: Vec<&&Server> = servers.iter().collect();
        return vec![format!("{n} {d} lost: {}", each(&all))];
    }
    // Roles in the order the scenarios file lists them (the Run Book's layers, lowest first).
    let rank = |r: &str| {
        all.roles
            .iter()
            .position(|x| x.name == r)
            .unwrap_or(usize::MAX)
    };
    let mut roles: Vec<&str> = servers.iter().map(|s| s.role.as_str()).collect();
    roles.sort_by_key(|r| (rank(r), *r));
    roles.dedup();
    let mut clauses = Vec::new();
    for role in roles {
        let of_role: Vec<&&Server> = servers.iter().filter(|s| s.role == role).collect();
        let k = of_role.len() as u32;
        let head = match role_total(all, sit, role, servers) {
            Some(t) => format!("{k} of {t} {} {verb}", noun(role, t)),
            None => format!("{k} {} {verb}", noun(role, k)),
        };
        clauses.push(format!("{head}: {}", each(&of_role)));
    }
    clauses
}

/// Runs one scenario's examples: the lines of those that came out wrong.
pub fn check_examples(all: &Scenarios, i: usize) -> Vec<(usize, bool)> {
    let sc = &all.scenarios[i];
    let clock = Clock::new(Some("UTC"), Vec::new()).expect("UTC");
    sc.examples
        .iter()
        .filter_map(|ex| {
            let got = holds(all, sc, &situation_of(ex), &clock).is_some();
            (got != ex.expect_match).then_some((ex.line, got))
        })
        .collect()
}

fn situation_of(ex: &ScenarioExample) -> Situation {
    let mut sit = Situation::default();
    for (r, h) in &ex.seen {
        sit.seen.entry(r.clone()).or_default().insert(h.clone());
    }
    let servers = |list: &[(String, String)]| -> Vec<Server> {
        list.iter()
            .enumerate()
            .map(|(i, (r, h))| Server {
                role: r.clone(),
                host: Some(h.clone()),
                unit: h.clone(),
                at: i as i64 * 1000,
                reason: "example".into(),
                finding: None,
                reported: false,
            })
            .collect()
    };
    sit.down = servers(&ex.down);
    sit.not_serving = servers(&ex.not_serving);
    // Disks on one host are told apart by their place in the list.
    sit.disks_lost = servers(&ex.disks_lost)
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            s.unit = format!("{} disk {}", s.unit, i + 1);
            s
        })
        .collect();
    sit.logging_until = ex
        .running
        .iter()
        .map(|(r, h)| (r.clone(), h.clone(), i64::MAX))
        .collect();
    sit.settle();
    sit
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::scenario::Count;

    #[test]
    fn built_in_scenarios_pass_their_examples() {
        let all = crate::rules::load_scenarios(&[], false).expect("built-in scenarios");
        assert!(
            all.scenarios.len() >= 10,
            "{} scenarios",
            all.scenarios.len()
        );
        for (i, sc) in all.scenarios.iter().enumerate() {
            assert!(
                sc.examples.iter().any(|e| e.expect_match)
                    && sc.examples.iter().any(|e| !e.expect_match),
                "{} needs a match and a no-match example",
                sc.id
            );
            let wrong = check_examples(&all, i);
            assert!(
                wrong.is_empty(),
                "{}: examples at lines {wrong:?} came out wrong",
                sc.id
            );
        }
    }

    #[test]
    fn all_needs_every_server_the_sweep_saw() {
        assert!(Count::All.holds(3, Some(3)));
        assert!(!Count::All.holds(2, Some(3)));
        assert!(!Count::All.holds(1, None));
        assert!(!Count::All.holds(0, Some(0)));
        assert!(Count::MoreThan(2).holds(3, None));
    }
}
