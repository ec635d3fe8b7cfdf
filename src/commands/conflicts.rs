//! `git agent conflicts`.

use clap::Parser;

use crate::cli::Common;

pub use crate::ops::forecast::run;

/// Forecast conflicts: every agent merged in memory with its base and with
/// every other agent; files several agents change; overlapping scopes; a
/// landing order. Exits 1 when any conflict is predicted.
#[derive(Debug, Parser)]
#[command(
    name = "git-agent-conflicts",
    bin_name = "git agent conflicts",
    version
)]
pub struct ConflictsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Print {"version": 1, "pairs": [...], ...} (see README).
    #[arg(long)]
    pub json: bool,
}
