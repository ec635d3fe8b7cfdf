//! `git agent doctor`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::DoctorArgs;
pub use crate::ops::health::run;
