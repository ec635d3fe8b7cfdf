//! `git agent init`: a commented starter `.git-agent.yaml`, and the gate.

use clap::Parser;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::policy::manifest::{MANIFEST_FILE, STARTER};

/// Write a commented starter .git-agent.yaml and install the pre-commit gate.
#[derive(Debug, Parser)]
#[command(name = "git-agent-init", bin_name = "git agent init", version)]
pub struct InitArgs {
    #[command(flatten)]
    pub common: Common,
    /// The branch agents start from and land into [default: the current branch].
    #[arg(long, value_name = "BRANCH")]
    pub base: Option<String>,
    /// Overwrite an existing .git-agent.yaml in the working tree.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: InitArgs, io: &mut Io) -> Result<Outcome> {
    let repo = repo::open(&args.common.absolute_dir()?)?;
    if let Some(refusal) =
        crate::ops::authority::who_may_act(&repo, crate::ops::authority::Action::Init)?
    {
        refusal.say(io)?;
        return Ok(Outcome::Refused);
    }
    let Some(workdir) = repo.workdir().map(ToOwned::to_owned) else {
        return Err(Error::usage(
            "init needs a worktree, and this repository is bare",
            "run it in a clone with a worktree and push the committed .git-agent.yaml",
        ));
    };
    let base = match args.base {
        Some(b) => b,
        None => repo::current_branch(&repo).map_or_else(|| repo::default_base(&repo), Ok)?,
    };
    let path = workdir.join(MANIFEST_FILE);
    if path.exists() && !args.force {
        writeln!(
            io.out,
            "{MANIFEST_FILE} already exists; left as it is (--force overwrites it)"
        )
        .map_err(Error::io("writing"))?;
    } else {
        let text = STARTER.replace("base: BASE", &format!("base: {base}"));
        std::fs::write(&path, text).map_err(Error::io(format!("writing {}", path.display())))?;
        writeln!(io.out, "wrote {}", path.display()).map_err(Error::io("writing"))?;
    }
    crate::ops::hooks::install(&repo, io)?;
    crate::ops::provision::uncommitted_policy_note(&repo, &base, io)?;
    Ok(Outcome::Done)
}
