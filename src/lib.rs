//! logtriage: finds known failures in the logs of a Hadoop-stack platform (HDFS, YARN, Spark,
//! ZooKeeper, Accumulo, PostgreSQL, the application) and says what to do next.
//!
//! Data flows through the stages, one module each: `source` (walk, open, decompress) ->
//! `event` (layouts, multi-line framing, timestamps) -> `matching` (one compiled rule set) ->
//! `finding` (fingerprints, aggregation, thresholds, triage) -> `report` (human, JSON, NDJSON).
//! `scan` drives the batch engine; `rules` loads the packs; `commands` wires the stages for each
//! subcommand. The library exists so benchmarks and tests can drive the stages directly; the
//! binary (`main.rs`) only parses arguments.

pub mod cli;
pub mod commands;
pub mod config;
pub mod event;
pub mod finding;
pub mod follow;
pub mod matching;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
