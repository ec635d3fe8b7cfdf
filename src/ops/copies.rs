//! Agents' directories moved or copied by hand: where a moved one went, and
//! which directories share, or point at, one worktree's admin directory
//! (`<common>/worktrees/<id>`, its HEAD and index). Two directories on one
//! admin directory are two writers on one index: the thing git-agent exists
//! to prevent.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::repo;
use crate::state::registry::{Agent, Agents, Mode};

/// The `locked` reason that marks an admin directory retired by `doctor`.
const RETIRED: &str = "git-agent: retired admin directory of agent ";

/// A directory found beside the agents, and what it is a checkout of.
#[derive(Debug, Clone)]
pub struct Found {
    pub dir: PathBuf,
    pub link: Link,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A linked worktree: its `.git` file names this admin directory.
    Worktree(PathBuf),
    /// A clone made by `add --clone` for this repository, on this branch.
    Clone(Option<String>),
}

/// Where a moved directory is looked for: the parent of every agent's
/// directory, and the policy's worktrees root.
pub fn search_roots(repo: &gix::Repository, agents: &Agents) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = agents
        .values()
        .filter_map(|a| a.path.parent().map(Path::to_owned))
        .collect();
    if let Ok(base) = repo::default_base(repo) {
        let manifest = repo::load_policy(repo, &base).unwrap_or_default();
        let template = manifest.defaults.worktrees.as_deref();
        if let Ok(p) = crate::ops::provision::default_path(repo, template, "x")
            && let Some(parent) = p.parent()
        {
            roots.push(parent.to_owned());
        }
    }
    let mut seen = Vec::new();
    for r in roots {
        let r = std::fs::canonicalize(&r).unwrap_or(r);
        if !seen.contains(&r) {
            seen.push(r);
        }
    }
    seen
}

/// Every directory directly under `roots` that is a worktree or one of
/// this repository's agent clones.
pub fn scan(repo: &gix::Repository, roots: &[PathBuf]) -> Vec<Found> {
    let mut found = Vec::new();
    for root in roots {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            if !dir.is_dir() {
                continue;
            }
            let dot_git = dir.join(".git");
            if dot_git.is_file() {
                if let Some(admin) = worktree_link(&dir) {
                    found.push(Found {
                        dir,
                        link: Link::Worktree(admin),
                    });
                }
            } else if dot_git.is_dir()
                && let Some(branch) = our_clone_branch(repo, &dir)
            {
                found.push(Found {
                    dir,
                    link: Link::Clone(branch),
                });
            }
        }
    }
    found
}

/// The admin directory a worktree's `.git` file names, made absolute.
pub fn worktree_link(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join(".git")).ok()?;
    let target = text.trim().strip_prefix("gitdir:")?.trim();
    let path = dir.join(target);
    Some(std::fs::canonicalize(&path).unwrap_or(path))
}

/// For a clone of this repository (its home is our common directory, or
/// its origin our main worktree), the branch checked out there.
fn our_clone_branch(repo: &gix::Repository, dir: &Path) -> Option<Option<String>> {
    let clone = gix::open(dir).ok()?;
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let home = clone
        .config_snapshot()
        .trusted_path(repo::HOME_KEY)
        .ok()
        .flatten()
        .map(|p| canon(&p));
    let ours = home == Some(canon(repo.common_dir()));
    let origin = clone
        .config_snapshot()
        .string("remote.origin.url")
        .map(|u| canon(Path::new(&u.to_string())));
    let from_main = origin.is_some() && origin == repo::main_workdir(repo).map(|p| canon(&p));
    (ours || from_main).then(|| repo::current_branch(&clone))
}

/// The admin directories of this repository's linked worktrees.
fn admin_dirs(repo: &gix::Repository) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(repo.common_dir().join("worktrees")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| std::fs::canonicalize(e.path()).unwrap_or_else(|_| e.path()))
        .filter(|p| p.is_dir())
        .collect()
}

/// The worktree directory an admin directory's `gitdir` file names.
fn admin_target(admin: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(admin.join("gitdir")).ok()?;
    Path::new(text.trim()).parent().map(Path::to_owned)
}

fn admin_head(admin: &Path) -> String {
    std::fs::read_to_string(admin.join("HEAD"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The admin directory serving `agent`'s registered directory: the one
/// whose `gitdir` names it, else the live one on the agent's branch.
pub fn admin_dir_of(repo: &gix::Repository, agent: &Agent) -> Option<PathBuf> {
    if agent.mode != Mode::Worktree {
        return None;
    }
    let admins = admin_dirs(repo);
    let same = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
            == std::fs::canonicalize(&agent.path).unwrap_or_else(|_| agent.path.clone())
    };
    if let Some(a) = admins
        .iter()
        .find(|a| retired_agent(a).is_none() && admin_target(a).is_some_and(|t| same(&t)))
    {
        return Some(a.clone());
    }
    let head = format!("ref: refs/heads/{}", agent.branch);
    admins
        .into_iter()
        .find(|a| retired_agent(a).is_none() && admin_head(a) == head)
}

/// The agent an admin directory was retired for, if it was.
pub fn retired_agent(admin: &Path) -> Option<String> {
    let text = std::fs::read_to_string(admin.join("locked")).ok()?;
    text.strip_prefix(RETIRED)
        .map(|rest| rest.lines().next().unwrap_or("").trim().to_owned())
}

/// The agent whose branch an admin directory has checked out.
pub fn branch_agent<'a>(admin: &Path, agents: &'a Agents) -> Option<&'a Agent> {
    let head = admin_head(admin);
    agents
        .values()
        .find(|a| head == format!("ref: refs/heads/{}", a.branch))
}

/// Retire `agent`'s admin directory in place, so a recreated worktree gets
/// a fresh one and a copy that turns up later still has its own index:
/// locked (so `git worktree prune` keeps it, with the copy's index), HEAD
/// detached at the commit it was on (the branch may be checked out again),
/// and its `gitdir` pointed away from the agent's path. These are git's
/// plain admin files; gix has no API to retire a worktree.
pub fn retire(repo: &gix::Repository, agent: &Agent, admin: &Path) -> Result<()> {
    let head = admin_head(admin);
    if let Some(name) = head.strip_prefix("ref: ")
        && let Ok(Some(mut r)) = repo.try_find_reference(name)
        && let Ok(id) = r.peel_to_id()
    {
        write(&admin.join("HEAD"), &format!("{}\n", id.detach()))?;
    }
    write(
        &admin.join("locked"),
        &format!(
            "{RETIRED}{}\nIt was at {}; `git agent doctor` finds copies pointing here.\n",
            agent.name,
            agent.path.display()
        ),
    )?;
    write(
        &admin.join("gitdir"),
        &format!("{}\n", admin.join("retired").join(".git").display()),
    )
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(Error::io(format!("writing {}", path.display())))
}
