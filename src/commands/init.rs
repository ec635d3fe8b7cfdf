//! `git agent init`: a commented starter `.git-agent.yaml`, and the gate.

use crate::Io;
pub use crate::cli::InitArgs;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::policy::manifest::{MANIFEST_FILE, STARTER};

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
    uncommitted_policy_note(&repo, &base, io)?;
    Ok(Outcome::Done)
}

/// Say so when the working copy's `.git-agent.yaml` is not what is
/// committed on the base: only the committed one counts.
pub fn uncommitted_policy_note(repo: &gix::Repository, base: &str, io: &mut Io) -> Result<()> {
    let Some(workdir) = repo::main_workdir(repo) else {
        return Ok(());
    };
    let Ok(on_disk) = std::fs::read_to_string(workdir.join(MANIFEST_FILE)) else {
        return Ok(());
    };
    let committed = match repo::branch_tip(repo, base)? {
        Some(tip) => repo::committed_manifest_text(repo, tip)?,
        None => None,
    };
    if committed.as_deref() != Some(on_disk.as_str()) {
        writeln!(
            io.err,
            "note: {MANIFEST_FILE} in {} differs from the one committed on '{base}'; git-agent reads only the committed one.\n      Commit it on {base} for it to take effect: git add {MANIFEST_FILE} && git commit -m 'Add git-agent policy'",
            workdir.display()
        )
        .map_err(Error::io("writing"))?;
    }
    Ok(())
}
