//! Man pages and completions come from the clap definitions (`logtriage man`, `logtriage
//! completions SHELL`): the pages render in `man`, the bash script completes subcommands and
//! options in a real bash, and every subcommand's --help ends with examples that parse.

use std::process::Command as Process;

use assert_cmd::Command;
use clap::Parser;

const SUBCOMMANDS: [&str; 13] = [
    "scan",
    "check",
    "schema",
    "rules",
    "explain",
    "tail",
    "merge",
    "report",
    "completions",
    "man",
    "rules list",
    "rules test",
    "rules suggest",
];

fn logtriage(args: &[&str]) -> String {
    let out = Command::cargo_bin("logtriage")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_subcommand_has_a_man_page_that_man_renders() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    logtriage(&["man", "--out", &d]);
    for sub in SUBCOMMANDS {
        let page = dir
            .path()
            .join(format!("logtriage-{}.1", sub.replace(' ', "-")));
        assert!(page.is_file(), "no page {}", page.display());
        let Ok(out) = Process::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANWIDTH", "100")
            .output()
        else {
            println!("skipped rendering: man not installed");
            continue;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("NAME"),
            "{sub}: {text}"
        );
        // The options and the examples of --help are in the page.
        assert!(text.contains("OPTIONS"), "{sub}: {text}");
        if sub != "rules" {
            assert!(text.contains("Examples:"), "{sub}: {text}");
        }
    }
    // On stdout: the main page, naming the subcommands.
    let main = logtriage(&["man"]);
    assert!(
        main.starts_with(".ie") || main.contains(".TH logtriage"),
        "{}",
        &main[..200]
    );
    for sub in ["scan", "tail", "merge", "report"] {
        assert!(main.contains(sub), "{sub}");
    }
}

/// What bash's completion of `words` (the last one being completed) offers.
fn bash_complete(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let program = format!(
        "source {}\nCOMP_WORDS=({line})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\n_logtriage logtriage '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = Process::new("bash")
        .arg("-c")
        .arg(program)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_bash_completion_loads_and_completes_subcommands_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("logtriage.bash");
    std::fs::write(&script, logtriage(&["completions", "bash"])).unwrap();
    let registered = Process::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p logtriage",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&registered.stdout).contains("_logtriage"),
        "{}",
        String::from_utf8_lossy(&registered.stderr)
    );
    let subs = bash_complete(&script, &["logtriage", "me"]);
    assert_eq!(subs, ["merge"], "{subs:?}");
    let opts = bash_complete(&script, &["logtriage", "scan", "--for"]);
    assert_eq!(opts, ["--format"], "{opts:?}");
    let formats = bash_complete(&script, &["logtriage", "scan", "--format", "ma"]);
    assert_eq!(formats, ["markdown"], "{formats:?}");
}

#[test]
fn zsh_and_fish_scripts_are_written_and_fish_reads_its_own() {
    let zsh = logtriage(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef logtriage"), "{}", &zsh[..80]);
    let fish = logtriage(&["completions", "fish"]);
    assert!(fish.contains("complete -c logtriage"));
    match Process::new("fish")
        .arg("--no-execute")
        .arg("-c")
        .arg(&fish)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => println!("skipped checking the fish script: fish not installed"),
    }
    match Process::new("zsh").arg("-n").arg("-c").arg(&zsh).output() {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => println!("skipped checking the zsh script: zsh not installed"),
    }
}

/// Splits an example the way a shell would for these (words, 'quoted words'), up to a
/// redirection or pipe.
fn words(example: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in example.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            '>' | '|' if !quoted => break,
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

#[test]
fn every_subcommands_help_ends_with_examples_that_parse() {
    for sub in SUBCOMMANDS {
        let mut args: Vec<&str> = sub.split(' ').collect();
        args.push("--help");
        let help = logtriage(&args);
        let tail = &help[help
            .rfind("Examples:")
            .unwrap_or_else(|| panic!("{sub}: {help}"))..];
        let examples: Vec<&str> = tail
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| l.starts_with("logtriage "))
            .collect();
        assert!(examples.len() >= 2, "{sub}: {tail}");
        for e in examples {
            let w = words(e);
            if let Err(err) = logtriage::cli::Cli::try_parse_from(&w) {
                panic!("{sub}: the example {e:?} does not parse: {err}");
            }
        }
    }
}
