//! What commands and ops need from the repository together with the
//! registry: the registry itself, the agent whose worktree we are in, and
//! the repository holding an agent's branch. Kept out of `git`, which does
//! not know about agents.

use crate::error::{Error, Result};
use crate::state::registry::{Agent, Agents, Registry};

/// The registry of `repo`'s agents, in its common directory.
pub fn registry(repo: &gix::Repository) -> Registry {
    Registry::new(repo.common_dir())
}

/// The registered agent whose working directory contains `repo`'s worktree.
pub fn agent_of_worktree<'a>(repo: &gix::Repository, agents: &'a Agents) -> Option<&'a Agent> {
    let workdir = repo.workdir()?;
    let here = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_owned());
    agents
        .values()
        .find(|a| std::fs::canonicalize(&a.path).unwrap_or_else(|_| a.path.clone()) == here)
}

/// The repository holding the agent's branch (see [`Agent::branch_repo`]).
pub fn branch_repo(control: &gix::Repository, agent: &Agent) -> Result<gix::Repository> {
    agent.branch_repo(control)
}

/// The error for a command that needs `agent`'s directory when it is gone
/// (deleted or moved by hand).
pub fn directory_missing(agent: &Agent) -> Error {
    Error::usage(
        format!(
            "agent '{}''s directory {} is missing",
            agent.name,
            agent.path.display()
        ),
        "run `git agent doctor` to find and repair it",
    )
}
