//! Fuzz target `rule_pack`: the rule-pack loader on arbitrary UTF-8 text.
//!
//! The bytes are made text the way `rules::load` reads a user's pack file
//! (`String::from_utf8_lossy`: invalid bytes become U+FFFD, so multi-byte characters are common
//! rather than rare). The text goes to `parse_pack("fuzz.toml", text)`. On `Ok`, a `Matcher` is
//! built from the rules and the rules' own examples are scanned with it (as `logtriage rules
//! test` does), which runs the pack's regexes, levels and `group_by` fields on text the pack
//! chose.
//!
//! Invariants checked: every error names the file and a line inside the text; every rule's line
//! is inside the text; a pack that validates compiles into a matcher.

#![no_main]

use libfuzzer_sys::fuzz_target;
use logtriage::finding::Origin;
use logtriage::matching::Matcher;
use logtriage::rules::pack::parse_pack;
use logtriage::scan::block::{StreamContext, scan_reader};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;
    let lines = text.bytes().filter(|&c| c == b'\n').count() + 1;
    match parse_pack("fuzz.toml", text) {
        Err(errors) => {
            assert!(!errors.is_empty(), "an error result with no error");
            for e in &errors {
                assert_eq!(e.file, "fuzz.toml");
                assert!(e.line <= lines, "error line {} past the text: {e}", e.line);
                let _ = e.to_string();
            }
        }
        Ok(rules) => {
            for r in &rules {
                assert!(
                    r.line >= 1 && r.line <= lines,
                    "rule line {} outside the text",
                    r.line
                );
                assert!(
                    !r.literals.is_empty(),
                    "a rule with no literal was accepted"
                );
            }
            let examples: Vec<String> = rules
                .iter()
                .flat_map(|r| r.examples.iter().map(|e| e.text.clone()))
                .collect();
            let matcher = match Matcher::new(rules) {
                Ok(m) => m,
                Err(e) => panic!("a valid pack does not compile into a matcher: {e}"),
            };
            let origin = Origin::default();
            let ctx = StreamContext::all_rules(&matcher, &origin);
            for text in &examples {
                let mut n = 0usize;
                scan_reader(&mut text.as_bytes(), &ctx, &mut |h| {
                    let _ = h.occurrence();
                    n += 1;
                });
            }
        }
    }
});

