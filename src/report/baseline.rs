//! `--baseline OLD.json`: what is new since an earlier sweep. Findings are matched by
//! fingerprint (stable across runs: rule, grouped fields, service, host): a finding of this
//! sweep is `new` or `ongoing`; a finding of the baseline that this sweep no longer shows is
//! `resolved` when one of its files was scanned again, `not_rechecked` when none was.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::Summary;
use crate::finding::fingerprint::hex;

/// The JSON schema version this build writes and reads.
pub const SCHEMA_VERSION: u64 = 1;

/// What an earlier report holds that a comparison needs.
#[derive(Debug)]
pub struct Baseline {
    pub path: String,
    findings: Vec<OldFinding>,
}

#[derive(Debug, Deserialize)]
struct OldDoc {
    version: u64,
    findings: Vec<OldFinding>,
}

/// One finding of the baseline, as its JSON has it.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct OldFinding {
    pub fingerprint: String,
    pub rule: String,
    pub title: String,
    pub severity: String,
    pub host: Option<String>,
    pub service: Option<String>,
    pub last_seen: Option<String>,
    #[serde(default)]
    pub files: Vec<String>,
}

/// The comparison of this sweep with a baseline.
#[derive(Debug, Default)]
pub struct Compared {
    pub path: String,
    /// Per finding of the summary (same order): seen in the baseline.
    pub ongoing: Vec<bool>,
    pub resolved: Vec<OldFinding>,
    pub not_rechecked: Vec<OldFinding>,
}

impl Compared {
    pub fn status(&self, i: usize) -> &'static str {
        if self.ongoing.get(i).copied().unwrap_or(false) {
            "ongoing"
        } else {
            "new"
        }
    }
}

/// Reads a JSON report written by `scan --format json`. The error names the file and says what
/// is wrong: unreadable, not JSON (a cut file), another schema version. `what` prefixes it
/// (`--baseline`, `report`).
pub fn read_report(path: &std::path::Path, what: &str) -> Result<serde_json::Value, String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{what} {name}: cannot read: {e}"))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!("{what} {name}: not a logtriage JSON report (cut or invalid JSON: {e})")
    })?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(SCHEMA_VERSION) => Ok(value),
        Some(v) => Err(format!(
            "{what} {name}: a report of schema version {v}; this logtriage reads version {SCHEMA_VERSION}"
        )),
        None => Err(format!(
            "{what} {name}: not a logtriage JSON report (no version)"
        )),
    }
}

/// Reads a baseline (`read_report`).
pub fn load(path: &std::path::Path) -> Result<Baseline, String> {
    let name = path.display().to_string();
    let value = read_report(path, "--baseline")?;
    let doc: OldDoc = serde_json::from_value(value)
        .map_err(|e| format!("--baseline {name}: not a logtriage JSON report: {e}"))?;
    debug_assert_eq!(doc.version, SCHEMA_VERSION);
    Ok(Baseline {
        path: name,
        findings: doc.findings,
    })
}

/// Compares the sweep's findings with the baseline's.
pub fn compare(s: &Summary, b: &Baseline) -> Compared {
    let old: HashMap<&str, &OldFinding> = b
        .findings
        .iter()
        .map(|f| (f.fingerprint.as_str(), f))
        .collect();
    let now: Vec<String> = s.findings.iter().map(|f| hex(f.fingerprint)).collect();
    let ongoing = now.iter().map(|fp| old.contains_key(fp.as_str())).collect();
    let seen: BTreeSet<&str> = now.iter().map(String::as_str).collect();
    let scanned: BTreeSet<&str> = s.paths.iter().map(String::as_str).collect();
    let mut out = Compared {
        path: b.path.clone(),
        ongoing,
        ..Compared::default()
    };
    for f in &b.findings {
        if seen.contains(f.fingerprint.as_str()) {
            continue;
        }
        if f.files.iter().any(|p| scanned.contains(p.as_str())) {
            out.resolved.push(f.clone());
        } else {
            out.not_rechecked.push(f.clone());
        }
    }
    out
}
