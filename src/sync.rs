//! `git agent sync`: bring the base's new commits into an agent's branch,
//! in its own worktree, with git's rebase or merge (they update a
//! checked-out worktree and leave git's standard state on a conflict, for
//! the agent to resolve).

use crate::Io;
use crate::cli::SyncArgs;
use crate::error::{Error, Outcome, Result};
use crate::{git, repo, status};

pub fn run(args: SyncArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let here = repo::open(&cwd)?;
    // From an agent's clone, the registry lives in the repository it came from.
    let repo = repo::control(&here)?.unwrap_or(here);
    let agents = repo::registry(&repo).load()?;
    let Some(agent) = agents.get(&args.name).cloned() else {
        return Err(crate::scope_cmd::unknown_agent(&args.name, &agents, None));
    };
    let base_tip =
        repo::branch_tip(&repo, &agent.base)?.ok_or_else(|| crate::land::base_missing(&agent))?;
    let dir = &agent.path;
    if !dir.is_dir() {
        return Err(Error::usage(
            format!(
                "agent '{}''s directory {} is missing",
                agent.name,
                dir.display()
            ),
            "run `git agent doctor` to see and repair it",
        ));
    }
    let refuse = |io: &mut Io, msg: String| -> Result<Outcome> {
        writeln!(io.err, "git-agent: {msg}").map_err(Error::io("writing"))?;
        Ok(Outcome::Refused)
    };
    let uncommitted = status::uncommitted(dir)?;
    if !uncommitted.is_empty() {
        return refuse(
            io,
            format!(
                "agent '{}' has uncommitted changes ({}); commit or stash them, then sync",
                agent.name,
                uncommitted.join(", ")
            ),
        );
    }
    let wt = repo::open(dir)?;
    if repo::current_branch(&wt).as_deref() != Some(agent.branch.as_str()) {
        return refuse(
            io,
            format!(
                "{} is not on {}; switch back (git switch {}) or finish what is in progress there, then sync",
                dir.display(),
                agent.branch,
                agent.branch
            ),
        );
    }
    let head = wt.head_id().map(|id| id.detach()).ok();
    if let Some(head) = head
        && wt
            .merge_base(head, base_tip)
            .ok()
            .flatten()
            .map(|id| id.detach())
            == Some(base_tip)
    {
        writeln!(
            io.out,
            "agent '{}' is up to date with {}",
            agent.name, agent.base
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    // A clone borrows this repository's objects, so the base's tip is
    // readable there by id without fetching.
    let target = base_tip.to_string();
    let (verb, cmd): (&str, Vec<&str>) = if args.merge {
        (
            "merge",
            vec![
                "merge",
                "--no-edit",
                "--quiet",
                "-m",
                "Sync with base",
                &target,
            ],
        )
    } else {
        ("rebase", vec!["rebase", "--quiet", &target])
    };
    let out = git::command(dir)?
        .args(&cmd)
        .env(
            "GIT_REFLOG_ACTION",
            format!("git-agent sync {}", agent.name),
        )
        .output()
        .map_err(Error::io(format!("running git {verb}")))?;
    if out.status.success() {
        writeln!(
            io.out,
            "synced agent '{}' with {} ({verb}, now on {})",
            agent.name,
            agent.base,
            &target[..12]
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    let conflicted = git::run(dir, &["diff", "--name-only", "--diff-filter=U"])?;
    if conflicted.trim().is_empty() {
        return Err(Error::GitCommand {
            args: cmd.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    let files: Vec<&str> = conflicted.lines().collect();
    let (go_on, give_up) = if args.merge {
        ("git commit", "git merge --abort")
    } else {
        ("git rebase --continue", "git rebase --abort")
    };
    refuse(
        io,
        format!(
            "sync of agent '{}' stopped on a conflict with {} in:\n{}\n  resolve them in {}, `git add` them, then `{go_on}` (or `{give_up}` to go back)",
            agent.name,
            agent.base,
            files
                .iter()
                .map(|f| format!("  {f}"))
                .collect::<Vec<_>>()
                .join("\n"),
            dir.display()
        ),
    )
}
