//! Rule packs: the TOML schema (`pack`), the packs built into the binary (`builtin`), and the
//! validated, compiled rules the matcher runs. Packs are data, never code.

pub mod builtin;
pub mod pack;
pub mod scenario;
pub mod suggest;

use std::fmt;
use std::path::Path;

use crate::event::Level;
pub use pack::PackError;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Run Book's layers, lowest first: fix lower layers before higher ones.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    StorageCoordination,
    DataServices,
    Application,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::StorageCoordination => "storage-coordination",
            Layer::DataServices => "data-services",
            Layer::Application => "application",
        }
    }
}

/// A finding needs `count` occurrences of one fingerprint within `within_ms` in one file.
#[derive(Clone, Debug)]
pub struct Threshold {
    pub count: u32,
    pub within_ms: i64,
    pub within: String,
}

/// A rule's failure is a known consequence of these rules' (ids, or prefixes ending in `*`)
/// when it follows one of them within `within_ms` (`finding::incident` ties them).
#[derive(Clone, Debug)]
pub struct Follows {
    pub rules: Vec<String>,
    pub within_ms: i64,
    pub within: String,
}

impl Follows {
    pub fn names(&self, id: &str) -> bool {
        self.rules.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => id.starts_with(prefix),
            None => p == id,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Example {
    pub text: String,
    pub expect_match: bool,
    pub path: Option<String>,
    pub line: usize,
}

/// One validated rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub component: String,
    pub layer: Layer,
    pub literals: Vec<String>,
    pub regex: Option<regex::bytes::Regex>,
    pub not_regex: Option<regex::bytes::Regex>,
    pub levels: Option<Vec<Level>>,
    pub files: Option<globset::GlobSet>,
    /// Globs on the path that exclude a file even when `files` matches it.
    pub not_files: Option<globset::GlobSet>,
    pub summary: Option<String>,
    pub group_by: Vec<String>,
    pub threshold: Option<Threshold>,
    pub description: Option<String>,
    pub runbook: Vec<String>,
    pub references: Vec<String>,
    pub examples: Vec<Example>,
    /// The pack file the rule comes from (`rules/jvm.toml` for built-in packs).
    pub pack: String,
    /// 1-based line of the rule in its pack.
    pub line: usize,
    /// A phase marker: what its event says about the stream's phase.
    pub marks: Option<crate::finding::phase::Mark>,
    /// Phases in which this failure is expected (reported at `low` there).
    pub expected_in: Vec<crate::finding::phase::Phase>,
    /// Failures this one is a known consequence of.
    pub follows: Option<Follows>,
    /// Raised by the sweep's analysis rather than found in a line (no literals, no examples).
    pub raised_by: Option<RaisedBy>,
    /// What the failure does to a server (for the Run Book scenarios, `finding::scenario`).
    pub effect: Option<Effect>,
}

/// What a failure does to a server: the data the Run Book scenarios are judged from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EffectKind {
    /// The process stopped, exited or never started.
    Down,
    /// The process runs but does not serve (a zombie: no file handles, no threads, no sockets).
    NotServing,
    /// A disk is lost (I/O errors, a read-only remount, a failed volume).
    DiskLost,
}

impl EffectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EffectKind::Down => "down",
            EffectKind::NotServing => "not-serving",
            EffectKind::DiskLost => "disk-lost",
        }
    }
}

/// A rule's `effect`: on the server whose log it is in, or (`role`, the host named by the
/// field `host_field`) on another server it reports about.
#[derive(Clone, Debug)]
pub struct Effect {
    pub is: EffectKind,
    pub role: Option<String>,
    pub host_field: Option<String>,
}

/// What raises a rule that no line matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RaisedBy {
    /// A daemon's log ended while the sweep's other logs went on (`finding::silence`).
    Silence,
    /// A gap in a daemon's log ended by its start-up with no clean stop before it
    /// (`finding::silence`).
    Restart,
}

impl RaisedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            RaisedBy::Silence => "silence",
            RaisedBy::Restart => "restart",
        }
    }
}

impl Rule {
    /// Does the rule apply to a file at this path?
    pub fn applies_to(&self, path: &str) -> bool {
        self.files.as_ref().is_none_or(|g| g.is_match(path))
            && !self.not_files.as_ref().is_some_and(|g| g.is_match(path))
    }
}

/// The texts of the built-in packs (unless `no_builtin`) and of the user's packs (files, or
/// folders of `*.toml`), labelled for errors; and what could not be read.
fn pack_texts(
    user_paths: &[std::path::PathBuf],
    no_builtin: bool,
) -> (Vec<(String, String)>, Vec<PackError>) {
    let mut texts = Vec::new();
    let mut errors = Vec::new();
    if !no_builtin {
        for (label, text) in builtin::BUILTIN_PACKS {
            texts.push((label.to_string(), text.to_string()));
        }
    }
    for path in user_paths {
        match pack_files(path) {
            Ok(files) => {
                for f in files {
                    let label = f.display().to_string();
                    match std::fs::read(&f) {
                        Ok(bytes) => {
                            texts.push((label, String::from_utf8_lossy(&bytes).into_owned()))
                        }
                        Err(e) => errors.push(PackError::new(
                            &label,
                            0,
                            None,
                            format!("cannot read: {e}"),
                        )),
                    }
                }
            }
            Err(e) => errors.push(PackError::new(&path.display().to_string(), 0, None, e)),
        }
    }
    (texts, errors)
}

/// The Run Book scenarios and roles of the same packs `load` reads.
pub fn load_scenarios(
    user_paths: &[std::path::PathBuf],
    no_builtin: bool,
) -> Result<scenario::Scenarios, Vec<PackError>> {
    let (texts, mut errors) = pack_texts(user_paths, no_builtin);
    let mut all = scenario::Scenarios::default();
    for (label, text) in &texts {
        if let Err(e) = scenario::parse(label, text, &mut all) {
            errors.extend(e);
        }
    }
    if errors.is_empty() {
        Ok(all)
    } else {
        Err(errors)
    }
}

/// Loads the built-in packs (unless `no_builtin`) and the user's packs (files, or folders of
/// `*.toml`), and checks ids are unique across all of them.
pub fn load(
    user_paths: &[std::path::PathBuf],
    no_builtin: bool,
) -> Result<Vec<Rule>, Vec<PackError>> {
    let (texts, mut errors) = pack_texts(user_paths, no_builtin);
    let mut rules = Vec::new();
    for (label, text) in &texts {
        match pack::parse_pack(label, text) {
            Ok(r) => rules.extend(r),
            Err(e) => errors.extend(e),
        }
    }
    let mut seen: std::collections::HashMap<&str, &Rule> = std::collections::HashMap::new();
    for r in &rules {
        if let Some(first) = seen.insert(&r.id, r) {
            errors.push(PackError::new(
                &r.pack,
                r.line,
                Some(&r.id),
                format!(
                    "duplicate rule id (first defined in {}:{})",
                    first.pack, first.line
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

fn pack_files(path: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read rule pack: {e}"))?;
    if meta.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read rule folder: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        Ok(files)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}
