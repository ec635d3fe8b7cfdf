//! The state of one agent, as `list` shows it and `rm` and `doctor` judge it.

use std::collections::BTreeSet;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use serde::Serialize;

use crate::error::{GitContext, Result};
use crate::git::changes;
use crate::git::repo;
use crate::ops::context;
use crate::policy::scope::Scope;
use crate::state::lease::{self, Lease};
use crate::state::registry::{Agent, State};

/// Work in an agent's directory that a commit does not hold yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dirty {
    /// Paths changed in the index or the working tree, against `HEAD`.
    pub uncommitted: Vec<String>,
    /// Files git does not track and does not ignore.
    pub untracked: Vec<String>,
}

impl Dirty {
    pub fn is_clean(&self) -> bool {
        self.uncommitted.is_empty() && self.untracked.is_empty()
    }
}

/// Uncommitted and untracked files of the worktree at `dir`.
pub fn dirty(dir: &std::path::Path) -> Result<Dirty> {
    Ok(dirty_and_staged(dir, false)?.0)
}

/// [`dirty`], and the staged changes on their own (read once for both).
/// `cached` allows [`scan`](crate::git::scan)'s directory cache, which is right as
/// long as the file system updates a directory's mtime whenever an entry is
/// added or removed; decisions that could lose work do not rely on it.
pub fn dirty_and_staged(
    dir: &std::path::Path,
    cached: bool,
) -> Result<(Dirty, Vec<changes::Change>)> {
    let wt = gix::open(dir).git("opening the agent's worktree")?;
    let staged = changes::staged(&wt)?;
    let mut uncommitted: BTreeSet<String> = staged
        .iter()
        .map(|c| c.path.to_str_lossy().into_owned())
        .collect();
    if has_sparse_index(&wt) {
        let dirty = git_status(dir, uncommitted)?;
        return Ok((dirty, staged));
    }
    if cached && let Some(scan) = crate::git::scan::worktree(&wt)? {
        uncommitted.extend(scan.modified);
        let dirty = Dirty {
            uncommitted: uncommitted.into_iter().collect(),
            untracked: scan.untracked,
        };
        return Ok((dirty, staged));
    }
    let mut untracked = Vec::new();
    let iter = wt
        .status(gix::progress::Discard)
        .git("reading the worktree status")?
        .untracked_files(gix::status::UntrackedFiles::Files)
        .index_worktree_rewrites(None)
        .into_index_worktree_iter(Vec::new())
        .git("reading the worktree status")?;
    for item in iter {
        let item = item.git("reading the worktree status")?;
        use gix::status::index_worktree::iter::Summary;
        let path = item.rela_path().to_string();
        match (item.summary(), &item) {
            (
                Some(Summary::Added),
                gix::status::index_worktree::Item::DirectoryContents { entry, .. },
            ) => {
                // A nested repository is one untracked entry, shown as git
                // shows it: `dir/`.
                let is_dir = matches!(
                    entry.disk_kind,
                    Some(gix::dir::entry::Kind::Repository | gix::dir::entry::Kind::Directory)
                );
                untracked.push(if is_dir { format!("{path}/") } else { path })
            }
            (Some(_), _) => {
                uncommitted.insert(path);
            }
            (None, _) => {}
        }
    }
    untracked.sort();
    let dirty = Dirty {
        uncommitted: uncommitted.into_iter().collect(),
        untracked,
    };
    Ok((dirty, staged))
}

/// Whether the worktree keeps a sparse index (a sparse agent in cone
/// mode), whose directory entries stand for whole directories not checked
/// out.
fn has_sparse_index(wt: &gix::Repository) -> bool {
    wt.config_snapshot()
        .boolean("index.sparse")
        .unwrap_or(false)
}

/// [`dirty`] as git sees it. gix's walk does not look for untracked files
/// in a directory that a sparse index holds as one entry (a new file where
/// nothing is checked out), and missing one could lose it on `rm`; git's
/// status reads a sparse index natively, and fast, since it is as small as
/// the checkout. `--no-optional-locks`: it must not take the index lock
/// that the agent's own `git commit` may need at the same moment.
fn git_status(dir: &std::path::Path, mut uncommitted: BTreeSet<String>) -> Result<Dirty> {
    let out = crate::git::run(
        dir,
        &[
            "--no-optional-locks",
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
        ],
    )?;
    let mut untracked = Vec::new();
    for record in out.split('\0').filter(|r| r.len() > 3) {
        let (code, path) = record.split_at(3);
        if code == "?? " {
            untracked.push(path.to_owned());
        } else {
            uncommitted.insert(path.to_owned());
        }
    }
    untracked.sort();
    Ok(Dirty {
        uncommitted: uncommitted.into_iter().collect(),
        untracked,
    })
}

/// Paths with changes a commit does not hold yet: staged, or changed in the
/// working tree. Untracked files are not looked for, which saves the walk
/// of every directory.
pub fn uncommitted(dir: &std::path::Path) -> Result<Vec<String>> {
    let wt = gix::open(dir).git("opening a worktree")?;
    let mut paths: BTreeSet<String> = changes::staged(&wt)?
        .into_iter()
        .map(|c| c.path.to_str_lossy().into_owned())
        .collect();
    if let Some(changed) = crate::git::scan::tracked_changes(&wt)? {
        paths.extend(changed);
        return Ok(paths.into_iter().collect());
    }
    let iter = wt
        .status(gix::progress::Discard)
        .git("reading the worktree status")?
        .untracked_files(gix::status::UntrackedFiles::None)
        .index_worktree_rewrites(None)
        .into_index_worktree_iter(Vec::new())
        .git("reading the worktree status")?;
    for item in iter {
        let item = item.git("reading the worktree status")?;
        if item.summary().is_some() {
            paths.insert(item.rela_path().to_string());
        }
    }
    Ok(paths.into_iter().collect())
}

/// Commits reachable from `tip` but not from `hidden`.
pub fn count_commits(repo: &gix::Repository, tip: ObjectId, hidden: ObjectId) -> Result<usize> {
    let walk = repo
        .rev_walk([tip])
        .with_hidden([hidden])
        .all()
        .git("walking commits")?;
    let mut n = 0;
    for info in walk {
        info.git("walking commits")?;
        n += 1;
    }
    Ok(n)
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentStatus {
    pub name: String,
    pub branch: String,
    pub path: String,
    pub base: String,
    pub ahead: Option<usize>,
    pub behind: Option<usize>,
    pub uncommitted: Option<usize>,
    pub untracked: Option<usize>,
    pub out_of_scope: Option<bool>,
    /// How many other branches (its base, other agents) it would conflict
    /// with if merged; filled in by `list`.
    pub conflicts: Option<usize>,
    pub lease: Option<Lease>,
    pub scope: Vec<String>,
    pub task: Option<String>,
    /// Only the scope and the policy's `context` are checked out.
    pub sparse: bool,
    /// What is wrong with the agent, if anything: its directory or branch is
    /// gone, its `add` did not finish, its setup failed.
    pub problems: Vec<String>,
}

/// Everything `list` shows for `agent`. Problems are reported in the row,
/// not as errors, so one broken agent does not hide the others.
pub fn agent_status(repo: &gix::Repository, agent: &Agent) -> AgentStatus {
    let mut st = registered_status(repo, agent);
    let tips = Tips::of(repo, agent, &mut st.problems);
    if let Some((tip, base, br)) = tips.all() {
        st.ahead = count_commits(br, tip, base).ok();
        st.behind = count_commits(br, base, tip).ok();
    }
    let scope = agent_scope(repo, agent, &mut st);
    if !agent.path.is_dir() {
        st.problems
            .push("directory is missing (run git agent doctor)".into());
        return st;
    }
    let staged = match dirty_and_staged(&agent.path, true) {
        Ok((d, staged)) => {
            st.uncommitted = Some(d.uncommitted.len());
            st.untracked = Some(d.untracked.len());
            staged
        }
        Err(e) => {
            st.problems.push(e.to_string());
            Vec::new()
        }
    };
    if let Some(scope) = scope {
        st.out_of_scope = Some(leaves_scope(&scope, &staged, &tips));
    }
    st
}

/// The row as the registry alone tells it, with its lease.
fn registered_status(repo: &gix::Repository, agent: &Agent) -> AgentStatus {
    let mut st = AgentStatus {
        name: agent.name.clone(),
        branch: agent.branch.clone(),
        path: agent.path.display().to_string(),
        base: agent.base.clone(),
        ahead: None,
        behind: None,
        uncommitted: None,
        untracked: None,
        out_of_scope: None,
        conflicts: None,
        lease: lease::holder(repo.common_dir(), &agent.name).ok().flatten(),
        scope: agent.scope.clone(),
        task: agent.task.clone(),
        sparse: agent.sparse,
        problems: Vec::new(),
    };
    if agent.state == State::Adding {
        st.problems
            .push("add did not finish (run git agent doctor)".into());
    }
    if agent.setup_failed {
        st.problems.push("setup failed".into());
    }
    st
}

/// The agent's branch and base tips, and the repository holding its branch.
struct Tips {
    branch_repo: Option<gix::Repository>,
    branch: Option<ObjectId>,
    base: Option<ObjectId>,
}

impl Tips {
    /// The tips, with a problem recorded for each one missing.
    fn of(repo: &gix::Repository, agent: &Agent, problems: &mut Vec<String>) -> Self {
        let branch_repo = context::branch_repo(repo, agent).ok();
        let branch = branch_repo
            .as_ref()
            .and_then(|r| repo::branch_tip(r, &agent.branch).ok().flatten());
        let base = repo::branch_tip(repo, &agent.base).ok().flatten();
        if branch.is_none() {
            problems.push(format!("branch {} is missing", agent.branch));
        }
        if base.is_none() {
            problems.push(format!("base {} is missing", agent.base));
        }
        Tips {
            branch_repo,
            branch,
            base,
        }
    }

    /// Branch tip, base tip and branch repository, when all are there.
    fn all(&self) -> Option<(ObjectId, ObjectId, &gix::Repository)> {
        Some((self.branch?, self.base?, self.branch_repo.as_ref()?))
    }
}

/// The agent's scope: its patterns go into the row, and a scope that
/// cannot be worked out is the agent's problem.
fn agent_scope(repo: &gix::Repository, agent: &Agent, st: &mut AgentStatus) -> Option<Scope> {
    let subject = crate::ops::gate::resolve_subject(repo, Some(&agent.name), None);
    match &subject {
        Ok(Some(subject)) => {
            st.scope = subject.patterns.iter().map(|(p, _)| p.clone()).collect();
        }
        // An area gone from the policy, a policy that does not parse: the
        // scope cannot be worked out, and that is the agent's problem.
        Err(e) => st.problems.push(format!("scope: {e}")),
        Ok(None) => {}
    }
    subject.ok().flatten().and_then(|s| s.scope(repo).ok())
}

/// Whether staged changes or the branch's commits touch paths outside `scope`.
fn leaves_scope(scope: &Scope, staged: &[changes::Change], tips: &Tips) -> bool {
    let mut out = staged.iter().any(|c| !scope.decide(&c.path).allowed);
    if let Some((tip, base, br)) = tips.all()
        && let Ok(commits) = changes::range(br, base, tip)
    {
        out |= commits
            .iter()
            .flat_map(|c| &c.changes)
            .any(|c| !scope.decide(&c.path).allowed);
    }
    out
}

/// The status of every agent, computed in parallel, one thread per core.
pub fn all(repo: &gix::Repository, agents: &[Agent]) -> Vec<AgentStatus> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(agents.len())
        .max(1);
    let shared = repo.clone().into_sync();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<AgentStatus>> = vec![None; agents.len()];
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let repo = shared.to_thread_local();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(agent) = agents.get(i) else { break };
                    let st = agent_status(&repo, agent);
                    slots.lock().expect("no panics while holding")[i] = Some(st);
                }
            });
        }
    });
    results.into_iter().flatten().collect()
}
