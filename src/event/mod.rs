//! Events: the unit logtriage reports. An event is a header line (timestamp, level) plus the
//! continuation lines that follow it (stack traces, causes, PostgreSQL DETAIL/HINT lines).
//! This stage knows the layouts of the stack (`layout`), their timestamps (`time`) and levels
//! (`level`), and frames events inside a buffer of lines (`frame`).

pub mod frame;
pub mod layout;
pub mod level;
pub mod time;

pub use layout::Layout;
pub use level::Level;
pub use time::Stamp;
