//! `git agent add`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::AddArgs;
pub use crate::ops::provision::run;
