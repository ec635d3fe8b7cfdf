//! `git agent restore`: bring back an agent removed with `rm --force`.

use clap::Parser;

use crate::Io;
use crate::cli::{AGENT, Common};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::removal::{RestoreRequest, Restored};

/// Bring back an agent removed with `rm --force`, from its archive.
#[derive(Debug, Parser)]
#[command(name = "git-agent-restore", bin_name = "git agent restore", version)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// The archive to restore [default: the newest refs/agent-archive/NAME/*].
    #[arg(long, value_name = "REF")]
    pub archive: Option<String>,
    /// Where to put the worktree [default: where it was].
    #[arg(long, value_name = "DIR")]
    pub path: Option<std::path::PathBuf>,
}

pub fn run(args: RestoreArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let here = repo::open(&cwd)?;
    crate::ops::sealing::require_key()?;
    if let Some(refusal) = crate::ops::authority::who_may_act(
        &here,
        crate::ops::authority::Action::Restore(&args.name),
    )? {
        refusal.say(io)?;
        return Ok(Outcome::Refused);
    }
    let repo = repo::open_home(&cwd)?;
    let request = RestoreRequest {
        name: args.name,
        archive: args.archive,
        path: args.path,
    };
    let restored =
        crate::ops::removal::restore(&repo, &cwd, &request, &crate::ui::progress::Terminal, io)?;
    match restored {
        Restored::Refused(msg) => {
            writeln!(io.err, "git-agent: {msg}").map_err(Error::io("writing"))?;
            Ok(Outcome::Refused)
        }
        Restored::Done {
            name,
            archive,
            unguarded,
            path,
        } => {
            writeln!(io.err, "restored agent '{name}' from {archive}")
                .map_err(Error::io("writing"))?;
            writeln!(io.out, "{}", path.display()).map_err(Error::io("writing"))?;
            // The agent is back; like `add`, a failed setup is a warning
            // and exit 1, not an undone restore.
            match unguarded {
                None => Ok(Outcome::Done),
                Some(why) => {
                    writeln!(
                        io.err,
                        "warning: the guardrails or the brief of agent '{name}' were not written: {why}; fix that, then run `git agent guard {name}`"
                    )
                    .map_err(Error::io("writing"))?;
                    Ok(Outcome::Refused)
                }
            }
        }
    }
}
