//! `logtriage tail`: loads the rules, resumes from `--state`, and runs the loop — wait for a
//! file-system event, a signal or the next deadline (an event to complete, a cooldown ending, a
//! checkpoint, the periodic full check), take one follower step, print what it found. On
//! SIGINT/SIGTERM: a last step, pending events completed, the state written, a summary on
//! stderr, exit 0. A closed stdout ends it quietly.

use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::alert::Alerts;
use super::checkpoint::{self, State};
use super::output::Reporter;
use super::watch::{Wake, Watch};
use super::{Config, Emitted, Follower};
use crate::cli::{ColorWhen, TailArgs, TailFormat};

const EXIT_OK: i32 = 0;
const EXIT_ERROR: i32 = 2;
/// The full check (every file and folder) when file-system events are used.
const SAFETY_CHECK: Duration = Duration::from_secs(1);
/// Checkpoints are written at least this often (when something changed).
const SAVE_EVERY: Duration = Duration::from_secs(1);

enum Stop {
    Quiet,
    Error(i32),
}

fn write_all(
    out: &mut dyn Write,
    reporter: &mut Reporter,
    alerts: &mut Option<Alerts>,
    emitted: &[Emitted],
    now: Instant,
) -> Result<(), Stop> {
    let r = (|| {
        for e in emitted {
            reporter.report(out, e, now)?;
        }
        reporter.tick(out, now)?;
        out.flush()
    })();
    send_alerts(reporter, alerts);
    r.map_err(|e| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::Quiet
        } else {
            eprintln!("logtriage: cannot write output: {e}");
            Stop::Error(EXIT_ERROR)
        }
    })
}

/// Hands what was shown to the webhooks and the command (queued: never waits).
fn send_alerts(reporter: &mut Reporter, alerts: &mut Option<Alerts>) {
    if let Some(a) = alerts {
        for x in reporter.take_alerts() {
            a.send(x);
        }
    }
}

fn save(path: &Path, state: &State, failed: &mut bool) {
    match checkpoint::save(path, state) {
        Ok(()) => *failed = false,
        Err(e) => {
            if !*failed {
                eprintln!(
                    "logtriage: cannot write the state file {}: {e} (will retry)",
                    path.display()
                );
            }
            *failed = true;
        }
    }
}

pub fn run(args: TailArgs) -> i32 {
    let started = Instant::now();
    let matcher = match crate::commands::load_matcher(&args.packs) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let mut ob = ignore::overrides::OverrideBuilder::new("/");
    for g in &args.globs {
        if let Err(e) = ob.add(g) {
            eprintln!("logtriage: bad --glob {g:?}: {e}");
            return EXIT_ERROR;
        }
    }
    let state = match &args.state {
        Some(p) => match checkpoint::load(p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "logtriage: {}: {e}; starting without it (a new one will be written)",
                    p.display()
                );
                None
            }
        },
        None => None,
    };
    let mut alerts = match Alerts::from_args(&args) {
        Ok(a) => a,
        Err(m) => {
            eprintln!("logtriage: {m}");
            return EXIT_ERROR;
        }
    };
    let resuming = state.is_some();
    let nofile = super::limits::raise_nofile();
    let max_open = args
        .max_open
        .unwrap_or_else(|| super::limits::default_budget(nofile.now));
    let mut tallies = super::limits::Tallies::default();
    let mut cfg = Config::new(args.paths.clone());
    cfg.max_open = usize::try_from(max_open).unwrap_or(usize::MAX);
    cfg.hard_max_open =
        usize::try_from(super::limits::hard_budget(nofile.now).max(max_open)).unwrap_or(usize::MAX);
    cfg.globs = args.globs.clone();
    cfg.follow_links = args.follow;
    cfg.from_start = args.from_start;
    cfg.flush_after = args.flush_after;
    let mut follower = Follower::new(&matcher, cfg, state);

    let color = match (args.format, args.color) {
        (TailFormat::Ndjson, _) | (_, ColorWhen::Never) => anstream::ColorChoice::Never,
        (_, ColorWhen::Always) => anstream::ColorChoice::Always,
        (_, ColorWhen::Auto) => anstream::ColorChoice::Auto,
    };
    let mut out = anstream::AutoStream::new(io::stdout().lock(), color);
    let clock = match crate::finding::clock::Clock::new(args.tz.as_deref(), Vec::new()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logtriage: {e}");
            return crate::commands::EXIT_ERROR;
        }
    };
    let mut reporter = Reporter::new(
        &matcher.rules,
        args.format,
        args.min_severity,
        args.cooldown,
    )
    .with_clock(clock);
    if let Some(a) = &alerts {
        reporter = reporter.with_alerts(a.min);
    }

    let (tx, rx) = mpsc::channel::<Wake>();
    match signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ]) {
        Ok(mut signals) => {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                for _ in signals.forever() {
                    n += 1;
                    if n > 1 {
                        // A second Ctrl-C while stopping: stop now.
                        std::process::exit(130);
                    }
                    let _ = tx.send(Wake::Stop);
                }
            });
        }
        Err(e) => eprintln!("logtriage: cannot handle signals: {e}"),
    }
    let mut watch = if args.poll.is_none() {
        match Watch::new(tx.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!(
                    "logtriage: no file-system events ({e}): checking every second instead (see --poll)"
                );
                None
            }
        }
    } else {
        None
    };
    drop(tx);
    let rescan = args
        .poll
        .unwrap_or(SAFETY_CHECK)
        .max(Duration::from_millis(10));

    let mut now = Instant::now();
    let emitted = follower.poll_once(now, true);
    for w in follower.take_warnings() {
        eprintln!("logtriage: warning: {w}");
    }
    for w in tallies.add(follower.take_tallies(), now) {
        eprintln!("logtriage: warning: {w}");
    }
    if let Some(w) = &mut watch {
        for m in w.sync(&follower.watch_targets()) {
            eprintln!("logtriage: warning: {m}");
        }
    }
    let how = match args.poll {
        Some(p) => format!("checked every {}", super::human_span(p)),
        None if watch.is_some() => "on file-system events".to_string(),
        None => "checked every second".to_string(),
    };
    let n = follower.files_followed();
    eprintln!(
        "logtriage tail: following {n} file{} ({how}{}); Ctrl-C to stop",
        if n == 1 { "" } else { "s" },
        if resuming {
            ", resumed from the state file"
        } else if args.from_start {
            ", from their start"
        } else {
            ", from their end"
        }
    );
    let limit = match &nofile.error {
        Some(e) => format!("open-file limit {} (cannot raise it: {e})", nofile.now),
        None if nofile.now > nofile.before => format!(
            "open-file limit raised from {} to {}",
            nofile.before, nofile.now
        ),
        None => format!("open-file limit {}", nofile.now),
    };
    eprintln!("logtriage tail: {limit}; at most {max_open} files held open at once");
    if let Some(a) = &alerts {
        eprintln!("logtriage tail: alerts: {}", a.describe());
    }
    if let Err(stop) = write_all(&mut out, &mut reporter, &mut alerts, &emitted, now) {
        return match stop {
            Stop::Quiet => EXIT_OK,
            Stop::Error(c) => c,
        };
    }
    let mut save_failed = false;
    let mut last_saved: Option<State> = None;
    if let Some(p) = &args.state {
        let s = follower.checkpoint();
        save(p, &s, &mut save_failed);
        last_saved = Some(s);
    }
    let mut next_rescan = now + rescan;
    let mut next_save = now + SAVE_EVERY;
    loop {
        now = Instant::now();
        let mut deadline = next_rescan;
        if args.state.is_some() {
            deadline = deadline.min(next_save);
        }
        if let Some(t) = follower.next_deadline(now) {
            deadline = deadline.min(t);
        }
        if let Some(t) = reporter.next_deadline() {
            deadline = deadline.min(t);
        }
        let mut structural = false;
        let mut stop = false;
        let mut handle = |w: Wake| match w {
            Wake::Stop => stop = true,
            Wake::Changed { structural: s } => structural |= s,
        };
        match rx.recv_timeout(deadline.saturating_duration_since(now)) {
            Ok(w) => handle(w),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(deadline.saturating_duration_since(now));
            }
        }
        while let Ok(w) = rx.try_recv() {
            handle(w);
        }
        if stop {
            break;
        }
        now = Instant::now();
        let discover = structural || now >= next_rescan;
        if now >= next_rescan {
            next_rescan = now + rescan;
        }
        let emitted = follower.poll_once(now, discover);
        for w in follower.take_warnings() {
            eprintln!("logtriage: warning: {w}");
        }
        for w in tallies.add(follower.take_tallies(), now) {
            eprintln!("logtriage: warning: {w}");
        }
        if discover && let Some(w) = &mut watch {
            for m in w.sync(&follower.watch_targets()) {
                eprintln!("logtriage: warning: {m}");
            }
        }
        if let Err(stop) = write_all(&mut out, &mut reporter, &mut alerts, &emitted, now) {
            return match stop {
                Stop::Quiet => EXIT_OK,
                Stop::Error(c) => c,
            };
        }
        if let Some(p) = &args.state
            && now >= next_save
        {
            next_save = now + SAVE_EVERY;
            let s = follower.checkpoint();
            if last_saved.as_ref().is_none_or(|l| l.files != s.files) || save_failed {
                save(p, &s, &mut save_failed);
                last_saved = Some(s);
            }
        }
    }

    // Stopping: a last look, pending events completed, repeats reported, state written.
    now = Instant::now();
    let emitted = follower.shutdown(now, args.state.is_some());
    for w in follower.take_warnings() {
        eprintln!("logtriage: warning: {w}");
    }
    let written = write_all(&mut out, &mut reporter, &mut alerts, &emitted, now).and_then(|()| {
        let r = reporter.finish(&mut out);
        send_alerts(&mut reporter, &mut alerts);
        r.map_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                Stop::Quiet
            } else {
                Stop::Error(EXIT_ERROR)
            }
        })
    });
    if let Err(stop) = written {
        return match stop {
            Stop::Quiet => EXIT_OK,
            Stop::Error(c) => c,
        };
    }
    if let Some(p) = &args.state {
        save(p, &follower.checkpoint(), &mut save_failed);
    }
    // The queues drain and the commands finish (for a short grace period) before the summary.
    let alerted = alerts.map(Alerts::finish).unwrap_or_default();
    let (parked, parks, reopens) = follower.budget_stats();
    let mut limits = format!("  {limit}; at most {max_open} files held open at once");
    if parks > 0 {
        limits.push_str(&format!(
            " ({parked} closed now, watched by path; {parks} closed, {reopens} reopened)"
        ));
    }
    limits.push('\n');
    limits.push_str(&tallies.summary());
    if let Some(w) = &watch
        && w.unwatched > 0
    {
        limits.push_str(&format!(
            "  {} folders could not be watched for changes: checked every second\n",
            w.unwatched
        ));
    }
    eprint!(
        "{}{limits}{alerted}",
        reporter.summary(
            started.elapsed(),
            follower.files_followed().max(follower.files_seen())
        )
    );
    EXIT_OK
}
