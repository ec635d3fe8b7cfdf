//! `git agent add NAME`: branch `agent/NAME` from the base, a worktree for
//! it, and a registry entry with its scope.

use std::path::PathBuf;

use clap::Parser;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::provision::{self, Added, Created, Request};
use crate::policy::manifest::Role;

/// Create an agent: branch agent/NAME from the base, its own worktree, and its scope.
#[derive(Debug, Parser)]
#[command(name = "git-agent-add", bin_name = "git agent add", version)]
pub struct AddArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent's name; its branch is agent/NAME.
    pub name: String,
    /// A path pattern (.gitignore syntax) the agent may change; repeatable.
    #[arg(long = "scope", value_name = "PAT")]
    pub scope: Vec<String>,
    /// A named scope from the policy's `areas`; repeatable.
    #[arg(long = "area", value_name = "AREA")]
    pub area: Vec<String>,
    /// The branch to start from and land into [default: the policy's defaults.base].
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Where to put the worktree [default: the policy's defaults.worktrees, or ../<repo>.agents/NAME].
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// What the agent is asked to do, shown by `git agent list -l`.
    #[arg(long, value_name = "TEXT")]
    pub task: Option<String>,
    /// writer commits its own work; a proposer's work lands only with --accept.
    #[arg(long, value_enum, default_value_t = RoleArg::Writer)]
    pub role: RoleArg,
    /// Make a local clone that borrows this repository's objects (never
    /// copies them) instead of a worktree: for tools that cannot handle
    /// worktrees, and sandboxes that may not write this repository's .git.
    #[arg(long)]
    pub clone: bool,
    /// Check out only the scope and the policy's `context:` patterns, with
    /// git's sparse-checkout (cone mode and a sparse index when every
    /// pattern is a directory) [default: the policy's defaults.sparse].
    #[arg(long, overrides_with = "no_sparse")]
    pub sparse: bool,
    /// Check out every file, whatever the policy's defaults.sparse says.
    #[arg(long, overrides_with = "sparse")]
    pub no_sparse: bool,
    /// The agent tools whose permission files get the scope in the new worktree: none, or a comma-separated list of claude, codex, cursor, gemini [default: all].
    #[arg(long, value_name = "TOOLS", value_delimiter = ',', value_enum)]
    pub guardrails: Vec<crate::cli::GuardrailChoice>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum RoleArg {
    Writer,
    Proposer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Writer => Role::Writer,
            RoleArg::Proposer => Role::Proposer,
        }
    }
}

pub fn run(args: AddArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    if let Some(refusal) =
        crate::ops::authority::who_may_act(&repo, crate::ops::authority::Action::Add(&args.name))?
    {
        refusal.say(io)?;
        return Ok(Outcome::Refused);
    }
    let tools = if args.guardrails.is_empty() {
        crate::ops::guardrails::ALL.to_vec()
    } else {
        crate::cli::guardrail_tools(&args.guardrails)?
    };
    let request = Request {
        name: args.name,
        base: args.base,
        scope: args.scope,
        areas: args.area,
        path: args.path,
        task: args.task,
        role: args.role.into(),
        clone: args.clone,
        sparse: match (args.sparse, args.no_sparse) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
    };
    match provision::add(&repo, &cwd, &request, &crate::ui::progress::Terminal, io)? {
        Added::Refused(msg) => {
            writeln!(io.err, "git-agent: {msg}").map_err(Error::io("writing"))?;
            Ok(Outcome::Refused)
        }
        Added::Created(mut created) => {
            if !guard(&repo, &created, &tools, io)? {
                created.setup_failed = true;
            }
            crate::state::crash::point("add:after-guardrails");
            report(&repo, &created, io)
        }
    }
}

/// What was made, the warnings that go with it, and the worktree's path
/// alone on stdout, so that `cd "$(git agent add NAME)"` works.
fn report(repo: &gix::Repository, created: &Created, io: &mut Io) -> Result<Outcome> {
    let Created { name, branch, .. } = created;
    let w = &mut io.err;
    let res: std::io::Result<()> = (|| {
        writeln!(
            w,
            "created agent '{name}' on branch {branch} from {}",
            created.base
        )?;
        if created.scope.is_empty() {
            writeln!(
                w,
                "warning: agent '{name}' has an empty scope, so every commit it makes will be refused; widen it with `git agent scope add {name} PAT`"
            )?;
        } else {
            writeln!(w, "scope: {}", created.scope.join(", "))?;
        }
        if created.sparse {
            writeln!(
                w,
                "sparse: only the scope and the policy's context are checked out; `git agent scope add {name} PAT` widens both"
            )?;
        }
        Ok(())
    })();
    res.map_err(Error::io("writing"))?;
    // The agent exists by now: a failed look at the others is a warning,
    // not an error that would say the add failed.
    if let Err(e) = warn_overlapping_scopes(repo, name, io) {
        writeln!(
            io.err,
            "warning: the scope of '{name}' was not compared with the other agents': {e}; `git agent conflicts` does it"
        )
        .map_err(Error::io("writing"))?;
    }
    provision::uncommitted_policy_note(repo, &created.base, io)?;
    if !crate::ops::hooks::is_installed(repo)? {
        writeln!(
            io.err,
            "warning: the pre-commit gate is not installed, so commits are not checked yet; run `git agent hooks install`"
        )
        .map_err(Error::io("writing"))?;
    }
    writeln!(io.out, "{}", created.path.display()).map_err(Error::io("writing"))?;
    Ok(if created.setup_failed {
        Outcome::Refused
    } else {
        Outcome::Done
    })
}

/// Write the guardrails into the new worktree. The agent exists by now,
/// so a settings file we cannot merge into is a warning and exit 1, not an
/// undone add: `git agent guard NAME` writes them once it is fixed.
fn guard(
    repo: &gix::Repository,
    created: &Created,
    tools: &[crate::ops::guardrails::Tool],
    io: &mut Io,
) -> Result<bool> {
    match crate::ops::guardrails::provide(repo, &created.name, &created.path, tools) {
        Ok(_) => Ok(true),
        Err(e) => {
            writeln!(
                io.err,
                "warning: the guardrails or the brief of agent '{}' were not written: {e}; fix that, then run `git agent guard {}`",
                created.name, created.name
            )
            .map_err(Error::io("writing"))?;
            Ok(false)
        }
    }
}

/// Warn when the new agent's scope allows files another live agent's scope
/// allows too: they may end up editing the same files.
fn warn_overlapping_scopes(repo: &gix::Repository, name: &str, io: &mut Io) -> Result<()> {
    let agents: Vec<_> = context::registry(repo).load()?.into_values().collect();
    for overlap in crate::ops::forecast::scope_overlaps(repo, &agents, Some(name))? {
        let other = if overlap.left == name {
            &overlap.right
        } else {
            &overlap.left
        };
        writeln!(
            io.err,
            "warning: the scope of '{name}' overlaps agent '{other}''s on {} file{}, e.g. {}; they may change the same files (see `git agent conflicts`)",
            overlap.files,
            if overlap.files == 1 { "" } else { "s" },
            overlap.examples.join(", ")
        )
        .map_err(Error::io("writing"))?;
    }
    Ok(())
}
