//! `git agent sync`: bring the base's new commits into an agent's branch,
//! in its own worktree, with git's rebase or merge (they update a
//! checked-out worktree and leave git's standard state on a conflict, for
//! the agent to resolve).

use serde::Serialize;

use crate::error::{Error, GitContext, RefusalReport, Result};
use crate::ops::authority::{self, Action};
use crate::ops::context;
use crate::state::registry::Agent;
use crate::{git, git::changes, git::repo, ops::status, state::lease};

/// How a sync brings the base in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    Rebase,
    Merge,
}

impl How {
    pub fn name(self) -> &'static str {
        match self {
            How::Rebase => "rebase",
            How::Merge => "merge",
        }
    }
}

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    Synced,
    UpToDate,
    /// git stopped on a conflict and left its state for the agent.
    Stopped,
    Refused,
}

/// The sync's result, rendered once for humans and once as JSON.
#[derive(Serialize)]
pub struct Report {
    pub version: u32,
    pub agent: String,
    pub branch: String,
    pub base: String,
    pub path: String,
    pub how: How,
    pub result: Ended,
    pub base_tip: String,
    /// The branch's tip before and after.
    pub old_tip: Option<String>,
    pub new_tip: Option<String>,
    /// When git stopped: the conflicted files, and the commands that go on
    /// or go back.
    pub conflicts: Vec<String>,
    #[serde(rename = "continue")]
    pub go_on: Option<&'static str>,
    pub abort: Option<&'static str>,
    pub refusal: Option<RefusalReport>,
}

impl Report {
    pub fn outcome(&self) -> crate::Outcome {
        match self.result {
            Ended::Synced | Ended::UpToDate => crate::Outcome::Done,
            Ended::Stopped | Ended::Refused => crate::Outcome::Refused,
        }
    }
}

/// Sync the agent `name` with its base, from the repository `here`; the
/// report, and the repository holding the registry.
pub fn sync(here: gix::Repository, name: &str, how: How) -> Result<(Report, gix::Repository)> {
    // An agent may sync itself, from its own context; that context is then
    // the writer, which holds the lease if anyone does.
    let own_context = !authority::contexts(&here)?.is_empty();
    let refusal = authority::who_may_act(&here, Action::Sync(name))?;
    // From an agent's clone, the registry lives in the repository it came from.
    let repo = repo::control(&here)?.unwrap_or(here);
    let agents = context::registry(&repo).load()?;
    let Some(agent) = agents.get(name).cloned() else {
        return Err(crate::ops::gate::unknown_agent(name, &agents, None));
    };
    let base_tip = repo::branch_tip(&repo, &agent.base)?
        .ok_or_else(|| crate::ops::landing::base_missing(&agent))?;
    if !agent.path.is_dir() {
        return Err(context::directory_missing(&agent));
    }
    let mut report = new_report(&repo, &agent, how, base_tip)?;
    report.refusal = refusal.map(|r| r.report());
    if report.refusal.is_none() && agent.state == crate::state::registry::State::Adding {
        report.refusal = Some(crate::state::registry::not_ready(&agent.name, "sync"));
    }
    if report.refusal.is_none() {
        sync_under_lease(&repo, &agent, own_context, base_tip, &mut report)?;
    }
    Ok((report, repo))
}

/// The report before anything happened: refused until it went otherwise.
fn new_report(
    repo: &gix::Repository,
    agent: &Agent,
    how: How,
    base_tip: gix::ObjectId,
) -> Result<Report> {
    Ok(Report {
        version: 1,
        agent: agent.name.clone(),
        branch: agent.branch.clone(),
        base: agent.base.clone(),
        path: agent.path.display().to_string(),
        how,
        result: Ended::Refused,
        base_tip: base_tip.to_string(),
        old_tip: repo::branch_tip(&context::branch_repo(repo, agent)?, &agent.branch)?
            .map(|id| id.to_string()),
        new_tip: None,
        conflicts: Vec::new(),
        go_on: None,
        abort: None,
        refusal: None,
    })
}

/// Hold the agent's lease while its directory changes, unless the agent
/// itself is syncing, and sync.
fn sync_under_lease(
    repo: &gix::Repository,
    agent: &Agent,
    own_context: bool,
    base_tip: gix::ObjectId,
    report: &mut Report,
) -> Result<()> {
    let lease = match own_context {
        true => None,
        false => match lease::acquire(repo.common_dir(), &agent.name, "git agent sync")? {
            Ok(guard) => Some(guard),
            Err(holder) => {
                report.refusal = Some(lease::in_use(&agent.name, &holder));
                return Ok(());
            }
        },
    };
    crate::state::crash::point("sync:after-lease");
    sync_worktree(agent, &agent.path, base_tip, report)?;
    // git wrote the files it updated with their usual mode: a sparse
    // agent's context files go read-only again. Best effort: the sync is
    // done, and the gate, not the mode, keeps those files unchanged.
    if agent.sparse && report.result == Ended::Synced {
        let _ = crate::ops::sparse::protect_context(repo, &agent.name, &agent.path);
    }
    crate::state::crash::point("sync:after-merge");
    drop(lease);
    Ok(())
}

/// Sync `agent`'s worktree `dir` with `base_tip`, recording how it went.
fn sync_worktree(
    agent: &Agent,
    dir: &std::path::Path,
    base_tip: gix::ObjectId,
    report: &mut Report,
) -> Result<()> {
    if let Some(refusal) = uncommitted_refusal(agent, dir)? {
        report.refusal = Some(refusal);
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
    if let Some(head) = head {
        if has_base(&wt, head, base_tip) {
            report.result = Ended::UpToDate;
            report.new_tip = report.old_tip.clone();
            return Ok(());
        }
        if let Some(refusal) = untracked_refusal(agent, &wt, dir, head, base_tip)? {
            report.refusal = Some(refusal);
            return Ok(());
        }
    }
    bring_in_base(agent, dir, base_tip, report)
}

fn uncommitted_refusal(agent: &Agent, dir: &std::path::Path) -> Result<Option<RefusalReport>> {
    let uncommitted = status::uncommitted(dir)?;
    if uncommitted.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        RefusalReport::new(
            "uncommitted",
            format!(
                "agent '{}' has uncommitted changes ({}); commit or stash them, then sync",
                agent.name,
                uncommitted.join(", ")
            ),
        )
        .with_paths(uncommitted),
    ))
}

/// Whether `head` already contains `base_tip`.
fn has_base(wt: &gix::Repository, head: gix::ObjectId, base_tip: gix::ObjectId) -> bool {
    wt.merge_base(head, base_tip)
        .ok()
        .flatten()
        .map(|id| id.detach())
        == Some(base_tip)
}

fn untracked_refusal(
    agent: &Agent,
    wt: &gix::Repository,
    dir: &std::path::Path,
    head: gix::ObjectId,
    base_tip: gix::ObjectId,
) -> Result<Option<RefusalReport>> {
    let blocking = untracked_in_the_way(wt, dir, head, base_tip)?;
    if blocking.is_empty() {
        return Ok(None);
    }
    Ok(Some(
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
    ))
}

/// Run git's rebase or merge in `dir`; on a conflict, record what git
/// left for the agent.
fn bring_in_base(
    agent: &Agent,
    dir: &std::path::Path,
    base_tip: gix::ObjectId,
    report: &mut Report,
) -> Result<()> {
    // A clone borrows this repository's objects, so the base's tip is
    // readable there by id without fetching.
    let target = base_tip.to_string();
    let cmd: Vec<&str> = match report.how {
        How::Merge => vec![
            "merge",
            "--no-edit",
            "--quiet",
            "-m",
            "Sync with base",
            &target,
        ],
        How::Rebase => vec!["rebase", "--quiet", &target],
    };
    let out = git::command(dir)?
        .args(&cmd)
        .env(
            "GIT_REFLOG_ACTION",
            format!("git-agent sync {}", agent.name),
        )
        .output()
        .map_err(Error::io(format!("running git {}", report.how.name())))?;
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
    (report.go_on, report.abort) = match report.how {
        How::Merge => (Some("git commit"), Some("git merge --abort")),
        How::Rebase => (Some("git rebase --continue"), Some("git rebase --abort")),
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
