//! `git agent scope`.

// The clap definition and the run still live in `cli` and `ops`; they move here.
pub use crate::cli::ScopeArgs;
pub use crate::ops::gate::run;
