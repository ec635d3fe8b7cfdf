//! `git agent rm`: remove an agent, never losing work without keeping a way
//! back (SPEC: Nothing is lost).

use clap::Parser;
use serde::Serialize;

use crate::Io;
use crate::cli::{AGENT, Common};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::removal::{self, Removal};

/// Remove an agent: its worktree, branch and registry entry. Refuses when
/// work would be lost; --force archives that work first.
#[derive(Debug, Parser)]
#[command(name = "git-agent-rm", bin_name = "git agent rm", version)]
pub struct RmArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// Remove even with unlanded commits or uncommitted or untracked files,
    /// after archiving them under refs/agent-archive/NAME/.
    #[arg(long)]
    pub force: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Json<'a> {
    version: u32,
    #[serde(flatten)]
    removal: &'a Removal,
}

pub fn run(args: RmArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let here = repo::open(&cwd)?;
    if let Some(refusal) = crate::ops::authority::who_may_act(
        &here,
        crate::ops::authority::Action::Remove(&args.name),
    )? {
        refusal.render(io, args.json)?;
        return Ok(Outcome::Refused);
    }
    let repo = repo::open_home(&cwd)?;
    let registry = context::registry(&repo);
    let agents = registry.load()?;
    let Some(agent) = agents.get(&args.name).cloned() else {
        return Err(crate::ops::gate::unknown_agent(&args.name, &agents, None));
    };
    let removal = removal::removal_showing(
        &repo,
        &agent,
        args.force,
        &cwd,
        &crate::ui::progress::Terminal,
    )?;
    if args.json {
        let text = serde_json::to_string_pretty(&Json {
            version: 1,
            removal: &removal,
        })
        .expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
    } else {
        removal.render(io, &repo)?;
    }
    Ok(removal.outcome())
}
