//! `logtriage rules suggest`: sweeps like `scan`, then prints a rule pack with one drafted
//! rule per unknown error template (`rules::suggest`), each checked against its own examples.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::{EXIT_OK, check_io, example_fires, sweep};
use crate::cli::SuggestArgs;
use crate::matching::{Matcher, Occurrence};
use crate::rules::{pack::parse_pack, suggest};

pub fn rules_suggest(args: SuggestArgs) -> i32 {
    let swept = match sweep(&args.scan, |_, _, _| {}) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let s = &swept.summary;
    let wanted = |id: &str| args.templates.is_empty() || args.templates.iter().any(|t| t == id);
    let chosen: Vec<_> = s
        .unknown
        .templates
        .iter()
        .filter(|u| u.count >= args.min_count && wanted(&u.id))
        .collect();
    let mut out = io::stdout().lock();
    check_io(writeln!(
        out,
        "# Drafted by `logtriage rules suggest` from {} unknown error template{} ({} in the sweep).\n\
         # Review each rule: its severity, title and the runbook's TODO step. Check it with\n\
         #   logtriage rules test --rules THIS_FILE\n\
         # and use it with `logtriage scan --rules THIS_FILE ...`.\n",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" },
        s.unknown.templates.len()
    ));
    let mut taken: BTreeSet<String> = swept.matcher.rules.iter().map(|r| r.id.clone()).collect();
    for u in &chosen {
        // Real near misses: events of the other templates in the same files.
        let files: BTreeSet<u32> = u.files.iter().copied().collect();
        let near: Vec<(&str, &Occurrence)> = s
            .unknown
            .templates
            .iter()
            .filter(|o| o.id != u.id)
            .flat_map(|o| o.evidence.iter())
            .filter(|(f, _)| files.contains(f))
            .map(|(f, o)| (s.paths[*f as usize].as_str(), o))
            .collect();
        let draft = match suggest::draft(u, &s.paths, &near, &mut taken) {
            Ok(d) => d,
            Err(why) => {
                check_io(writeln!(
                    out,
                    "# template {} ({}x) left out: {why}\n#   {}\n",
                    u.id, u.count, u.text
                ));
                continue;
            }
        };
        match check(&draft.toml) {
            Ok(()) => check_io(writeln!(out, "{}", draft.toml)),
            Err(why) => check_io(writeln!(
                out,
                "# template {} ({}x) left out: its draft {} fails its examples ({why})\n#   {}\n",
                u.id, u.count, draft.id, u.text
            )),
        }
    }
    EXIT_OK
}

/// Does a drafted rule parse and pass its own examples?
fn check(toml: &str) -> Result<(), String> {
    let rules = parse_pack("draft", toml).map_err(|errs| {
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let matcher = Matcher::new(rules)?;
    for (ri, r) in matcher.rules.iter().enumerate() {
        for ex in &r.examples {
            if example_fires(&matcher, ri as u32, &ex.text, ex.path.as_deref()) != ex.expect_match {
                return Err(format!(
                    "its {} example",
                    if ex.expect_match { "match" } else { "no-match" }
                ));
            }
        }
    }
    Ok(())
}
