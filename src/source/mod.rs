//! Sources: where bytes come from. `walk` turns PATH arguments, folders and globs into inputs;
//! `open` opens one (file or stdin) and decompresses gzip by its magic bytes; `sample` reads
//! the heads of the first files to tune the matcher.

pub mod open;
pub mod sample;
pub mod walk;

pub use walk::{Input, Problem, walk};
