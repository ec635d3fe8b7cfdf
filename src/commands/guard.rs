//! `git agent guard NAME`: rewrite an agent's guardrails, the permission
//! files of the coding agents people run, from its scope (see
//! `ops::guardrails`).

use clap::Parser;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::guardrails::{self, Tool};

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
    pub guardrails: Vec<Choice>,
}

/// A `--guardrails` value: `none`, or one tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    /// No guardrails (removes ours).
    None,
    Claude,
    Codex,
    Cursor,
    Gemini,
}

/// The tools a `--guardrails` list chooses; `none` alone chooses none, and
/// with a tool it is a mistake.
pub fn tools(choices: &[Choice]) -> Result<Vec<Tool>> {
    let mut tools: Vec<Tool> = choices
        .iter()
        .filter_map(|c| match c {
            Choice::None => None,
            Choice::Claude => Some(Tool::Claude),
            Choice::Codex => Some(Tool::Codex),
            Choice::Cursor => Some(Tool::Cursor),
            Choice::Gemini => Some(Tool::Gemini),
        })
        .collect();
    if choices.contains(&Choice::None) && !tools.is_empty() {
        return Err(Error::usage(
            "--guardrails none cannot go with a tool",
            "give `none` alone, or a list of tools: claude,codex,cursor,gemini",
        ));
    }
    tools.sort();
    tools.dedup();
    Ok(tools)
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
        tools(&args.guardrails)?
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
