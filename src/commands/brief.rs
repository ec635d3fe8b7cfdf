//! `git agent brief NAME`: what to tell an agent at the start of its
//! session (see `ops::brief`).

use clap::Parser;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;

/// Print what an agent should be told at the start of its session: its task, scope, protected paths and the rules it works by.
#[derive(Debug, Parser)]
#[command(name = "git-agent-brief", bin_name = "git agent brief", version)]
pub struct BriefArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = crate::cli::AGENT)]
    pub name: String,
    /// Print {"version": 1, "agent", "task", "scope", "protected", "rules", "check", ...} instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: BriefArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    let brief = crate::ops::brief::of(&repo, &args.name)?;
    let text = if args.json {
        serde_json::to_string_pretty(&brief).expect("serialises") + "\n"
    } else {
        brief.text()
    };
    write!(io.out, "{text}").map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}
