//! `logtriage completions SHELL`, `logtriage man` and `logtriage schema`: the shell completion scripts and the man
//! pages, generated from the clap definitions themselves (`clap_complete`, `clap_mangen`), so
//! they never drift from `--help`; the JSON Schemas, from the report's own types (`schemars`).

use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory;

use super::{EXIT_ERROR, EXIT_OK, check_io};

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = crate::cli::Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "logtriage", &mut out);
    check_io(out.flush());
    EXIT_OK
}

/// logtriage.1 on stdout, or every page (one per subcommand too) written to `out`.
pub fn man(out: Option<&Path>) -> i32 {
    let cmd = crate::cli::Cli::command();
    match out {
        None => {
            let mut stdout = io::stdout().lock();
            check_io(clap_mangen::Man::new(cmd).render(&mut stdout));
            check_io(stdout.flush());
            EXIT_OK
        }
        Some(dir) => {
            let written =
                std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir));
            match written {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    eprintln!(
                        "logtriage: {}: cannot write the man pages: {e}",
                        dir.display()
                    );
                    EXIT_ERROR
                }
            }
        }
    }
}

pub fn schema(of: crate::cli::SchemaOf) -> i32 {
    let schema = match of {
        crate::cli::SchemaOf::Report => crate::report::json::schema(),
        crate::cli::SchemaOf::Ndjson => crate::report::ndjson::schema(),
    };
    let mut out = io::stdout().lock();
    check_io(serde_json::to_writer_pretty(&mut out, &schema).map_err(io::Error::other));
    check_io(writeln!(out));
    check_io(out.flush());
    EXIT_OK
}
