//! Phases of a daemon's life, recognised from its own log: start-up, clean shutdown and leader
//! election. Daemons log errors that are normal there (a DataNode retrying a NameNode that is
//! not up yet, a ZooKeeper server that cannot reach peers still starting, RPC failures after
//! SIGTERM). Marker rules (`marks = ...` in a pack) move a stream from phase to phase; a rule
//! with `expected_in = [...]` is reported at `low`, and says so, when its event falls inside one
//! of those phases, and at its own severity when the phase lasted longer than such a phase
//! should (`Phase::grace_ms`): a start-up that never completes is a failure.

use serde::{Deserialize, Serialize};

use super::aggregate::{self, Aggregate, Finding, ThresholdState};
use crate::event::Stamp;
use crate::rules::Rule;

/// Undecided occurrences one finding of one part keeps (line and time, for deciding each); past
/// this the finding is decided as a whole, by its first time. Only parts that do not start
/// their stream, before their first marker, have undecided findings.
pub const MAX_UNDECIDED: usize = 1024;

/// Salt of a finding whose phase is not decided yet.
pub const INHERITED_SALT: u64 = 0x5157_a27f_0000_00ff;

/// A phase in which some failures are expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Startup,
    Shutdown,
    Election,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Startup => "startup",
            Phase::Shutdown => "shutdown",
            Phase::Election => "election",
        }
    }

    /// How a report says it, after the finding's title.
    pub fn describe(self) -> &'static str {
        match self {
            Phase::Startup => "during start-up: expected while its peers come up",
            Phase::Shutdown => "during a clean shutdown: expected while it stops",
            Phase::Election => "during a leader election: expected until a leader is chosen",
        }
    }

    /// How long the phase may last before what happens in it counts at full severity: peers
    /// of the Run Book's layered start-up come up within minutes; an election takes seconds.
    pub fn grace_ms(self) -> i64 {
        match self {
            Phase::Startup => 10 * 60_000,
            Phase::Shutdown => 5 * 60_000,
            Phase::Election => 5 * 60_000,
        }
    }

    /// Distinguishes a phase's finding from the same failure's outside it (same rule, fields
    /// and origin), so each keeps its own stable fingerprint.
    pub fn salt(tag: Option<Phase>) -> u64 {
        match tag {
            None => 0,
            Some(Phase::Startup) => 0x5157_a27f_0000_0001,
            Some(Phase::Shutdown) => 0x5157_a27f_0000_0002,
            Some(Phase::Election) => 0x5157_a27f_0000_0003,
        }
    }
}

/// A failure's severity inside a phase that expects it: at most `low`.
pub fn severity(rule: crate::rules::Severity, phase: Option<Phase>) -> crate::rules::Severity {
    match phase {
        Some(_) => rule.min(crate::rules::Severity::Low),
        None => rule,
    }
}

/// Did a stream that ended in this state end in a clean shutdown?
pub fn ended_stopping(end: Option<State>) -> bool {
    end.and_then(|s| s.phase) == Some(Phase::Shutdown)
}

/// A start-up marker as a part saw it: its index among the part's marks, its line, the time of
/// the timed line before it, its header line.
#[derive(Clone, Debug)]
pub struct RestartAt {
    pub mark: usize,
    pub line: u64,
    pub prev: Option<Stamp>,
    pub text: String,
}

/// A daemon's start-up inside its log: when, the line before it, and whether a clean stop
/// came before it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Restart {
    pub line: u64,
    pub stamp: Option<Stamp>,
    pub prev: Option<Stamp>,
    pub clean: bool,
    pub text: String,
}

/// The restarts of a part (`at`, into its `marks`), judged by the state the part began in.
pub fn restarts(
    start: State,
    marks: &[(Mark, Option<Stamp>)],
    at: &[RestartAt],
    lines_before: u64,
) -> Vec<Restart> {
    let mut out = Vec::new();
    let mut state = start;
    let mut next = at.iter().peekable();
    for (i, &(m, stamp)) in marks.iter().enumerate() {
        if let Some(r) = next.peek()
            && r.mark == i
        {
            out.push(Restart {
                line: r.line + lines_before,
                stamp,
                prev: r.prev,
                clean: state.phase == Some(Phase::Shutdown),
                text: r.text.clone(),
            });
            next.next();
        }
        state = state.after(m, stamp);
    }
    out
}

/// What a marker rule's event says about the stream's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// A daemon starts (Hadoop's STARTUP_MSG, "Starting ...").
    Starting,
    /// It is up: registered, serving, listening.
    Started,
    /// A clean stop was asked for (SIGTERM, a shutdown request).
    Stopping,
    /// A leader election begins (ZooKeeper LOOKING, a new Kafka controller election).
    Electing,
    /// A leader was chosen (LEADING, FOLLOWING).
    Elected,
}

/// The phase a stream is in: the phase and the time it began (when the marker had one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    pub phase: Option<Phase>,
    pub since: Option<i64>,
}

impl State {
    pub const RUNNING: State = State {
        phase: None,
        since: None,
    };

    pub fn after(self, mark: Mark, stamp: Option<Stamp>) -> State {
        let since = stamp.map(|s| s.key());
        match mark {
            Mark::Starting => State {
                phase: Some(Phase::Startup),
                since,
            },
            Mark::Stopping => State {
                phase: Some(Phase::Shutdown),
                since,
            },
            // An election inside a start-up is part of it, and ends it when a leader is chosen.
            Mark::Electing if self.phase == Some(Phase::Startup) => self,
            Mark::Electing => State {
                phase: Some(Phase::Election),
                since,
            },
            // A server that is stopping stays so whatever it logs on the way down.
            Mark::Started | Mark::Elected if self.phase == Some(Phase::Shutdown) => self,
            Mark::Started | Mark::Elected => State::RUNNING,
        }
    }

    /// The phase an event at `stamp` of a rule expected in `expected` is judged in: none when
    /// the rule is not expected there, or the phase has lasted past its grace.
    pub fn judge(self, expected: &[Phase], stamp: Option<i64>) -> Option<Phase> {
        let phase = self.phase?;
        if !expected.contains(&phase) {
            return None;
        }
        match (self.since, stamp) {
            (Some(since), Some(at)) if at - since > phase.grace_ms() => None,
            // Time going back (another process's log after this one, a clock set back) says
            // nothing of this phase; a second allows for threads logging out of order.
            (Some(since), Some(at)) if at < since - 1000 => None,
            _ => Some(phase),
        }
    }
}

/// Decides the phase of findings seen before their part's first marker, now that the state
/// the part began in is known: each occurrence is judged by its own time, so a finding whose
/// occurrences straddle the end of a phase's grace becomes two, exactly as one pass over the
/// stream would have made them; then joins those that became the same finding.
pub fn decide(
    findings: Vec<Finding>,
    before: State,
    rules: &[Rule],
    max_evidence: usize,
) -> Vec<Finding> {
    if findings.iter().all(|f| f.undecided.is_none()) {
        return findings;
    }
    let mut joined = Aggregate::default();
    for mut f in findings {
        let Some(occurrences) = f.undecided.take() else {
            joined.add_file(vec![f], max_evidence);
            continue;
        };
        let rule = &rules[f.rule as usize];
        let judge = |stamp: Option<Stamp>| before.judge(&rule.expected_in, stamp.map(|s| s.key()));
        let base = f.fingerprint ^ INHERITED_SALT;
        if f.undecided_whole || before.judge(&rule.expected_in, None).is_none() {
            // Decided as a whole: too many to keep, or the state before expects nothing of it.
            f.undecided_whole = false;
            let p = before.judge(&rule.expected_in, f.first_seen.map(|(k, _)| k));
            f.phase = p;
            f.fingerprint = base ^ Phase::salt(p);
            for (_, o) in &mut f.evidence {
                mark(o, p, f.fingerprint);
            }
            joined.add_file(vec![f], max_evidence);
            continue;
        }
        let mut split: Vec<Finding> = Vec::with_capacity(2);
        for &(line, stamp) in &occurrences {
            let p = judge(stamp);
            let g = match split.iter().position(|g| g.phase == p) {
                Some(i) => &mut split[i],
                None => {
                    let mut g = f.clone();
                    g.phase = p;
                    g.fingerprint = base ^ Phase::salt(p);
                    g.count = 0;
                    g.first_seen = None;
                    g.last_seen = None;
                    g.first_at.1 = line;
                    g.evidence.clear();
                    g.bursts = Default::default();
                    g.threshold = rule.threshold.as_ref().map(ThresholdState::new);
                    split.push(g);
                    split.last_mut().unwrap()
                }
            };
            g.count += 1;
            aggregate::see(&mut g.first_seen, &mut g.last_seen, stamp);
            g.bursts.add(stamp, (f.first_at.0, line));
            if let Some(t) = &mut g.threshold {
                t.push(stamp.map(|s| s.key()));
            }
        }
        for (file, mut o) in f.evidence {
            let p = judge(o.stamp);
            if let Some(g) = split.iter_mut().find(|g| g.phase == p) {
                mark(&mut o, p, g.fingerprint);
                g.evidence.push((file, o));
            }
        }
        for g in &mut split {
            g.bursts.normalise();
        }
        joined.add_file(split, max_evidence);
    }
    joined.findings
}

/// An evidence occurrence of a finding whose phase is now decided.
fn mark(o: &mut crate::matching::Occurrence, phase: Option<Phase>, fingerprint: u64) {
    o.phase = phase;
    o.fingerprint = fingerprint;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> State {
        State {
            phase: Some(Phase::Startup),
            since: Some(ms),
        }
    }

    #[test]
    fn a_start_up_that_overruns_its_grace_is_judged_as_normal_running() {
        let s = at(0);
        assert_eq!(
            s.judge(&[Phase::Startup], Some(60_000)),
            Some(Phase::Startup)
        );
        assert_eq!(s.judge(&[Phase::Startup], Some(11 * 60_000)), None);
        assert_eq!(s.judge(&[Phase::Shutdown], Some(1)), None);
        assert_eq!(s.judge(&[Phase::Startup], None), Some(Phase::Startup));
        assert_eq!(s.judge(&[Phase::Startup], Some(-500)), Some(Phase::Startup));
        assert_eq!(s.judge(&[Phase::Startup], Some(-86_400_000)), None);
    }

    #[test]
    fn shutdown_is_kept_until_the_next_start() {
        let s = State::RUNNING.after(Mark::Stopping, None);
        assert_eq!(s.after(Mark::Started, None).phase, Some(Phase::Shutdown));
        assert_eq!(s.after(Mark::Starting, None).phase, Some(Phase::Startup));
        let e = at(0).after(Mark::Electing, None);
        assert_eq!(e.phase, Some(Phase::Startup));
        assert_eq!(e.after(Mark::Elected, None), State::RUNNING);
    }
}
