//! Sources: where bytes come from and whom they belong to. `walk` turns PATH arguments,
//! folders and globs into inputs; `open` opens one (file or stdin) and decompresses it by its
//! magic bytes (gzip, xz, bzip2, zstd); `archive` reads the members of tar and zip archives as
//! streams of their own; `yarn` splits `yarn logs` output into its containers' log sections;
//! `origin` decides each stream's service, container and host clues, and `hosts` names each
//! machine once across a sweep; `sample` reads the heads of the first files to tune the matcher.

pub mod archive;
pub mod hosts;
pub mod open;
pub mod origin;
pub mod sample;
pub mod walk;
pub mod yarn;

pub use origin::{HostClue, Origin};
pub use walk::{Input, Problem, walk};
