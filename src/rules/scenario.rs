//! The Run Book's recovery scenarios as data: `[[scenario]]` and `[[role]]` tables in the packs
//! (the built-in ones in `rules/scenarios.toml`, schema in `rules/README.md`). A scenario holds
//! when all its conditions on the servers that went down, stopped serving or lost disks in an
//! incident hold (`finding::scenario` judges them); its examples are small situations that test
//! it, run by `cargo test` and `logtriage rules test` like the rules' examples.

use serde::Deserialize;
use toml::Spanned;

use super::pack::{Lines, PackError};

/// One server role a scenario counts: a service name (`source::origin::service_names`).
#[derive(Clone, Debug)]
pub struct Role {
    pub name: String,
    /// "ZooKeeper server", and its plural.
    pub title: String,
    pub plural: String,
    /// The cluster has one of it (a single point of failure): when the sweep holds no log of
    /// it, the one a client saw down is all of them.
    pub single: bool,
}

/// The Run Book's sections, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    DataLoss,
    Intervention,
    Zombie,
    Automatic,
    SingleWorker,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::DataLoss => "data-loss",
            Class::Intervention => "intervention",
            Class::Zombie => "zombie",
            Class::Automatic => "automatic",
            Class::SingleWorker => "single-worker",
        }
    }
}

/// What a condition counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Down,
    NotServing,
    DisksLost,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Down => "down",
            Measure::NotServing => "not serving",
            Measure::DisksLost => "disks lost",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Exactly(u32),
    AtLeast(u32),
    MoreThan(u32),
    /// Every server of the role the sweep saw (at least one).
    All,
    /// At least one, and fewer than all (when the sweep can count them).
    Some,
}

impl Count {
    fn parse(s: &str) -> Option<Count> {
        let s = s.trim();
        if s == "all" {
            return Some(Count::All);
        }
        if s == "some" {
            return Some(Count::Some);
        }
        if let Some(n) = s.strip_prefix(">=") {
            return n.trim().parse().ok().map(Count::AtLeast);
        }
        if let Some(n) = s.strip_prefix('>') {
            return n.trim().parse().ok().map(Count::MoreThan);
        }
        s.parse().ok().map(Count::Exactly)
    }

    /// Does `n` of `total` satisfy it (`total` is `None` when the sweep cannot count them)?
    pub fn holds(self, n: u32, total: Option<u32>) -> bool {
        match self {
            Count::Exactly(k) => n == k,
            Count::AtLeast(k) => n >= k,
            Count::MoreThan(k) => n > k,
            Count::All => n >= 1 && total.is_some_and(|t| n >= t),
            Count::Some => n >= 1 && total.is_none_or(|t| n < t),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Condition {
    /// Roles counted together; empty: any role.
    pub roles: Vec<String>,
    pub measure: Measure,
    pub count: Count,
}

/// One small situation a scenario is tested on: servers as `role@host`.
#[derive(Clone, Debug, Default)]
pub struct ScenarioExample {
    pub seen: Vec<(String, String)>,
    pub down: Vec<(String, String)>,
    pub not_serving: Vec<(String, String)>,
    pub disks_lost: Vec<(String, String)>,
    pub running: Vec<(String, String)>,
    pub expect_match: bool,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub id: String,
    pub class: Class,
    /// The Run Book heading it comes from.
    pub section: String,
    pub title: String,
    /// The Run Book's words for it.
    pub says: String,
    pub when: Vec<Condition>,
    /// Roles of which one must go on logging after the servers counted went down ("while
    /// systems that depend on them are running"); empty: no such condition.
    pub running: Vec<String>,
    pub steps: Vec<String>,
    pub examples: Vec<ScenarioExample>,
    pub pack: String,
    pub line: usize,
}

/// The scenarios of all packs, in pack order (the first that holds is the incident's), and
/// the roles they count.
#[derive(Clone, Debug, Default)]
pub struct Scenarios {
    pub roles: Vec<Role>,
    pub scenarios: Vec<Scenario>,
}

impl Scenarios {
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }
}

#[derive(Deserialize)]
struct ScenarioFile {
    #[serde(default)]
    scenario: Vec<Spanned<ScenarioDef>>,
    #[serde(default)]
    role: Vec<Spanned<RoleDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleDef {
    name: String,
    title: String,
    plural: String,
    #[serde(default)]
    single: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioDef {
    id: String,
    class: Class,
    section: String,
    title: String,
    says: String,
    when: Vec<ConditionDef>,
    #[serde(default)]
    running: Vec<String>,
    steps: Vec<String>,
    #[serde(default)]
    examples: Vec<Spanned<ExampleDef>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionDef {
    role: Option<OneOrMany>,
    down: Option<String>,
    not_serving: Option<String>,
    disks_lost: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleDef {
    #[serde(default)]
    seen: Vec<String>,
    #[serde(default)]
    down: Vec<String>,
    #[serde(default)]
    not_serving: Vec<String>,
    #[serde(default)]
    disks_lost: Vec<String>,
    #[serde(default)]
    running: Vec<String>,
    expect: String,
}

/// Reads the `[[scenario]]` and `[[role]]` tables of one pack (its syntax and rules are
/// checked by `pack::parse_pack`). `label` names it in errors.
pub fn parse(label: &str, text: &str, into: &mut Scenarios) -> Result<(), Vec<PackError>> {
    let lines = Lines::new(text);
    let file: ScenarioFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        vec![PackError::new(
            label,
            lines.of(offset),
            None,
            e.message().trim().to_string(),
        )]
    })?;
    let mut errors = Vec::new();
    let known = crate::source::origin::is_service_name;
    let role_error = |r: &str| {
        format!(
            "role {r:?} is not a service logtriage knows ({})",
            crate::source::origin::service_names().join(", ")
        )
    };
    for spanned in file.role {
        let line = lines.of(spanned.span().start);
        let r = spanned.into_inner();
        if !known(&r.name) {
            errors.push(PackError::new(label, line, None, role_error(&r.name)));
            continue;
        }
        into.roles.push(Role {
            name: r.name,
            title: r.title,
            plural: r.plural,
            single: r.single,
        });
    }
    for spanned in file.scenario {
        let line = lines.of(spanned.span().start);
        let def = spanned.into_inner();
        let id = def.id.clone();
        let n_errors = errors.len();
        let mut bad = |m: String| {
            errors.push(PackError::new(
                label,
                line,
                None,
                format!("scenario {id}: {m}"),
            ))
        };
        let mut when = Vec::new();
        let conditions = def.when.len();
        for c in def.when {
            let roles = match c.role {
                None => Vec::new(),
                Some(OneOrMany::One(r)) => vec![r],
                Some(OneOrMany::Many(v)) => v,
            };
            for r in roles.iter().filter(|r| !known(r)) {
                bad(role_error(r));
            }
            let measures = [
                (Measure::Down, c.down),
                (Measure::NotServing, c.not_serving),
                (Measure::DisksLost, c.disks_lost),
            ];
            let given: Vec<_> = measures
                .into_iter()
                .filter_map(|(m, v)| v.map(|v| (m, v)))
                .collect();
            let [(measure, count)] = given.as_slice() else {
                bad("a condition counts one of down, not_serving or disks_lost".into());
                continue;
            };
            match Count::parse(count) {
                Some(count) => when.push(Condition {
                    roles,
                    measure: *measure,
                    count,
                }),
                None => bad(format!(
                    "a count is \"all\", \"some\", a number, \">=N\" or \">N\", not {count:?}"
                )),
            }
        }
        if conditions == 0 {
            bad("a scenario needs at least one condition (when)".into());
        }
        if def.steps.is_empty() {
            bad("a scenario needs runbook steps".into());
        }
        for r in def.running.iter().filter(|r| !known(r)) {
            bad(role_error(r));
        }
        let mut examples = Vec::new();
        for ex in def.examples {
            let ex_line = lines.of(ex.span().start);
            let ex = ex.into_inner();
            let mut servers = |list: Vec<String>| -> Vec<(String, String)> {
                list.into_iter()
                    .filter_map(|s| match s.split_once('@') {
                        Some((r, h)) if known(r) => Some((r.to_string(), h.to_string())),
                        _ => {
                            errors.push(PackError::new(
                                label,
                                ex_line,
                                Some(&id),
                                format!(
                                    "an example's server is ROLE@HOST with a known role, not {s:?}"
                                ),
                            ));
                            None
                        }
                    })
                    .collect()
            };
            let example = ScenarioExample {
                seen: servers(ex.seen),
                down: servers(ex.down),
                not_serving: servers(ex.not_serving),
                disks_lost: servers(ex.disks_lost),
                running: servers(ex.running),
                expect_match: ex.expect == "match",
                line: ex_line,
            };
            if ex.expect != "match" && ex.expect != "no-match" {
                errors.push(PackError::new(
                    label,
                    ex_line,
                    None,
                    format!(
                        "scenario {id}: example expect must be \"match\" or \"no-match\", not {:?}",
                        ex.expect
                    ),
                ));
            }
            examples.push(example);
        }
        if errors.len() > n_errors {
            continue;
        }
        into.scenarios.push(Scenario {
            id: def.id,
            class: def.class,
            section: def.section,
            title: def.title,
            says: def.says,
            when,
            running: def.running,
            steps: def.steps,
            examples,
            pack: label.to_string(),
            line,
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
