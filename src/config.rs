//! The noise-control file (`--config FILE`, else `logtriage.toml` in the current folder): which
//! findings and unknown templates are suppressed, and which rules get another severity. Every
//! suppression needs a reason and is counted in every report, never dropped silently; one with
//! an `until` date stops applying after it and a warning says so. Unknown keys are errors that
//! name the file and the line.
//!
//! ```toml
//! [[suppress]]
//! rule = "yarn.rm-contact-error"     # or fingerprint = "..." or template = "..." (one of them)
//! hosts = ["dn1"]                    # optional: only on these hosts
//! services = ["nodemanager"]         # optional: only from these services
//! paths = ["*yarn*"]                 # optional: only in files matching one of these globs
//! reason = "ticket OPS-42: RM moved, retries expected until the switch"   # required
//! until = "2026-12-31"               # optional: after this day the entry no longer applies
//!
//! [[override]]
//! rule = "yarn.rm-contact-error"
//! severity = "low"
//! ```

use serde::Deserialize;
use toml::Spanned;

use crate::rules::Severity;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "logtriage.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    suppress: Vec<Spanned<SuppressDef>>,
    #[serde(default, rename = "override")]
    overrides: Vec<Spanned<OverrideDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressDef {
    rule: Option<String>,
    fingerprint: Option<String>,
    template: Option<String>,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    reason: String,
    until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideDef {
    rule: String,
    severity: String,
}

/// What a suppression names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Rule(String),
    Fingerprint(String),
    Template(String),
}

#[derive(Clone, Debug)]
pub struct Suppress {
    pub target: Target,
    pub hosts: Vec<String>,
    pub services: Vec<String>,
    pub paths: Option<globset::GlobSet>,
    pub path_globs: Vec<String>,
    pub reason: String,
    pub until: Option<String>,
    /// Where it is written: `logtriage.toml:12`.
    pub at: String,
}

impl Suppress {
    /// Does it apply to something from `service` on `host`, seen in `files`?
    pub fn covers(&self, host: Option<&str>, service: Option<&str>, files: &[&str]) -> bool {
        (self.hosts.is_empty() || host.is_some_and(|h| self.hosts.iter().any(|x| x == h)))
            && (self.services.is_empty()
                || service.is_some_and(|s| self.services.iter().any(|x| x == s)))
            && self
                .paths
                .as_ref()
                .is_none_or(|g| files.iter().any(|f| g.is_match(f)))
    }
}

#[derive(Clone, Debug)]
pub struct Override {
    pub rule: String,
    pub severity: Severity,
    pub at: String,
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it was read from (for reports).
    pub path: Option<String>,
    /// Entries in force today.
    pub suppress: Vec<Suppress>,
    pub overrides: Vec<Override>,
    /// Entries past their `until` date.
    pub expired: Vec<Suppress>,
}

/// Reads the config: `explicit` (must exist), else `logtriage.toml` in the current folder when
/// there is one, else none. `today` is `YYYY-MM-DD`. Errors name the file and the line.
pub fn load(explicit: Option<&std::path::Path>, today: &str) -> Result<Config, String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = std::path::PathBuf::from(DEFAULT_FILE);
            if !p.is_file() {
                return Ok(Config::default());
            }
            p
        }
    };
    let label = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{label}: cannot read: {e}"))?;
    parse(&label, &text, today)
}

/// Parses config text; `label` names it in errors.
pub fn parse(label: &str, text: &str, today: &str) -> Result<Config, String> {
    let lines = crate::rules::pack::Lines::new(text);
    let file: File = toml::from_str(text).map_err(|e| {
        let line = lines.of(e.span().map_or(0, |s| s.start));
        format!("{label}:{line}: {}", e.message().trim())
    })?;
    let mut config = Config {
        path: Some(label.to_string()),
        ..Config::default()
    };
    for s in file.suppress {
        let at = format!("{label}:{}", lines.of(s.span().start));
        let d = s.into_inner();
        let target = match (d.rule, d.fingerprint, d.template) {
            (Some(r), None, None) => Target::Rule(r),
            (None, Some(f), None) => Target::Fingerprint(f),
            (None, None, Some(t)) => Target::Template(t),
            _ => {
                return Err(format!(
                    "{at}: a [[suppress]] entry names exactly one of rule, fingerprint, template"
                ));
            }
        };
        if d.reason.trim().is_empty() {
            return Err(format!("{at}: a [[suppress]] entry needs a reason"));
        }
        if let Some(u) = &d.until
            && u.parse::<jiff::civil::Date>().is_err()
        {
            return Err(format!("{at}: until = {u:?} is not a date (YYYY-MM-DD)"));
        }
        let paths = if d.paths.is_empty() {
            None
        } else {
            let mut b = globset::GlobSetBuilder::new();
            for g in &d.paths {
                let glob = globset::GlobBuilder::new(g)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| format!("{at}: bad glob {g:?}: {e}"))?;
                b.add(glob);
            }
            Some(b.build().map_err(|e| format!("{at}: {e}"))?)
        };
        let entry = Suppress {
            target,
            hosts: d.hosts,
            services: d.services,
            paths,
            path_globs: d.paths,
            reason: d.reason,
            until: d.until.clone(),
            at,
        };
        // An ISO date compares as text.
        if d.until.as_deref().is_some_and(|u| u < today) {
            config.expired.push(entry);
        } else {
            config.suppress.push(entry);
        }
    }
    for o in file.overrides {
        let at = format!("{label}:{}", lines.of(o.span().start));
        let d = o.into_inner();
        let severity = Severity::parse(&d.severity).ok_or_else(|| {
            format!(
                "{at}: severity {:?} is not one of critical, high, medium, low, info",
                d.severity
            )
        })?;
        config.overrides.push(Override {
            rule: d.rule,
            severity,
            at,
        });
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expiry_and_errors_with_lines() {
        let text = "[[suppress]]\nrule = \"a.b\"\nreason = \"known\"\n\n[[suppress]]\ntemplate = \"0123\"\nreason = \"old\"\nuntil = \"2020-01-01\"\n\n[[override]]\nrule = \"a.b\"\nseverity = \"low\"\n";
        let c = parse("lt.toml", text, "2026-12-01").unwrap();
        assert_eq!(c.suppress.len(), 1);
        assert_eq!(c.suppress[0].at, "lt.toml:1");
        assert_eq!(c.expired[0].at, "lt.toml:5");
        assert_eq!(c.overrides[0].severity, Severity::Low);
        let e = parse(
            "lt.toml",
            "[[suppress]]\nrule = \"a\"\nreason = \"r\"\nhost = [\"x\"]\n",
            "2026-12-01",
        )
        .unwrap_err();
        assert!(e.starts_with("lt.toml:4: unknown field `host`"), "{e}");
        let e = parse("lt.toml", "[[suppress]]\nrule = \"a\"\n", "2026-12-01").unwrap_err();
        assert!(e.contains("lt.toml:1") && e.contains("reason"), "{e}");
        let e = parse(
            "lt.toml",
            "[[override]]\nrule = \"a\"\nseverity = \"huge\"\n",
            "x",
        )
        .unwrap_err();
        assert!(e.starts_with("lt.toml:1:"), "{e}");
    }
}
