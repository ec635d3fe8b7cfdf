//! `git agent rm`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::RmArgs;
pub use crate::ops::removal::run;
