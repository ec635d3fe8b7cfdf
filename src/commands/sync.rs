//! `git agent sync`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::SyncArgs;
pub use crate::ops::syncing::run;
