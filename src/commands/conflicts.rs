//! `git agent conflicts`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::ConflictsArgs;
pub use crate::ops::forecast::run;
