//! `git agent hooks`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::HooksArgs;
pub use crate::ops::hooks::run;
