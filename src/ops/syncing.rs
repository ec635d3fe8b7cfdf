//! `git agent sync`: bring the base's new commits into an agent's branch,
//! in its own worktree, with git's rebase or merge (they update a
//! checked-out worktree and leave git's standard state on a conflict, for
//! the agent to resolve).

use serde::Serialize;

use crate::Io;
use crate::cli::SyncArgs;
use crate::error::{Error, GitContext, Outcome, RefusalReport, Result};
use crate::ops::authority::{self, Action};
use crate::ops::context;
use crate::{git, git::changes, git::repo, ops::status, state::lease};

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Ended {
    Synced,
    UpToDate,
    /// git stopped on a conflict and left its state for the agent.
    Stopped,
    Refused,
}

/// The sync's result, rendered once for humans and once as JSON.
#[derive(Serialize)]
struct Report {
    version: u32,
    agent: String,
    branch: String,
    base: String,
    path: String,
    how: &'static str,
    result: Ended,
    base_tip: String,
    /// The branch's tip before and after.
    old_tip: Option<String>,
    new_tip: Option<String>,
    /// When git stopped: the conflicted files, and the commands that go on
    /// or go back.
    conflicts: Vec<String>,
    #[serde(rename = "continue")]
    go_on: Option<&'static str>,
    abort: Option<&'static str>,
    refusal: Option<RefusalReport>,
}

pub fn run(args: SyncArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let here = repo::open(&cwd)?;
    // An agent may sync itself, from its own context; that context is then
    // the writer, which holds the lease if anyone does.
    let own_context = !authority::contexts(&here)?.is_empty();
    let refusal = authority::who_may_act(&here, Action::Sync(&args.name))?;
    // From an agent's clone, the registry lives in the repository it came from.
    let repo = repo::control(&here)?.unwrap_or(here);
    let agents = context::registry(&repo).load()?;
    let Some(agent) = agents.get(&args.name).cloned() else {
        return Err(crate::ops::gate::unknown_agent(&args.name, &agents, None));
    };
    let base_tip = repo::branch_tip(&repo, &agent.base)?
        .ok_or_else(|| crate::ops::landing::base_missing(&agent))?;
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
    let mut report = Report {
        version: 1,
        agent: agent.name.clone(),
        branch: agent.branch.clone(),
        base: agent.base.clone(),
        path: dir.display().to_string(),
        how: if args.merge { "merge" } else { "rebase" },
        result: Ended::Refused,
        base_tip: base_tip.to_string(),
        old_tip: repo::branch_tip(&context::branch_repo(&repo, &agent)?, &agent.branch)?
            .map(|id| id.to_string()),
        new_tip: None,
        conflicts: Vec::new(),
        go_on: None,
        abort: None,
        refusal: refusal.map(|r| r.report()),
    };
    if report.refusal.is_none() {
        // Hold the agent's lease while its directory changes, unless the
        // agent itself is syncing.
        let lease = match own_context {
            true => None,
            false => match lease::acquire(repo.common_dir(), &agent.name, "git agent sync")? {
                Ok(guard) => Some(guard),
                Err(holder) => {
                    report.refusal = Some(lease::in_use(&agent.name, &holder));
                    None
                }
            },
        };
        if report.refusal.is_none() {
            sync(&agent, dir, base_tip, &mut report)?;
        }
        drop(lease);
    }
    let outcome = match report.result {
        Ended::Synced | Ended::UpToDate => Outcome::Done,
        Ended::Stopped | Ended::Refused => Outcome::Refused,
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
        return Ok(outcome);
    }
    render(&report, &repo, io)?;
    Ok(outcome)
}

/// The text report: what happened on stdout, a stop or refusal on stderr.
fn render(report: &Report, repo: &gix::Repository, io: &mut Io) -> Result<()> {
    let (out_paint, err_paint) = (io.color.out(Some(repo)), io.color.err(Some(repo)));
    let short = |t: &Option<String>| {
        t.as_deref()
            .map_or("?".to_owned(), |t| t[..12.min(t.len())].to_owned())
    };
    match report.result {
        Ended::Synced => writeln!(
            io.out,
            "{} agent '{}' with {} at {} ({}): {} {}..{}",
            out_paint.green("synced"),
            report.agent,
            report.base,
            &report.base_tip[..12],
            report.how,
            report.branch,
            short(&report.old_tip),
            short(&report.new_tip),
        ),
        Ended::UpToDate => writeln!(
            io.out,
            "agent '{}' is {} with {}",
            report.agent,
            out_paint.green("up to date"),
            report.base
        ),
        Ended::Stopped => writeln!(
            io.err,
            "git-agent: {} with {} in:\n{}\n  resolve them in {}, `git add` them, then `{}` (or `{}` to go back)",
            err_paint.red(format!("sync of agent '{}' stopped on a conflict", report.agent)),
            report.base,
            report
                .conflicts
                .iter()
                .map(|f| format!("  {}", err_paint.red(f)))
                .collect::<Vec<_>>()
                .join("\n"),
            report.path,
            report.go_on.unwrap_or_default(),
            report.abort.unwrap_or_default(),
        ),
        Ended::Refused => writeln!(
            io.err,
            "{}",
            report
                .refusal
                .as_ref()
                .map_or_else(String::new, |r| r.text(err_paint))
        ),
    }
    .map_err(Error::io("writing"))
}

/// Sync `agent`'s worktree `dir` with `base_tip`, recording how it went.
fn sync(
    agent: &crate::state::registry::Agent,
    dir: &std::path::Path,
    base_tip: gix::ObjectId,
    report: &mut Report,
) -> Result<()> {
    let uncommitted = status::uncommitted(dir)?;
    if !uncommitted.is_empty() {
        report.refusal = Some(
            RefusalReport::new(
                "uncommitted",
                format!(
                    "agent '{}' has uncommitted changes ({}); commit or stash them, then sync",
                    agent.name,
                    uncommitted.join(", ")
                ),
            )
            .with_paths(uncommitted),
        );
        return Ok(());
    }
    let wt = repo::open(dir)?;
    if repo::current_branch(&wt).as_deref() != Some(agent.branch.as_str()) {
        report.refusal = Some(RefusalReport::new(
            "not_on_branch",
            format!(
                "{} is not on {}; switch back (git switch {}) or finish what is in progress there, then sync",
                dir.display(),
                agent.branch,
                agent.branch
            ),
        ));
        return Ok(());
    }
    let head = wt.head_id().map(|id| id.detach()).ok();
    report.old_tip = head.map(|id| id.to_string());
    if let Some(head) = head
        && wt
            .merge_base(head, base_tip)
            .ok()
            .flatten()
            .map(|id| id.detach())
            == Some(base_tip)
    {
        report.result = Ended::UpToDate;
        report.new_tip = report.old_tip.clone();
        return Ok(());
    }
    if let Some(head) = head {
        let blocking = untracked_in_the_way(&wt, dir, head, base_tip)?;
        if !blocking.is_empty() {
            report.refusal = Some(
                RefusalReport::new(
                    "untracked_would_be_overwritten",
                    format!(
                        "untracked files in {} would be overwritten by {}'s files: {}\n  move them away (or commit them), then sync",
                        dir.display(),
                        agent.base,
                        blocking.join(", ")
                    ),
                )
                .with_paths(blocking),
            );
            return Ok(());
        }
    }
    // A clone borrows this repository's objects, so the base's tip is
    // readable there by id without fetching.
    let target = base_tip.to_string();
    let cmd: Vec<&str> = if report.how == "merge" {
        vec![
            "merge",
            "--no-edit",
            "--quiet",
            "-m",
            "Sync with base",
            &target,
        ]
    } else {
        vec!["rebase", "--quiet", &target]
    };
    let out = git::command(dir)?
        .args(&cmd)
        .env(
            "GIT_REFLOG_ACTION",
            format!("git-agent sync {}", agent.name),
        )
        .output()
        .map_err(Error::io(format!("running git {}", report.how)))?;
    if out.status.success() {
        report.result = Ended::Synced;
        report.new_tip = Some(git::run(dir, &["rev-parse", "HEAD"])?.trim().to_owned());
        return Ok(());
    }
    // NUL-separated, so that names come as they are, not C-quoted.
    let conflicted = git::run(dir, &["diff", "--name-only", "-z", "--diff-filter=U"])?;
    let conflicted: Vec<String> = conflicted
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if conflicted.is_empty() {
        return Err(Error::GitCommand {
            args: cmd.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    report.result = Ended::Stopped;
    report.conflicts = conflicted;
    (report.go_on, report.abort) = if report.how == "merge" {
        (Some("git commit"), Some("git merge --abort"))
    } else {
        (Some("git rebase --continue"), Some("git rebase --abort"))
    };
    Ok(())
}

/// Untracked files of the worktree `dir` that bringing in `base_tip` would
/// overwrite: git would stop on them before changing anything, so we
/// refuse first, with their names. The files to come are those `base_tip`
/// has and `head` has not (a rebase or a merge writes no others).
fn untracked_in_the_way(
    wt: &gix::Repository,
    dir: &std::path::Path,
    head: gix::ObjectId,
    base_tip: gix::ObjectId,
) -> Result<Vec<String>> {
    let untracked = status::dirty(dir)?.untracked;
    if untracked.is_empty() {
        return Ok(untracked);
    }
    let tree = |id: gix::ObjectId| -> Result<gix::ObjectId> {
        Ok(wt
            .find_commit(id)
            .git("reading a commit")?
            .tree_id()
            .git("reading a tree")?
            .detach())
    };
    let mut changes = Vec::new();
    changes::diff_trees(
        wt,
        Some(tree(head)?),
        Some(tree(base_tip)?),
        "".into(),
        &mut changes,
    )?;
    let incoming: Vec<String> = changes
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                changes::ChangeKind::Added | changes::ChangeKind::TypeChanged
            )
        })
        .map(|c| c.path.to_string())
        .collect();
    let under = |inner: &str, outer: &str| {
        inner.len() > outer.len()
            && inner.starts_with(outer)
            && inner.as_bytes()[outer.len()] == b'/'
    };
    Ok(untracked
        .into_iter()
        .filter(|u| {
            let u = u.trim_end_matches('/');
            incoming
                .iter()
                .any(|p| p == u || under(p, u) || under(u, p))
        })
        .collect())
}
