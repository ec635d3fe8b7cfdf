//! `git agent guard NAME`: rewrite an agent's guardrails, the permission
//! files of the coding agents people run, from its scope (see
//! `ops::guardrails`).

use clap::Parser;

use crate::Io;
use crate::cli::{Common, GuardrailChoice, guardrail_tools};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::guardrails;

/// Write an agent's scope into the permission files of Claude Code, Codex, Cursor and Gemini in its worktree, replacing what git-agent wrote there before.
#[derive(Debug, Parser)]
#[command(name = "git-agent-guard", bin_name = "git agent guard", version)]
pub struct GuardArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = crate::cli::AGENT)]
    pub name: String,
    /// Which tools: none, or a comma-separated list of claude, codex, cursor, gemini [default: those written before, else all].
    #[arg(long, value_name = "TOOLS", value_delimiter = ',', value_enum)]
    pub guardrails: Vec<GuardrailChoice>,
}

pub fn run(args: GuardArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    let (rules, agent) = guardrails::rules_of(&repo, &args.name)?;
    let git_dir = guardrails::git_dir_of(&agent.path)?;
    let chosen = if args.guardrails.is_empty() {
        match guardrails::written_tools(&git_dir)? {
            t if t.is_empty() => guardrails::ALL.to_vec(),
            t => t,
        }
    } else {
        guardrail_tools(&args.guardrails)?
    };
    let written = guardrails::write(&agent.path, &git_dir, &rules, &chosen)?;
    for path in &written {
        writeln!(io.out, "{}", path.display()).map_err(Error::io("writing"))?;
    }
    if written.is_empty() {
        writeln!(io.err, "no guardrails for agent '{}'", args.name)
            .map_err(Error::io("writing"))?;
    }
    Ok(Outcome::Done)
}
