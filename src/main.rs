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
    let cli = cli::Cli::parse();
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
        cli::Command::Report {
            path,
            format,
            color,
            packs,
        } => commands::report(&path, format, color, &packs),
    };
    std::process::exit(code);
}
