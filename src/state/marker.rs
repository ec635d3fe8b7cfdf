//! The mark an agent's git directory carries, so that a hook can tell in
//! one `stat` (no process) that git runs in an agent's worktree or clone.
//! Only presence matters: who the agent is comes from the registry.

use std::path::Path;

use crate::error::{Error, Result};

/// The file's name in the worktree's own git directory (`.git/worktrees/ID`
/// of a linked worktree, `.git` of a clone).
pub const FILE: &str = "git-agent-agent";

/// Mark `git_dir` as agent `name`'s.
pub fn mark(git_dir: &Path, name: &str) -> Result<()> {
    let path = git_dir.join(FILE);
    std::fs::write(&path, format!("{name}\n"))
        .map_err(Error::io(format!("writing {}", path.display())))
}

/// Mark the git directory of the worktree or clone at `dir`, if it is one.
pub fn mark_checkout(dir: &Path, name: &str) -> Result<()> {
    match gix::open(dir) {
        Ok(repo) => mark(repo.git_dir(), name),
        // Gone or not a repository: there is nothing to mark.
        Err(_) => Ok(()),
    }
}
