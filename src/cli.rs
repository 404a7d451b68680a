//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::rules::Severity;

#[derive(Parser, Debug)]
#[command(
    name = "logtriage",
    version,
    about = "Finds known failures in the logs of a Hadoop-stack platform and says what to do next.",
    after_help = "Exit codes: 0 no finding at or above --fail-on; 1 such findings; 2 usage error or an input that could not be read."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sweep log files, folders (recursively), archives (tar, zip; compressed) and stdin for
    /// known failures.
    #[command(after_help = "Examples:
  logtriage scan samples/
  logtriage scan --since 6h --format markdown /var/log/hadoop-hdfs /var/log/accumulo > ticket.md
  logtriage scan --format json --baseline yesterday.json incident-bundle.tgz > today.json")]
    Scan(ScanArgs),
    /// List or test rules.
    #[command(after_help = "Examples:
  logtriage rules list
  logtriage rules test --rules site-rules/
  logtriage rules suggest samples/ > drafted.toml")]
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Show one rule: what it means, what it matches, its runbook steps.
    #[command(after_help = "Examples:
  logtriage explain accumulo.tserver-lost-lock
  logtriage explain --rules site-rules/ site.disk-full")]
    Explain {
        /// A rule id, e.g. accumulo.tserver-lost-lock.
        rule_id: String,
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Follow logs as they grow (through rotation and truncation) and report each known
    /// failure as it happens.
    #[command(after_help = "Examples:
  logtriage tail /var/log/hadoop-hdfs /var/log/accumulo
  logtriage tail --format ndjson --state /var/lib/logtriage/tail.state /var/log/hadoop-yarn
  logtriage tail --from-start --cooldown 10m samples/
  logtriage tail --webhook-format slack --webhook https://hooks.example.org/T0 /var/log/accumulo")]
    Tail(TailArgs),
    /// A monitoring-plugin check (Nagios, Icinga, Zabbix, Ambari): the known failures written
    /// since the last run, one status line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    #[command(version)]
    Check(CheckArgs),
    /// Merge JSON reports (one per host, or per part of a bundle) into the report one scan of
    /// all their logs would give.
    Merge(MergeArgs),
    /// A shell's completion script, on stdout.
    #[command(after_help = "Examples:
  logtriage completions bash > /etc/bash_completion.d/logtriage
  logtriage completions zsh > /usr/share/zsh/vendor-completions/_logtriage
  logtriage completions fish > ~/.config/fish/completions/logtriage.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man pages: logtriage.1 on stdout, or every page (logtriage.1, logtriage-scan.1, ...)
    /// written to a folder.
    #[command(after_help = "Examples:
  logtriage man | man -l -
  logtriage man --out /usr/share/man/man1")]
    Man {
        /// Write every page to this folder.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// The JSON Schema of the JSON report (or of the NDJSON record), derived from the types
    /// that write them.
    #[command(after_help = "Examples:
  logtriage schema > report.schema.json
  logtriage schema ndjson > record.schema.json")]
    Schema {
        /// report (the --format json document) or ndjson (one record).
        #[arg(value_enum, default_value = "report")]
        of: SchemaOf,
    },
    /// Render a saved JSON report (`scan --format json`) without scanning again.
    #[command(after_help = "Examples:
  logtriage report today.json > report.html
  logtriage report today.json --format markdown > ticket.md
  logtriage report today.json --format human --rules site-rules/")]
    Report {
        /// The JSON report.
        #[arg(value_name = "REPORT.json")]
        path: PathBuf,
        /// html (default), json, human, markdown or timeline: the same report `scan` writes
        /// in that format, rebuilt from the saved one without scanning again.
        #[arg(long, value_enum, default_value = "html")]
        format: Format,
        /// Colour of --format human and timeline: auto (on a terminal, unless NO_COLOR is
        /// set), always, never.
        #[arg(long, value_enum, default_value = "auto")]
        color: ColorWhen,
        /// The rule packs the report was written with (its findings name their rules by id).
        #[command(flatten)]
        packs: PackArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List every rule (id, title, component, layer, severity, pack).
    #[command(after_help = "Examples:
  logtriage rules list
  logtriage rules list --format json --rules site-rules/")]
    List {
        #[arg(long, value_enum, default_value = "human")]
        format: ListFormat,
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Run the examples of the built-in and given packs; exit 1 if any fails.
    #[command(after_help = "Examples:
  logtriage rules test
  logtriage rules test --rules site-rules/ --no-builtin-rules")]
    Test {
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Sweep like `scan` and print a rule pack drafting one rule per unknown error template
    /// (check it with `rules test --rules FILE`, use it with `scan --rules FILE`).
    #[command(after_help = "Examples:
  logtriage rules suggest samples/ > drafted.toml
  logtriage rules suggest --min-count 5 /var/log/accumulo > drafted.toml")]
    Suggest(Box<SuggestArgs>),
}

#[derive(Args, Debug)]
pub struct SuggestArgs {
    /// Only templates seen at least N times.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_count: u64,
    /// Only this template (its id, as reports show it; repeatable).
    #[arg(long = "template", value_name = "ID")]
    pub templates: Vec<String>,
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Args, Debug, Clone)]
pub struct PackArgs {
    /// A rule pack file, or a folder of *.toml packs, added to the built-in packs (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Leave out the built-in packs.
    #[arg(long)]
    pub no_builtin_rules: bool,
}

/// What a sweep's (or a merge's) report keeps, how its story is told and when it fails: the
/// options `scan` and `merge` share.
#[derive(Args, Debug)]
pub struct StoryArgs {
    /// Report only findings at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity, default_value = "info")]
    pub min_severity: Severity,
    /// Exit 1 when a reported finding is at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity, default_value = "medium")]
    pub fail_on: Severity,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorWhen,
    /// The noise-control file: suppressions (each with a reason) and severity overrides.
    /// Default: logtriage.toml in the current folder, when there is one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// An earlier JSON report: each finding is marked new or ongoing, the baseline's findings
    /// no longer seen are listed (resolved, or not rechecked when their files were not scanned),
    /// and the exit code counts only new findings.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,
    /// HOST=DURATION: a correction added to that host's log times before anything is ordered
    /// (node3=-4s: node3's clock runs 4 s fast). Repeatable.
    #[arg(long, value_name = "HOST=DURATION", value_parser = crate::finding::clock::parse_clock_offset)]
    pub clock_offset: Vec<(String, i64)>,
    /// A daemon's log that ends this long before the sweep's last event, with no clean
    /// shutdown, is a finding "stopped logging" (s, m, h).
    #[arg(long, value_name = "DURATION", value_parser = parse_span_ms, default_value = "10m")]
    pub silence: i64,
    /// A new incident starts after this long with no finding at medium or above anywhere
    /// (s, m, h).
    #[arg(long, value_name = "DURATION", value_parser = parse_span_ms, default_value = "15m")]
    pub incident_gap: i64,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files, folders (read recursively) or - for stdin. None: stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only files matching GLOB inside folders and archives; !GLOB excludes (repeatable, like
    /// rg). Archives inside folders are always opened, their members filtered.
    #[arg(short = 'g', long = "glob", value_name = "GLOB")]
    pub globs: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub packs: PackArgs,
    #[command(flatten)]
    pub story: StoryArgs,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long = "threads", value_name = "N")]
    pub threads: Option<usize>,
    /// Evidence events kept per finding (0 = all).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_evidence: usize,
    /// Only events at or after this time: RFC 3339 (2024-03-11T02:00:00Z), a local time
    /// (2024-03-11 02:00:00) or a span back from now (30m, 2h, 1d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events at or before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Follow symbolic links to folders.
    #[arg(short = 'L', long = "follow")]
    pub follow: bool,
    /// Error events no rule matched, grouped by template: off, error (ERROR, FATAL, SEVERE,
    /// PANIC and uncaught exceptions), or warn (those and WARN).
    #[arg(long, value_enum, value_name = "LEVEL", default_value = "error")]
    pub unknown: UnknownArg,
    /// The machine of inputs whose paths name none (stdin, a scan on the machine itself).
    /// Default: this machine's name for files under /var/log (its own logs), none for the
    /// rest (a bundle unpacked here is not this machine's).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// The file name stdin's text is shown and classified under (its service, its rules),
    /// e.g. koverse-server.log.
    #[arg(long, value_name = "NAME")]
    pub stdin_name: Option<String>,
    /// The zone of log times that state none: an IANA name (Europe/Berlin), UTC, or an offset
    /// (+02:00). Default: this machine's zone. Times that state a zone are converted.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Range size for scanning one large file in parallel (bytes; 0 = never split). For tests.
    #[arg(long, hide = true, default_value_t = crate::scan::SPLIT_BYTES)]
    pub split_bytes: u64,
    /// No progress output on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  logtriage merge reports/*.json
  logtriage merge --format html -o night.html node1.json node2.json node3.json
  logtriage merge --format json -o merged.json --failed 'node4=unreachable over ssh' reports/*.json")]
pub struct MergeArgs {
    /// JSON reports written by `scan --format json` (or `merge --format json`).
    #[arg(value_name = "REPORT.json", required_unless_present = "failed")]
    pub reports: Vec<PathBuf>,
    /// Output format (ndjson is not one: a report holds findings, not every occurrence).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// WHAT=WHY: an input with no report (a host where the scan failed, or that could not be
    /// reached), listed in the merged report's errors. Repeatable.
    #[arg(long, value_name = "WHAT=WHY")]
    pub failed: Vec<String>,
    #[command(flatten)]
    pub packs: PackArgs,
    #[command(flatten)]
    pub story: StoryArgs,
    /// The zone of log times that state none. Default: the reports' zone.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

#[derive(Args, Debug)]
pub struct TailArgs {
    /// Files and folders to follow (folders recursively: files that appear in them later are
    /// followed from their first line).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Only files matching GLOB inside folders; !GLOB excludes (repeatable, like rg).
    #[arg(short = 'g', long = "glob", value_name = "GLOB")]
    pub globs: Vec<String>,
    /// Read the files that exist at start from their first line (default: from their end).
    #[arg(long)]
    pub from_start: bool,
    /// Output: human (one block per finding) or ndjson (the `scan --format ndjson` object).
    #[arg(long, value_enum, default_value = "human")]
    pub format: TailFormat,
    /// The zone of log times that state none (an IANA name, UTC or an offset), for the
    /// RFC 3339 times of the NDJSON records. Default: this machine's zone.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Repeats of a shown fingerprint within this time are counted, not shown (0: show all).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::follow::parse_span)]
    pub cooldown: std::time::Duration,
    /// An event at the end of a file is complete after this long with nothing new in it.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = crate::follow::parse_span)]
    pub flush_after: std::time::Duration,
    /// Check the files every INTERVAL instead of waiting for file-system events (NFS).
    #[arg(long, value_name = "INTERVAL", value_parser = crate::follow::parse_span)]
    pub poll: Option<std::time::Duration>,
    /// Checkpoint file: where each file was read to; a restart resumes there.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Hold at most N followed files open; past it the least recently active are closed and
    /// watched by path, reopened when they change. Default: half the open-file limit (raised
    /// to its hard limit at start), at most 4096, less a margin.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_open: Option<u64>,
    #[command(flatten)]
    pub packs: PackArgs,
    /// Report only findings at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity, default_value = "info")]
    pub min_severity: Severity,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorWhen,
    /// Follow symbolic links to folders.
    #[arg(short = 'L', long = "follow")]
    pub follow: bool,
    /// POST each alert (a finding's first occurrence, then its repeat counts when a cooldown
    /// ends) to this http or https URL (repeatable).
    #[arg(long = "webhook", value_name = "URL", help_heading = "Alerts")]
    pub webhooks: Vec<String>,
    /// The webhook body: generic (the NDJSON object and its runbook steps), slack (an Incoming
    /// Webhook message) or pagerduty (an Events API v2 trigger). Once for every --webhook, or
    /// once per --webhook, in their order.
    #[arg(
        long = "webhook-format",
        value_enum,
        value_name = "FORMAT",
        help_heading = "Alerts"
    )]
    pub webhook_formats: Vec<crate::follow::alert::WebhookFormat>,
    /// 'Name: value': a header sent with every webhook request (repeatable).
    #[arg(
        long = "webhook-header",
        value_name = "'NAME: VALUE'",
        help_heading = "Alerts"
    )]
    pub webhook_headers: Vec<String>,
    /// NAME=VAR: a header whose value is read from the environment variable VAR, so a secret
    /// is not on the command line (repeatable). Never printed.
    #[arg(
        long = "webhook-header-env",
        value_name = "NAME=VAR",
        help_heading = "Alerts"
    )]
    pub webhook_header_envs: Vec<String>,
    /// The environment variable holding the PagerDuty routing key (--webhook-format pagerduty).
    #[arg(long, value_name = "VAR", help_heading = "Alerts")]
    pub pagerduty_routing_key_env: Option<String>,
    /// The longest one webhook request may take (the connection: at most 5 s of it).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::follow::parse_span, help_heading = "Alerts")]
    pub webhook_timeout: std::time::Duration,
    /// Alerts waiting per webhook; when full, the oldest is dropped (and counted).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1000,
        help_heading = "Alerts"
    )]
    pub webhook_queue: usize,
    /// How long an alert is retried (connection errors, 429, 5xx) before it is given up.
    #[arg(long, hide = true, default_value = "2m", value_parser = crate::follow::parse_span)]
    pub webhook_retry_for: std::time::Duration,
    /// The first retry's wait; it doubles up to 30 s.
    #[arg(long, hide = true, default_value = "500ms", value_parser = crate::follow::parse_span)]
    pub webhook_backoff: std::time::Duration,
    /// Run CMD through `sh -c` for each alert, the alert's JSON on its stdin and LOGTRIAGE_RULE,
    /// _SEVERITY, _HOST, _SERVICE, _TITLE, _FINGERPRINT in its environment (a few at once).
    #[arg(long = "exec", value_name = "CMD", help_heading = "Alerts")]
    pub exec: Option<String>,
    /// An --exec command still running after this long is killed.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::follow::parse_span, help_heading = "Alerts")]
    pub exec_timeout: std::time::Duration,
    /// Alert only on findings at or above this severity.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity, default_value = "medium", help_heading = "Alerts")]
    pub alert_min_severity: Severity,
    /// On exit, how long queued alerts and running commands are given to finish.
    #[arg(long, hide = true, default_value = "3s", value_parser = crate::follow::parse_span)]
    pub alert_grace: std::time::Duration,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Exit codes (the monitoring-plugin convention): 0 OK, 1 WARNING, 2 CRITICAL, \
3 UNKNOWN (a usage error, a path that cannot be read, a damaged or unwritable state file).

Examples:
  logtriage check --state /var/lib/logtriage/check.state /var/log/accumulo /var/log/hadoop
  logtriage check --state check.state --warning high --critical critical -g '*.log' /var/log"
)]
pub struct CheckArgs {
    /// Files and folders to check (folders recursively).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Checkpoint file: where each file was read to. Each run reads what was written since
    /// the last one (through rotation and truncation), then saves it.
    #[arg(long, value_name = "FILE", required = true)]
    pub state: PathBuf,
    /// WARNING when a new finding is at or above this severity.
    #[arg(short = 'w', long, value_name = "LEVEL", value_parser = parse_severity, default_value = "medium")]
    pub warning: Severity,
    /// CRITICAL when a new finding is at or above this severity.
    #[arg(short = 'c', long, value_name = "LEVEL", value_parser = parse_severity, default_value = "high")]
    pub critical: Severity,
    /// First run (no state file yet): start at the files' end, reporting only what is
    /// written after it (default: read them from their first line).
    #[arg(long)]
    pub from_end: bool,
    /// Only files matching GLOB inside folders; !GLOB excludes (repeatable, like rg).
    #[arg(short = 'g', long = "glob", value_name = "GLOB")]
    pub globs: Vec<String>,
    /// Follow symbolic links to folders.
    #[arg(short = 'L', long = "follow")]
    pub follow: bool,
    #[command(flatten)]
    pub packs: PackArgs,
    /// Count only findings at or above this severity (the rest are not listed).
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity, default_value = "info")]
    pub min_severity: Severity,
    /// Long-output lines (one per finding) after the status line, at most N (0: none).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_lines: usize,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownArg {
    Off,
    Error,
    Warn,
}

impl From<UnknownArg> for crate::matching::UnknownMode {
    fn from(a: UnknownArg) -> Self {
        match a {
            UnknownArg::Off => crate::matching::UnknownMode::Off,
            UnknownArg::Error => crate::matching::UnknownMode::Error,
            UnknownArg::Warn => crate::matching::UnknownMode::Warn,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaOf {
    Report,
    Ndjson,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TailFormat {
    Human,
    Ndjson,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Ndjson,
    /// Every finding's occurrences on one time axis across files and hosts, repeats folded.
    Timeline,
    /// A ticket body (GitHub, GitLab, Jira Markdown): summary table, incidents, evidence, steps.
    Markdown,
    /// One self-contained HTML page: a timeline picture, incidents, a findings table.
    Html,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("{s:?} is not a severity (critical, high, medium, low, info)"))
}

/// `15m`, `90s`, `2h`: a duration in milliseconds.
fn parse_span_ms(s: &str) -> Result<i64, String> {
    crate::rules::pack::parse_duration_ms(s)
        .filter(|&ms| ms > 0)
        .ok_or_else(|| format!("{s:?} is not a duration such as 90s, 15m or 2h"))
}
