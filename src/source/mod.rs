//! Sources: where bytes come from. `walk` turns PATH arguments, folders and globs into inputs;
//! `open` opens one (file or stdin) and decompresses gzip by its magic bytes.

pub mod open;
pub mod walk;

pub use walk::{Input, Problem, walk};
