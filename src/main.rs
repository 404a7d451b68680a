//! logtriage: finds known failures in the logs of a Hadoop-stack platform (HDFS, YARN, Spark,
//! ZooKeeper, Accumulo, PostgreSQL, the application) and says what to do next.
//!
//! Data flows through the stages, one module each: `source` (walk, open, decompress) ->
//! `event` (layouts, multi-line framing, timestamps) -> `matching` (one compiled rule set) ->
//! `finding` (fingerprints, aggregation, thresholds, triage) -> `report` (human, JSON, NDJSON).
//! This binary parses arguments and hands over to `commands` (see `lib.rs` for the stages).

use clap::Parser;
use logtriage::{cli, commands};

fn main() {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        // A monitoring plugin's usage error is UNKNOWN (3), not clap's 2.
        Err(e) if std::env::args_os().nth(1).is_some_and(|a| a == "check") && e.use_stderr() => {
            std::process::exit(commands::check_usage_error(&e))
        }
        Err(e) => e.exit(),
    };
    let code = match cli.command {
        cli::Command::Scan(args) => commands::scan(args),
        cli::Command::Rules { command } => match command {
            cli::RulesCommand::List { format, packs } => commands::rules_list(format, &packs),
            cli::RulesCommand::Test { packs } => commands::rules_test(&packs),
            cli::RulesCommand::Suggest(args) => commands::rules_suggest(*args),
        },
        cli::Command::Explain { rule_id, packs } => commands::explain(&rule_id, &packs),
        cli::Command::Merge(args) => commands::merge(args),
        cli::Command::Completions { shell } => commands::completions(shell),
        cli::Command::Man { out } => commands::man(out.as_deref()),
        cli::Command::Schema { of } => commands::schema(of),
        cli::Command::Tail(args) => logtriage::follow::command::run(args),
        cli::Command::Check(args) => commands::check(args),
        cli::Command::Report {
            path,
            format,
            color,
            packs,
        } => commands::report(&path, format, color, &packs),
    };
    std::process::exit(code);
}
