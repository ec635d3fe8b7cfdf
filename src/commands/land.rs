//! `git agent land`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::LandArgs;
pub use crate::ops::landing::run;
