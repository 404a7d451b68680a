//! `logtriage scan`: one sweep (`sweep`: sources -> events -> matching -> findings), then the
//! report in the format asked for, and the exit code.

use std::io::{self, IsTerminal, Write};
use std::time::Instant;

use super::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, check_io, load_rules, parse_time_bound};
use crate::cli::{ColorWhen, Format, ScanArgs};
use crate::matching::Matcher;
use crate::report::{self, Collector, Summary};
use crate::scan::{self, FileReport};
use crate::source::{self, Input};

/// A finished sweep: its summary and the rule set it ran.
pub struct Sweep {
    pub summary: Summary,
    pub matcher: Matcher,
}

/// What a sweep and a merge of sweeps work with: the rules (severities overridden by the
/// config file), the Run Book scenarios, the baseline and the config.
pub(crate) struct Setup {
    pub rules: Vec<crate::rules::Rule>,
    pub scenarios: crate::rules::scenario::Scenarios,
    pub baseline: Option<crate::report::baseline::Baseline>,
    pub config: crate::config::Config,
}

/// Loads the packs, the baseline and the config file, saying on stderr what is wrong.
pub(crate) fn setup(
    packs: &crate::cli::PackArgs,
    config: Option<&std::path::Path>,
    baseline: Option<&std::path::Path>,
) -> Result<Setup, i32> {
    let mut rules = load_rules(packs)?;
    let scenarios = super::load_scenarios(packs)?;
    // Read before the sweep: a wrong baseline is said at once, not after minutes of scanning.
    let baseline = match baseline.map(crate::report::baseline::load) {
        Some(Err(e)) => {
            eprintln!("logtriage: {e}");
            return Err(EXIT_ERROR);
        }
        Some(Ok(b)) => Some(b),
        None => None,
    };
    let today = jiff::ZonedDateTime::now().date().to_string();
    let config = match crate::config::load(config, &today) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logtriage: config error: {e}");
            return Err(EXIT_ERROR);
        }
    };
    for o in &config.overrides {
        match rules.iter_mut().find(|r| r.id == o.rule) {
            Some(r) => r.severity = o.severity,
            None => {
                eprintln!(
                    "logtriage: config error: {}: [[override]] names no rule {:?}",
                    o.at, o.rule
                );
                return Err(EXIT_ERROR);
            }
        }
    }
    for s in &config.expired {
        eprintln!(
            "logtriage: warning: {}: the suppression of {} expired on {}; it no longer applies",
            s.at,
            crate::report::target_text(&s.target),
            s.until.as_deref().unwrap_or("")
        );
    }
    Ok(Setup {
        rules,
        scenarios,
        baseline,
        config,
    })
}

/// Sweeps the inputs of `args`, calling `each` with every stream's report (in input order) as
/// it completes, before the collector takes it; says on stderr what could not be read.
pub fn sweep(
    args: &ScanArgs,
    mut each: impl FnMut(&mut FileReport, &mut Collector, &Matcher),
) -> Result<Sweep, i32> {
    let started = Instant::now();
    let Setup {
        rules,
        scenarios,
        baseline,
        config,
    } = setup(
        &args.packs,
        args.story.config.as_deref(),
        args.story.baseline.as_deref(),
    )?;
    let (since, until) = match (
        args.since.as_deref().map(parse_time_bound).transpose(),
        args.until.as_deref().map(parse_time_bound).transpose(),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("logtriage: {e}");
            return Err(EXIT_ERROR);
        }
    };
    let clock = match crate::finding::clock::Clock::new(
        args.tz.as_deref(),
        args.story.clock_offset.clone(),
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logtriage: {e}");
            return Err(EXIT_ERROR);
        }
    };
    if args.paths.is_empty() && io::stdin().is_terminal() {
        eprintln!(
            "logtriage: no input: give files or folders to scan, or pipe logs on stdin (see --help)"
        );
        return Err(EXIT_ERROR);
    }
    let mut walked = match source::walk(&args.paths, &args.globs, args.follow) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("logtriage: {e}");
            return Err(EXIT_ERROR);
        }
    };
    let member_globs = match source::walk::member_globs(&args.globs) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("logtriage: {e}");
            return Err(EXIT_ERROR);
        }
    };
    // Stdin can be read once.
    let mut seen_stdin = false;
    walked
        .inputs
        .retain(|i| *i != Input::Stdin || !std::mem::replace(&mut seen_stdin, true));

    // Anchors rare in these logs make the literal pass faster (only speed depends on it).
    let sample = source::sample::sample(&walked.inputs);
    let matcher = match Matcher::with_unknown(rules, &sample, args.unknown.into()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("logtriage: {e}");
            return Err(EXIT_ERROR);
        }
    };
    drop(sample);
    // The progress bar's total costs a `stat` per file: only taken when the bar can show.
    let show_progress = !args.quiet && io::stderr().is_terminal();
    let total: u64 = if show_progress {
        walked
            .inputs
            .iter()
            .filter_map(|i| match i {
                Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
                Input::Stdin => None,
            })
            .sum()
    } else {
        0
    };
    let progress = report::progress::Progress::start(total, show_progress);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let opts = scan::Options {
        threads,
        max_evidence: args.max_evidence,
        keep_occurrences: args.format == Format::Ndjson,
        since,
        until,
        split_bytes: args.split_bytes,
        progress: Some(progress.bytes.clone()),
        // Accumulo's events written to both X.log and X.debug.log count once.
        counted_elsewhere: scan::copies::plan(&walked.inputs),
        member_globs,
        stdin_name: args.stdin_name.clone(),
    };
    // The hosts of the files given are known before the scan (folders are weighed against
    // their siblings); archive members and YARN banners add theirs as they are read.
    let mut hosts = crate::source::hosts::Hosts::new(args.host.clone());
    for input in &walked.inputs {
        if let Input::File(p) = input {
            hosts.add(&crate::source::origin::classify_path(&p.display().to_string()).1);
        }
    }
    // A sweep of this machine's own logs names this machine; a bundle never does.
    let own_host = if args.host.is_none()
        && walked
            .inputs
            .iter()
            .any(|i| matches!(i, Input::File(p) if source::hosts::is_own_log(p)))
    {
        source::hosts::this_machine()
    } else {
        None
    };
    if let Some(h) = &own_host {
        hosts.add_given(h);
    }
    let inputs_display: Vec<String> = if args.paths.is_empty() {
        vec!["-".to_string()]
    } else {
        args.paths.iter().map(|p| p.display().to_string()).collect()
    };
    let mut collector = Collector::new(
        inputs_display,
        matcher.rules.len(),
        walked.errors.clone(),
        walked.skipped.clone(),
        args.max_evidence,
        hosts,
        config,
    );
    if args.format == crate::cli::Format::Json {
        collector.keep_streams();
    }
    let min = args.story.min_severity;
    scan::scan_all(&walked.inputs, &matcher, &opts, |mut r| {
        if let Some(h) = &own_host
            && r.clue.fallback.is_none()
            && !r.path.contains(source::archive::MEMBER_SEPARATOR)
            && source::hosts::is_own_log(std::path::Path::new(&r.path))
        {
            r.clue.fallback = Some(h.clone());
        }
        each(&mut r, &mut collector, &matcher);
        collector.add(&mut r);
    });
    progress.finish();
    let mut summary = collector.finish(
        &matcher.rules,
        min,
        crate::report::Story {
            incident_gap_ms: args.story.incident_gap,
            silence_ms: args.story.silence,
            clock,
            scenarios: &scenarios,
        },
        started.elapsed().as_millis(),
    );
    summary.baseline = baseline
        .as_ref()
        .map(|b| crate::report::baseline::compare(&summary, b));
    // What could not be read is said on stderr, in every format: a report sent to a file
    // must not hide it from the terminal.
    for p in &summary.errors {
        eprintln!("logtriage: {}: {}", p.path, p.message);
    }
    Ok(Sweep { summary, matcher })
}

pub fn scan(args: ScanArgs) -> i32 {
    let color = match args.story.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    let stdout = io::stdout();
    // Terminal text goes through anstream (colour, NO_COLOR); JSON and NDJSON hold no escape
    // codes and go out in 64 KiB writes (NDJSON is flushed after each file).
    let mut out: Box<dyn Write> = match args.format {
        Format::Human | Format::Timeline => {
            Box::new(anstream::AutoStream::new(stdout.lock(), color))
        }
        Format::Json | Format::Ndjson | Format::Markdown | Format::Html => {
            Box::new(io::BufWriter::with_capacity(64 * 1024, stdout.lock()))
        }
    };
    let min = args.story.min_severity;
    let format = args.format;
    // `sweep` says what is wrong with --tz and --clock-offset before any line is written.
    let ndjson_clock =
        crate::finding::clock::Clock::new(args.tz.as_deref(), args.story.clock_offset.clone())
            .unwrap_or_default();
    let swept = sweep(&args, |r, collector, matcher| {
        if format == Format::Ndjson {
            collector.name_host(r, &matcher.rules);
            // Suppressed occurrences are counted in the report, not streamed.
            let (kept, _): (Vec<_>, Vec<_>) = std::mem::take(&mut r.occurrences)
                .into_iter()
                .partition(|o| !collector.suppresses(r, o, &matcher.rules));
            r.occurrences = kept;
            check_io(report::ndjson::write_file(
                &mut out,
                r,
                &matcher.rules,
                min,
                &ndjson_clock,
            ));
        }
    });
    let Sweep { summary, matcher } = match swept {
        Ok(s) => s,
        Err(code) => return code,
    };
    check_io(write_format(&mut out, format, &summary, &matcher.rules));
    check_io(out.flush());
    drop(out);
    exit_code(&summary, &matcher.rules, args.story.fail_on)
}

/// Writes the end-of-sweep report in `format` (NDJSON was written as the streams came).
pub(crate) fn write_format(
    out: &mut dyn Write,
    format: Format,
    summary: &Summary,
    rules: &[crate::rules::Rule],
) -> io::Result<()> {
    match format {
        Format::Human => report::human::write(out, summary, rules),
        Format::Json => report::json::write(out, summary, rules),
        Format::Timeline => report::incidents::write_timeline(out, summary, rules),
        Format::Markdown => report::markdown::write(out, summary, rules),
        Format::Html => report::html::write(out, summary, rules),
        Format::Ndjson => Ok(()),
    }
}

/// The exit code of a sweep (or a merge): 2 when nothing was read or an input could not be,
/// 1 for a finding at or above `fail_on` (only new ones with a baseline), else 0.
pub(crate) fn exit_code(
    summary: &Summary,
    rules: &[crate::rules::Rule],
    fail_on: crate::rules::Severity,
) -> i32 {
    if summary.nothing_scanned() {
        eprintln!(
            "logtriage: nothing was scanned: every input was skipped or could not be read{}",
            if summary.skipped.is_empty() && summary.errors.is_empty() {
                " (no input)"
            } else {
                ""
            }
        );
        return EXIT_ERROR;
    }
    if !summary.errors.is_empty() {
        EXIT_ERROR
    } else if summary.fails_at(rules, fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
