//! `git agent doctor`: find drift between the registry, git's worktrees and
//! branches, and the leases; print each problem with its fix; `--fix`
//! repairs. Every repair keeps work: a branch with commits the base lacks is
//! archived before it is deleted.

use std::path::{Path, PathBuf};

use crate::error::{Error, GitContext, Result};
use crate::ops::provision::Progress;
use crate::ops::{checking, context};
use crate::state::registry::{self, Agent, Mode, State};
use crate::{
    git::repo, ops::copies, ops::removal as rm, ops::sealing, state::archive, state::lease,
};
use gix::bstr::ByteSlice;

/// One drift `doctor` finds.
#[derive(Debug)]
pub enum Problem {
    /// An `add` (or `restore`) stopped half-way: roll it back.
    HalfAdded(Agent),
    /// The directory was moved, and the new place is known: git knows it,
    /// or it was found beside the other agents pointing at the agent's
    /// admin directory (a clone: on the agent's branch, cloned from here).
    Moved(Agent, PathBuf),
    /// A directory that points at an admin directory `doctor` retired, or
    /// is a second checkout of a live agent's branch: a stale copy.
    StrayCopy {
        name: String,
        agent: Option<Agent>,
        path: PathBuf,
        admin: PathBuf,
    },
    /// A second directory on the admin directory (index, HEAD) of a live
    /// agent's worktree.
    SharedAdminDir {
        agent: Agent,
        path: PathBuf,
        admin: PathBuf,
    },
    /// The worktree is gone; recreate it from the branch.
    DirectoryMissing(Agent),
    /// The branch is gone.
    BranchMissing(Agent),
    /// `agent/NAME` with no registry entry, checked out in a worktree.
    Unregistered {
        name: String,
        path: PathBuf,
    },
    /// `agent/NAME` with no registry entry, checked out in a worktree, but
    /// NAME is one `add` refuses: registering it would make an agent no
    /// other command can name.
    InvalidName {
        name: String,
        path: PathBuf,
        why: String,
    },
    /// `agent/NAME` with no registry entry and no worktree.
    OrphanBranch(String),
    /// `agent/NAME` with no registry entry, checked out in the main
    /// worktree: deleting it would leave that worktree on no branch, and
    /// adopting it would make the main worktree an agent's.
    InMainWorktree {
        name: String,
        path: PathBuf,
    },
    StaleLease {
        agent: String,
        pid: u32,
    },
    /// An agent's clone is gone, and its branch with it.
    CloneMissing(Agent),
    /// The entry or the gate changed since `git agent` sealed them.
    Tampered(Agent, sealing::Tamper),
    /// The entry carries no seal.
    Unsealed(Agent),
    /// The base moved, since its last landing, other than by `land` or a
    /// person's commit, merge or pull (see `ops::audit`).
    BaseMovedOutsideLand {
        base: String,
        old: String,
        new: String,
        why: String,
    },
    /// The agent's directory never had its guardrails and brief written.
    GuardrailsMissing(Agent),
    /// A checks worktree of `land` that cannot be used as it is.
    ChecksWorktree {
        path: PathBuf,
        breakage: checking::Breakage,
    },
}

/// What this run of `doctor` may repair.
#[derive(Debug, Clone, Copy)]
pub struct Repairs {
    /// `--fix`: repair what was found.
    pub fix: bool,
    /// `--reseal`: accept and seal the entries as they are now.
    pub reseal: bool,
}

impl Problem {
    /// What the problem is, and its fix, in words.
    pub fn describe(&self) -> (String, String) {
        match self {
            Problem::BaseMovedOutsideLand { base, old, new, why } => {
                base_moved_text(base, old, new, why)
            }
            Problem::HalfAdded(a) => (
                format!("agent '{}': `add` did not finish", a.name),
                "roll it back: remove its partial worktree, its new branch and its entry".into(),
            ),
            Problem::Moved(a, to) => (
                format!(
                    "agent '{}': its worktree moved from {} to {}",
                    a.name,
                    a.path.display(),
                    to.display()
                ),
                "re-adopt it where it is (git worktree repair), keeping its files, and record the new place in the registry".into(),
            ),
            Problem::StrayCopy { name, path, .. } => stray_copy_text(name, path),
            Problem::SharedAdminDir { agent, path, admin } => {
                shared_admin_dir_text(agent, path, admin)
            }
            Problem::DirectoryMissing(a) => directory_missing_text(a),
            Problem::BranchMissing(a) => branch_missing_text(a),
            Problem::Unregistered { name, path } => unregistered_text(name, path, None),
            Problem::InvalidName { name, path, why } => unregistered_text(name, path, Some(why)),
            Problem::OrphanBranch(name) => (
                format!("branch agent/{name} belongs to no agent"),
                format!(
                    "archive it under refs/agent-archive/{name}/ and delete it (`git agent restore {name}` brings it back)"
                ),
            ),
            Problem::InMainWorktree { name, path } => in_main_worktree_text(name, path),
            Problem::CloneMissing(a) => (
                format!(
                    "agent '{}': its clone {} is missing",
                    a.name,
                    a.path.display()
                ),
                "remove the registry entry (its branch lived in the clone)".into(),
            ),
            Problem::StaleLease { agent, pid } => (
                format!("agent '{agent}': its lease is held by pid {pid}, which is gone"),
                "remove the stale lease".into(),
            ),
            Problem::Tampered(a, t) => (
                format!(
                    "agent '{}' was changed since `git agent` last set it: {}",
                    a.name,
                    t.changes.join("; ")
                ),
                t.remedy().into(),
            ),
            Problem::Unsealed(a) => unsealed_text(a),
            Problem::GuardrailsMissing(a) => (
                format!(
                    "agent '{}': its guardrails and brief were never written in {} (an `add` stopped before them, or the directory was made anew)",
                    a.name,
                    a.path.display()
                ),
                format!(
                    "write them as `add` does (all four tools); for other tools run `git agent guard {} --guardrails LIST`",
                    a.name
                ),
            ),
            Problem::ChecksWorktree { path, breakage } => (
                format!(
                    "the checks worktree {} is broken: {}",
                    path.display(),
                    breakage.describe()
                ),
                "run `git agent doctor --fix` to make it anew (the next landing also does)".into(),
            ),
        }
    }
}

fn base_moved_text(base: &str, old: &str, new: &str, why: &str) -> (String, String) {
    (
        format!(
            "{base} moved {}..{} outside `git agent land`: {why}",
            &old[..12.min(old.len())],
            &new[..12.min(new.len())]
        ),
        format!(
            "see what it brought with `git agent audit` and `git reflog {base}`; undo it by hand if it was not meant, then land the work through `git agent land` (reported until the next landing)"
        ),
    )
}

fn directory_missing_text(a: &Agent) -> (String, String) {
    (
        format!(
            "agent '{}': its worktree {} is missing (deleted or moved by hand)",
            a.name,
            a.path.display()
        ),
        format!(
            "if you moved it, run `git worktree repair NEWPATH` first; otherwise recreate it from branch {}",
            a.branch
        ),
    )
}

fn branch_missing_text(a: &Agent) -> (String, String) {
    (
        format!("agent '{}': its branch {} is missing", a.name, a.branch),
        if a.path.is_dir() {
            "recreate the branch at the worktree's HEAD, or at the base if that is gone too".into()
        } else {
            "remove the registry entry: neither its branch nor its worktree exists".into()
        },
    )
}

/// An `agent/NAME` branch checked out without an entry; `invalid` says why
/// NAME cannot be an agent's name, when it cannot.
fn unregistered_text(name: &str, path: &Path, invalid: Option<&String>) -> (String, String) {
    match invalid {
        None => (
            format!(
                "branch agent/{name} is checked out in {} but is not a registered agent",
                path.display()
            ),
            format!(
                "register it as agent '{name}' with an empty scope (widen it with `git agent scope add {name} PAT`)"
            ),
        ),
        Some(why) => (
            format!(
                "branch agent/{name} is checked out in {} but is not a registered agent, and '{name}' cannot be an agent's name: {why}",
                path.display()
            ),
            format!(
                "rename it (git -C {} branch -m agent/NEWNAME), then run `git agent doctor --fix` again to register it; --fix leaves it alone until then",
                crate::ops::gate::shell_quote(&path.to_string_lossy())
            ),
        ),
    }
}

/// A copy's problem and fix: `name`'s stale copy at `path`.
fn stray_copy_text(name: &str, path: &Path) -> (String, String) {
    (
        format!(
            "{} is a stale copy of agent '{name}''s worktree (its .git names an admin directory the agent no longer uses)",
            path.display()
        ),
        format!("archive its work under refs/agent-archive/{name}/, then remove it"),
    )
}

/// A copy's problem and fix: `path` shares `agent`'s admin directory.
fn shared_admin_dir_text(agent: &Agent, path: &Path, admin: &Path) -> (String, String) {
    (
        format!(
            "{} and agent '{}''s worktree {} share one git admin directory ({}): one index, one HEAD, two writers",
            path.display(),
            agent.name,
            agent.path.display(),
            admin.display()
        ),
        format!(
            "archive the copy's work under refs/agent-archive/{}/, then remove the copy",
            agent.name
        ),
    )
}

/// An unregistered branch in the main worktree: the problem, and why --fix waits.
fn in_main_worktree_text(name: &str, path: &Path) -> (String, String) {
    (
        format!(
            "branch agent/{name} belongs to no agent and is checked out in the main worktree {}",
            path.display()
        ),
        "switch the main worktree to another branch (git switch main), then run `git agent doctor --fix` again to archive it; --fix leaves it alone until then".into(),
    )
}

/// An unsealed entry's problem, showing what would be sealed, and its fix.
fn unsealed_text(a: &Agent) -> (String, String) {
    (
        format!(
            "agent '{}' carries no seal (added before seals, or its seal record was deleted); as it is now: scope [{}], areas [{}], role {}, base {}",
            a.name,
            a.scope.join(", "),
            a.areas.join(", "),
            a.role,
            a.base
        ),
        "if that is what you set, seal it with `git agent doctor --reseal`; otherwise correct it first with `git agent scope set`".into(),
    )
}

impl Problem {
    /// The problem's name in `doctor --json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::HalfAdded(_) => "half_added",
            Problem::Moved(..) => "moved",
            Problem::StrayCopy { .. } => "stray_copy",
            Problem::SharedAdminDir { .. } => "shared_admin_dir",
            Problem::DirectoryMissing(_) => "directory_missing",
            Problem::BranchMissing(_) => "branch_missing",
            Problem::Unregistered { .. } => "unregistered",
            Problem::InvalidName { .. } => "invalid_name",
            Problem::OrphanBranch(_) => "orphan_branch",
            Problem::InMainWorktree { .. } => "in_main_worktree",
            Problem::StaleLease { .. } => "stale_lease",
            Problem::CloneMissing(_) => "clone_missing",
            Problem::Tampered(..) => "tampered",
            Problem::Unsealed(_) => "unsealed",
            Problem::BaseMovedOutsideLand { .. } => "base_moved_outside_land",
            Problem::GuardrailsMissing(_) => "guardrails_missing",
            Problem::ChecksWorktree { .. } => "checks_worktree",
        }
    }

    /// Whether this run repairs it; the others need a person first. A seal
    /// problem is never accepted by `--fix` alone: it puts sealed values
    /// back, and only `--reseal` accepts what is there now.
    pub fn fixable(&self, how: Repairs) -> bool {
        match self {
            Problem::InMainWorktree { .. }
            | Problem::InvalidName { .. }
            | Problem::BaseMovedOutsideLand { .. } => false,
            Problem::Tampered(_, t) => how.reseal || (how.fix && t.restorable),
            Problem::Unsealed(_) => how.reseal,
            _ => how.fix,
        }
    }
}

/// Git's registered worktrees: (path, checked-out branch short name).
fn git_worktrees(repo: &gix::Repository) -> Result<Vec<(PathBuf, Option<String>)>> {
    let mut out = Vec::new();
    for proxy in repo.worktrees().git("listing worktrees")? {
        let Ok(base) = proxy.base() else { continue };
        let head = std::fs::read_to_string(proxy.git_dir().join("HEAD")).unwrap_or_default();
        let branch = head
            .trim()
            .strip_prefix("ref: refs/heads/")
            .map(str::to_owned);
        out.push((base, branch));
    }
    Ok(out)
}

/// The main worktree and its branch: `repo.worktrees()` lists only the
/// linked ones.
fn main_worktree(repo: &gix::Repository) -> Option<(PathBuf, Option<String>)> {
    let main = repo.main_repo().ok()?;
    let path = main.workdir()?.to_owned();
    Some((path, repo::current_branch(&main)))
}

/// Every problem: the registered agents', their seals', stray copies',
/// and `agent/` branches without an entry.
pub fn find(repo: &gix::Repository) -> Result<Vec<Problem>> {
    let agents = context::registry(repo).load()?;
    let worktrees = git_worktrees(repo)?;
    let found = copies::scan(repo, &copies::search_roots(repo, &agents));
    let mut problems = Vec::new();
    for agent in agents.values() {
        agent_problems(repo, agent, &agents, &worktrees, &found, &mut problems)?;
    }
    problems.extend(seal_problems(repo, &agents)?);
    problems.extend(copy_problems(repo, &agents, &found));
    problems.extend(unregistered_branches(repo, &agents, &worktrees)?);
    problems.extend(base_moves(repo)?);
    problems.extend(
        checking::broken(repo)
            .into_iter()
            .map(|(path, breakage)| Problem::ChecksWorktree { path, breakage }),
    );
    Ok(problems)
}

/// Moves of the base since its last landing that `land` did not make.
fn base_moves(repo: &gix::Repository) -> Result<Vec<Problem>> {
    let base = repo::default_base(repo)?;
    if repo::branch_tip(repo, &base)?.is_none() {
        return Ok(Vec::new());
    }
    Ok(crate::ops::audit::moves_since_last_land(repo, &base)?
        .into_iter()
        .map(|m| Problem::BaseMovedOutsideLand {
            base: base.clone(),
            old: m.old,
            new: m.new,
            why: m.problem,
        })
        .collect())
}

/// A registered agent's problems: a half-done add, a stale lease, its
/// directory or its branch gone or moved.
fn agent_problems(
    repo: &gix::Repository,
    agent: &Agent,
    agents: &registry::Agents,
    worktrees: &[(PathBuf, Option<String>)],
    found: &[copies::Found],
    problems: &mut Vec<Problem>,
) -> Result<()> {
    if agent.state == State::Adding {
        if agent
            .adding_pid
            .is_some_and(|pid| !registry::process_is_gone(pid))
        {
            return Ok(()); // still being added
        }
        problems.push(Problem::HalfAdded(agent.clone()));
        return Ok(());
    }
    if let Some(l) = lease::stale(repo.common_dir(), &agent.name)? {
        problems.push(Problem::StaleLease {
            agent: agent.name.clone(),
            pid: l.pid,
        });
    }
    if agent.mode == Mode::Clone {
        if !agent.path.is_dir() {
            let wanted = copies::Link::Clone(Some(agent.branch.clone()));
            match found
                .iter()
                .find(|f| f.link == wanted && !is_registered(&f.dir, agents))
            {
                Some(f) => problems.push(Problem::Moved(agent.clone(), f.dir.clone())),
                None => problems.push(Problem::CloneMissing(agent.clone())),
            }
        } else if repo::branch_tip(&context::branch_repo(repo, agent)?, &agent.branch)?.is_none() {
            problems.push(Problem::BranchMissing(agent.clone()));
        } else if crate::ops::guardrails::never_written(&agent.path) {
            problems.push(Problem::GuardrailsMissing(agent.clone()));
        }
        return Ok(());
    }
    let branch_exists = repo::branch_tip(repo, &agent.branch)?.is_some();
    if !agent.path.is_dir() {
        let by_git = worktrees
            .iter()
            .find(|(path, branch)| {
                branch.as_deref() == Some(agent.branch.as_str()) && path.is_dir()
            })
            .map(|(p, _)| p.clone());
        let by_scan = copies::admin_dir_of(repo, agent).and_then(|admin| {
            let link = copies::Link::Worktree(admin);
            found.iter().find(|f| f.link == link).map(|f| f.dir.clone())
        });
        match by_git.or(by_scan) {
            Some(to) if agent.mode == Mode::Worktree => {
                problems.push(Problem::Moved(agent.clone(), to))
            }
            _ if branch_exists => problems.push(Problem::DirectoryMissing(agent.clone())),
            _ => {}
        }
    }
    if !branch_exists {
        problems.push(Problem::BranchMissing(agent.clone()));
    } else if agent.path.is_dir() && crate::ops::guardrails::never_written(&agent.path) {
        problems.push(Problem::GuardrailsMissing(agent.clone()));
    }
    Ok(())
}

/// `agent/NAME` branches with no registry entry.
fn unregistered_branches(
    repo: &gix::Repository,
    agents: &registry::Agents,
    worktrees: &[(PathBuf, Option<String>)],
) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let refs = repo.references().git("reading refs")?;
    for r in refs.prefixed("refs/heads/agent/").git("reading branches")? {
        let r = r.git("reading a branch")?;
        let name = r
            .name()
            .as_bstr()
            .to_str_lossy()
            .trim_start_matches("refs/heads/agent/")
            .to_owned();
        if agents.contains_key(&name) {
            continue;
        }
        let branch = format!("agent/{name}");
        if let Some((path, _)) =
            main_worktree(repo).filter(|(_, b)| b.as_deref() == Some(branch.as_str()))
        {
            problems.push(Problem::InMainWorktree { name, path });
            continue;
        }
        match worktrees
            .iter()
            .find(|(p, b)| b.as_deref() == Some(branch.as_str()) && p.is_dir())
        {
            Some((path, _)) => problems.push(match registry::validate_name(&name) {
                Ok(()) => Problem::Unregistered {
                    name,
                    path: path.clone(),
                },
                Err(why) => Problem::InvalidName {
                    name,
                    path: path.clone(),
                    why,
                },
            }),
            None => problems.push(Problem::OrphanBranch(name)),
        }
    }
    Ok(problems)
}

/// Agents whose entry or gate changed since sealed, or that carry no seal.
/// An agent still being added is sealed when its `add` finishes.
fn seal_problems(repo: &gix::Repository, agents: &registry::Agents) -> Result<Vec<Problem>> {
    let checker = sealing::Checker::load(repo.common_dir())?;
    let mut problems = Vec::new();
    for agent in agents.values().filter(|a| a.state == State::Ready) {
        match checker.verify(agent)? {
            sealing::Verdict::Sealed => {}
            sealing::Verdict::Unsealed => problems.push(Problem::Unsealed(agent.clone())),
            sealing::Verdict::Tampered(t) => problems.push(Problem::Tampered(agent.clone(), t)),
        }
    }
    Ok(problems)
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
}

fn is_registered(dir: &Path, agents: &registry::Agents) -> bool {
    let dir = canonical(dir);
    agents.values().any(|a| canonical(&a.path) == dir)
}

/// Directories on an admin directory that is not theirs: beside a live
/// agent's worktree on its admin directory, or on one `doctor` retired, or
/// a second checkout of a live agent's branch.
fn copy_problems(
    repo: &gix::Repository,
    agents: &registry::Agents,
    found: &[copies::Found],
) -> Vec<Problem> {
    let live: Vec<(&Agent, PathBuf)> = agents
        .values()
        .filter(|a| a.mode == Mode::Worktree && a.path.is_dir())
        .filter_map(|a| copies::worktree_link(&a.path).map(|admin| (a, admin)))
        .collect();
    let mut problems = Vec::new();
    for f in found {
        let copies::Link::Worktree(admin) = &f.link else {
            continue;
        };
        if is_registered(&f.dir, agents) {
            continue;
        }
        let stray = |name: String, agent: Option<Agent>| Problem::StrayCopy {
            name,
            agent,
            path: f.dir.clone(),
            admin: admin.clone(),
        };
        if let Some(name) = copies::retired_agent(admin) {
            let agent = agents.get(&name).cloned();
            problems.push(stray(name, agent));
        } else if let Some((agent, _)) = live.iter().find(|(_, a)| a == admin) {
            problems.push(Problem::SharedAdminDir {
                agent: (*agent).clone(),
                path: f.dir.clone(),
                admin: admin.clone(),
            });
        } else if let Some(agent) = copies::branch_agent(admin, agents)
            && agent.path.is_dir()
            && copies::admin_dir_of(repo, agent).as_ref() != Some(admin)
        {
            problems.push(stray(agent.name.clone(), Some(agent.clone())));
        }
    }
    problems
}

/// Repair `problem`. `Some((branch, archive ref))` when a branch with
/// unlanded work was archived before it was deleted.
pub fn repair(
    repo: &gix::Repository,
    problem: &Problem,
    how: Repairs,
    progress: &dyn Progress,
) -> Result<Option<(String, String)>> {
    let registry = context::registry(repo);
    match problem {
        Problem::Tampered(agent, _) | Problem::Unsealed(agent) if how.reseal => {
            registry.update(|agents| sealing::seal(repo.common_dir(), agents, &[&agent.name]))?;
        }
        Problem::Tampered(agent, _) => restore_sealed(repo, agent)?,
        Problem::Unsealed(_) => {}
        Problem::HalfAdded(agent) => return roll_back(repo, agent, progress),
        Problem::Moved(agent, to) => follow_move(repo, agent, to)?,
        Problem::DirectoryMissing(agent) => {
            recreate_worktree(repo, agent, progress)?;
            provide_guardrails(repo, agent)?;
        }
        Problem::GuardrailsMissing(agent) => provide_guardrails(repo, agent)?,
        Problem::BranchMissing(agent) => recreate_branch(repo, agent)?,
        Problem::ChecksWorktree { path, .. } => checking::repair(repo, path)?,
        Problem::Unregistered { name, path } => {
            let base = repo::default_base(repo)?;
            let name = name.clone();
            let path = path.clone();
            let agent = registry.update(|agents| {
                let mut agent = adopted(&name, path, base);
                agent.port = Some(registry::free_port(&name, agents));
                agents.insert(name.clone(), agent.clone());
                // Adopted with an empty scope: nothing to widen, safe to seal.
                sealing::seal(repo.common_dir(), agents, &[&name])?;
                Ok(agent)
            })?;
            if crate::ops::guardrails::never_written(&agent.path) {
                provide_guardrails(repo, &agent)?;
            }
        }
        Problem::OrphanBranch(name) => {
            let agent = adopted(name, PathBuf::new(), repo::default_base(repo)?);
            // Nothing tells which base it was for: keep all of it.
            return delete_branch_keeping_work(repo, &agent, true);
        }
        Problem::InMainWorktree { .. }
        | Problem::InvalidName { .. }
        | Problem::BaseMovedOutsideLand { .. } => {}
        Problem::StrayCopy {
            name,
            agent,
            path,
            admin,
        } => {
            let agent = agent
                .clone()
                .unwrap_or_else(|| adopted(name, PathBuf::new(), String::new()));
            return remove_copy(repo, &agent, path, Some(admin)).map(Some);
        }
        Problem::SharedAdminDir { agent, path, .. } => {
            return remove_copy(repo, agent, path, None).map(Some);
        }
        Problem::CloneMissing(agent) => {
            registry.update(|agents| {
                agents.remove(&agent.name);
                Ok(())
            })?;
        }
        Problem::StaleLease { agent, .. } => {
            let path = lease::lease_path(repo.common_dir(), agent);
            std::fs::remove_file(&path)
                .map_err(Error::io(format!("removing {}", path.display())))?;
        }
    }
    Ok(None)
}

/// Roll back an `add` that stopped half-way, keeping any work written
/// into it since.
fn roll_back(
    repo: &gix::Repository,
    agent: &Agent,
    progress: &dyn Progress,
) -> Result<Option<(String, String)>> {
    let registry = context::registry(repo);
    // Work may have been written into it since: archive first.
    let kept = archive_worktree_work(repo, agent)?;
    crate::state::crash::point("doctor:roll-back:after-archive");
    rm::remove_worktree(repo, agent, progress)?;
    crate::state::crash::point("doctor:roll-back:after-worktree-removal");
    let archived = match kept {
        Some(reference) => {
            delete_branch(repo, agent)?;
            Some((agent.branch.clone(), reference))
        }
        None => delete_branch_keeping_work(repo, agent, false)?,
    };
    crate::state::crash::point("doctor:roll-back:after-branch-deletion");
    registry.update(|agents| {
        agents.remove(&agent.name);
        Ok(())
    })?;
    Ok(archived)
}

/// Re-adopt a moved directory where it is, and record the new place.
fn follow_move(repo: &gix::Repository, agent: &Agent, to: &Path) -> Result<()> {
    if agent.mode == Mode::Worktree {
        // Links the admin directory and the moved directory both
        // ways again: git's own repair, gix has none.
        crate::git::run(
            &main_dir(repo),
            &["worktree", "repair", &to.to_string_lossy()],
        )?;
    }
    let to = canonical(to);
    context::registry(repo).update(|agents| {
        if let Some(a) = agents.get_mut(&agent.name) {
            a.path = to.clone();
        }
        // The seal follows the move; nothing else in it changes.
        sealing::follow_move(repo.common_dir(), &agent.name, &to)
    })
}

/// Check the agent's branch out again where its worktree was.
fn recreate_worktree(repo: &gix::Repository, agent: &Agent, progress: &dyn Progress) -> Result<()> {
    // A copy may still turn up, on the old admin directory: retire
    // it, so the new worktree gets a fresh one and never shares.
    if let Some(admin) = copies::admin_dir_of(repo, agent) {
        copies::retire(repo, agent, &admin)?;
    }
    crate::ops::removal::prune_worktrees(repo, &main_dir(repo))?;
    crate::ops::provision::check_out_agent(repo, &context::registry(repo), agent, progress)
}

/// The default guardrails and the brief, written as `add` writes them.
fn provide_guardrails(repo: &gix::Repository, agent: &Agent) -> Result<()> {
    crate::ops::guardrails::provide(repo, &agent.name, &agent.path, &crate::ops::guardrails::ALL)
}

/// Recreate the agent's branch at its worktree's HEAD (or the base), or
/// drop the entry when the worktree is gone too.
fn recreate_branch(repo: &gix::Repository, agent: &Agent) -> Result<()> {
    if !agent.path.is_dir() {
        return context::registry(repo).update(|agents| {
            agents.remove(&agent.name);
            Ok(())
        });
    }
    let at = gix::open(&agent.path)
        .ok()
        .and_then(|wt| {
            wt.head_id()
                .ok()
                .map(|i| i.detach())
                .or_else(|| last_head_from_reflog(&wt))
        })
        .or(repo::branch_tip(repo, &agent.base)?);
    let Some(at) = at else {
        return Err(Error::usage(
            format!(
                "cannot recreate {}: neither the worktree's HEAD nor base {} exists",
                agent.branch, agent.base
            ),
            format!(
                "create it by hand (git branch {} <commit>), then run doctor again",
                agent.branch
            ),
        ));
    };
    context::branch_repo(repo, agent)?
        .reference(
            format!("refs/heads/{}", agent.branch).as_str(),
            at,
            gix::refs::transaction::PreviousValue::MustNotExist,
            "git-agent doctor: recreate agent branch",
        )
        .git("recreating the branch")?;
    Ok(())
}

/// Put the values `git agent` sealed back into the agent's entry.
fn restore_sealed(repo: &gix::Repository, agent: &Agent) -> Result<()> {
    let checker = sealing::Checker::load(repo.common_dir())?;
    let Some(sealed) = checker.sealed(&agent.name).cloned() else {
        return Ok(());
    };
    context::registry(repo).update(|agents| {
        if let Some(a) = agents.get_mut(&agent.name) {
            sealed.restore_into(a);
        }
        Ok(())
    })
}

/// Delete the agent's branch; archive it first if it holds commits the
/// base lacks, and then say under which ref: `Some((branch, archive ref))`.
fn delete_branch_keeping_work(
    repo: &gix::Repository,
    agent: &Agent,
    always: bool,
) -> Result<Option<(String, String)>> {
    let full = format!("refs/heads/{}", agent.branch);
    let Some(reference) = repo
        .try_find_reference(full.as_str())
        .git("looking up the branch")?
    else {
        return Ok(None);
    };
    let mut archived = None;
    if (always || !rm::unlanded_commits(repo, agent)?.is_empty())
        && let Some(tip) = repo::branch_tip(repo, &agent.branch)?
    {
        archived = Some((
            agent.branch.clone(),
            archive::write(repo, agent, tip, false)?,
        ));
    }
    match reference.target().try_id() {
        Some(old) => repo::delete_ref(repo, &full, old.to_owned())?,
        None => reference.delete().git("deleting the branch")?,
    }
    Ok(archived)
}

fn main_dir(repo: &gix::Repository) -> PathBuf {
    repo::main_workdir(repo).unwrap_or_else(|| repo.common_dir().to_owned())
}

/// Archive the copy at `path` of `agent`'s worktree (its commits, and its
/// uncommitted and untracked files, as `rm --force` does), then delete the
/// directory, and `admin` with it when it serves no agent and no other
/// copy. `(what, archive ref)`.
fn remove_copy(
    repo: &gix::Repository,
    agent: &Agent,
    path: &Path,
    admin: Option<&PathBuf>,
) -> Result<(String, String)> {
    let mut copy = agent.clone();
    copy.path = path.to_owned();
    let tip = gix::open(path)
        .ok()
        .and_then(|r| r.head_id().ok().map(|i| i.detach()))
        .or(repo::branch_tip(repo, &agent.branch)?)
        .ok_or_else(|| {
            Error::usage(
                format!("{}: no commit to archive its work on", path.display()),
                "move the directory away by hand, then run doctor again",
            )
        })?;
    let dirty = !crate::ops::status::dirty(path).is_ok_and(|d| d.is_clean());
    let reference = archive::write(repo, &copy, tip, dirty)?;
    std::fs::remove_dir_all(path).map_err(Error::io(format!("removing {}", path.display())))?;
    if let Some(admin) = admin {
        let agents = context::registry(repo).load()?;
        let link = copies::Link::Worktree(admin.clone());
        let still_used = copies::scan(repo, &copies::search_roots(repo, &agents))
            .iter()
            .any(|f| f.link == link)
            || agents
                .values()
                .any(|a| copies::admin_dir_of(repo, a).as_ref() == Some(admin));
        if !still_used && admin.starts_with(canonical(&repo.common_dir().join("worktrees"))) {
            std::fs::remove_dir_all(admin)
                .map_err(Error::io(format!("removing {}", admin.display())))?;
        }
    }
    Ok((format!("the copy {}", path.display()), reference))
}

fn delete_branch(repo: &gix::Repository, agent: &Agent) -> Result<()> {
    repo::delete_ref_if_present(repo, &format!("refs/heads/{}", agent.branch))
}

/// Archive the uncommitted and untracked files of `agent`'s directory, as
/// `rm --force` does, when it has any; the archive ref.
fn archive_worktree_work(repo: &gix::Repository, agent: &Agent) -> Result<Option<String>> {
    if !agent.path.is_dir() || gix::open(&agent.path).is_err() {
        return Ok(None);
    }
    // A worktree whose status cannot be read is archived all the same.
    if crate::ops::status::dirty(&agent.path).is_ok_and(|d| d.is_clean()) {
        return Ok(None);
    }
    let tip = match repo::branch_tip(&context::branch_repo(repo, agent)?, &agent.branch)? {
        Some(tip) => Some(tip),
        None => gix::open(&agent.path)
            .ok()
            .and_then(|r| r.head_id().ok().map(|i| i.detach())),
    };
    match tip {
        Some(tip) => archive::write(repo, agent, tip, true).map(Some),
        None => Ok(None),
    }
}

/// With its branch deleted, a worktree's HEAD names a missing ref; its HEAD
/// reflog still knows the last commit it was on.
fn last_head_from_reflog(wt: &gix::Repository) -> Option<gix::ObjectId> {
    let log = std::fs::read_to_string(wt.git_dir().join("logs").join("HEAD")).ok()?;
    let last = log.lines().rev().find(|l| !l.trim().is_empty())?;
    let new = last.split(' ').nth(1)?;
    let id = gix::ObjectId::from_hex(new.as_bytes()).ok()?;
    wt.find_commit(id).ok().map(|c| c.id)
}

/// A registry entry for an `agent/NAME` branch found without one: an empty
/// scope until a person widens it.
fn adopted(name: &str, path: PathBuf, base: String) -> Agent {
    Agent {
        name: name.to_owned(),
        branch: format!("agent/{name}"),
        path,
        base,
        scope: Vec::new(),
        areas: Vec::new(),
        task: None,
        role: Default::default(),
        mode: Mode::Worktree,
        state: State::Ready,
        created: registry::now_unix(),
        port: None,
        adding_pid: None,
        setup_failed: false,
        sparse: false,
    }
}
