//! Turning the user's PATH arguments into a list of inputs: files as given, folders walked
//! recursively (hidden files included, no ignore files honoured: logs live in odd places),
//! `-g/--glob` filters with `!` excludes as in ripgrep, `-` for stdin. Symbolic links are
//! followed to files; to folders only with `-L/--follow`. FIFOs, sockets and devices found in
//! folders are skipped, never opened (opening one could block). The order is deterministic.

use std::path::{Path, PathBuf};

/// One thing to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// A path that was not read, and why.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

#[derive(Default, Debug)]
pub struct Walked {
    pub inputs: Vec<Input>,
    /// Could not be read (exit code 2).
    pub errors: Vec<Problem>,
    /// Left out on purpose (not regular files).
    pub skipped: Vec<Problem>,
}

/// Names under which archives usually travel. Inside folders, `-g` filters the members of an
/// archive, not the archive: these names pass the walk's globs (unless a `!` glob excludes them).
const ARCHIVE_GLOBS: &[&str] = &[
    "*.tar", "*.tar.*", "*.tgz", "*.txz", "*.tbz", "*.tbz2", "*.tzst", "*.zip",
];

fn overrides(root: &Path, globs: &[String]) -> Result<ignore::overrides::Override, String> {
    let mut b = ignore::overrides::OverrideBuilder::new(root);
    // First, so that the user's own globs (later ones win) can still exclude an archive.
    if globs.iter().any(|g| !g.starts_with('!')) {
        for g in ARCHIVE_GLOBS {
            b.add(g).map_err(|e| format!("bad --glob {g:?}: {e}"))?;
        }
    }
    for g in globs {
        b.add(g).map_err(|e| format!("bad --glob {g:?}: {e}"))?;
    }
    b.build().map_err(|e| format!("bad --glob: {e}"))
}

/// The `-g` globs as they apply to archive members' paths (`host2/hadoop/x.log`); None when
/// there are none.
pub fn member_globs(globs: &[String]) -> Result<Option<ignore::overrides::Override>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = ignore::overrides::OverrideBuilder::new("");
    for g in globs {
        b.add(g).map_err(|e| format!("bad --glob {g:?}: {e}"))?;
    }
    b.build().map(Some).map_err(|e| format!("bad --glob: {e}"))
}

/// Walks the PATH arguments. An error in a glob is a usage error (`Err`).
pub fn walk(paths: &[PathBuf], globs: &[String], follow: bool) -> Result<Walked, String> {
    let mut out = Walked::default();
    let args: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        paths.to_vec()
    };
    for arg in &args {
        if arg.as_os_str() == "-" {
            out.inputs.push(Input::Stdin);
            continue;
        }
        let meta = match std::fs::metadata(arg) {
            Ok(m) => m,
            Err(e) => {
                let what = if std::fs::symlink_metadata(arg).is_ok() {
                    "dangling symbolic link"
                } else {
                    "cannot read"
                };
                out.errors.push(Problem {
                    path: arg.display().to_string(),
                    message: format!("{what}: {e}"),
                });
                continue;
            }
        };
        if !meta.is_dir() {
            // Given by name: read it whatever it is (a FIFO from `<(zcat ...)` included).
            out.inputs.push(Input::File(arg.clone()));
            continue;
        }
        let ov = overrides(arg, globs)?;
        let walker = ignore::WalkBuilder::new(arg)
            .standard_filters(false)
            .hidden(false)
            .follow_links(follow)
            .overrides(ov)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = error_path(&e).unwrap_or_else(|| arg.display().to_string());
                    out.errors.push(Problem {
                        path,
                        message: error_message(&e),
                    });
                    continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                continue;
            };
            let path = entry.path().to_path_buf();
            if ft.is_dir() {
                continue;
            }
            if ft.is_symlink() {
                // Not following links: a link to a file is read, a link to a folder is not walked.
                match std::fs::metadata(&path) {
                    Ok(m) if m.is_file() => out.inputs.push(Input::File(path)),
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => out.skipped.push(Problem {
                        path: path.display().to_string(),
                        message: "not a regular file (FIFO, socket or device): skipped".into(),
                    }),
                    Err(e) => out.errors.push(Problem {
                        path: path.display().to_string(),
                        message: format!("dangling symbolic link: {e}"),
                    }),
                }
                continue;
            }
            if ft.is_file() {
                out.inputs.push(Input::File(path));
            } else {
                out.skipped.push(Problem {
                    path: path.display().to_string(),
                    message: "not a regular file (FIFO, socket or device): skipped".into(),
                });
            }
        }
    }
    Ok(out)
}

fn error_path(e: &ignore::Error) -> Option<String> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.display().to_string()),
        ignore::Error::WithDepth { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.display().to_string()),
        ignore::Error::Partial(errs) => errs.first().and_then(error_path),
        _ => None,
    }
}

fn error_message(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            error_message(err)
        }
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop (back to {})", ancestor.display())
        }
        other => other.to_string(),
    }
}
