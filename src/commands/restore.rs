//! `git agent restore`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::RestoreArgs;
pub use crate::ops::removal::restore as run;
