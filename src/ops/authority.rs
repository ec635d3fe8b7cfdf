//! Who may run the commands that grant, remove or integrate: humans
//! orchestrate (SPEC: Landing). An agent works inside its scope; adding
//! agents, changing scopes, removing, restoring, landing, syncing another
//! agent, and turning the gate on or off are for the person orchestrating
//! them. This module is the one place that decides it.

use std::path::PathBuf;

use serde::Serialize;

use crate::Io;
use crate::error::{Error, RefusalReport, Result};
use crate::git::repo;
use crate::ops::context;

/// A command that only a person may run, with the agent it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    Add(&'a str),
    EditScope(&'a str),
    Remove(&'a str),
    Restore(&'a str),
    Land(&'a str),
    Unland(&'a str),
    /// An agent may sync its own branch, not another's.
    Sync(&'a str),
    InstallHooks,
    UninstallHooks,
    DoctorFix,
    Init,
}

impl Action<'_> {
    /// What is refused, as in "refusing to ...".
    fn verb(self) -> String {
        match self {
            Action::Add(name) => format!("add agent '{name}'"),
            Action::EditScope(name) => format!("edit a scope (agent '{name}')"),
            Action::Remove(name) => format!("remove agent '{name}'"),
            Action::Restore(name) => format!("restore agent '{name}'"),
            Action::Land(name) => format!("land agent '{name}'"),
            Action::Unland(name) => format!("unland agent '{name}'"),
            Action::Sync(name) => format!("sync agent '{name}'"),
            Action::InstallHooks => "install the pre-commit gate".to_owned(),
            Action::UninstallHooks => "uninstall the pre-commit gate".to_owned(),
            Action::DoctorFix => "repair the repository (doctor --fix)".to_owned(),
            Action::Init => "initialise git-agent (init)".to_owned(),
        }
    }

    /// The command the person runs instead.
    fn command(self) -> String {
        match self {
            Action::Add(name) => format!("git agent add {name} ..."),
            Action::EditScope(name) => format!("git agent scope add|set|rm {name} ..."),
            Action::Remove(name) => format!("git agent rm {name}"),
            Action::Restore(name) => format!("git agent restore {name}"),
            Action::Land(name) => format!("git agent land {name}"),
            Action::Unland(name) => format!("git agent unland {name}"),
            Action::Sync(name) => format!("git agent sync {name}"),
            Action::InstallHooks => "git agent hooks install".to_owned(),
            Action::UninstallHooks => "git agent hooks uninstall".to_owned(),
            Action::DoctorFix => "git agent doctor --fix".to_owned(),
            Action::Init => "git agent init".to_owned(),
        }
    }
}

/// How we know we are in an agent's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// `GIT_AGENT` is set (as `git agent exec` sets it).
    Env,
    /// The command runs inside the agent's worktree.
    Worktree(PathBuf),
    /// The command runs inside the agent's clone.
    Clone(PathBuf),
}

/// The agent whose context a command runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentContext {
    pub name: String,
    pub via: Via,
}

/// Every agent context the command is in: `GIT_AGENT`, and the agent whose
/// worktree or clone holds the repository `here` was opened from. An agent's
/// clone whose entry is gone still counts, under its directory's name.
pub fn contexts(here: &gix::Repository) -> Result<Vec<AgentContext>> {
    let control = repo::control(here)?;
    let agents = context::registry(control.as_ref().unwrap_or(here)).load()?;
    Ok(contexts_among(here, control.is_some(), &agents))
}

/// [`contexts`], given the registry `agents` (the one of `here`'s home
/// repository) and whether `here` is an agent's clone.
pub fn contexts_among(
    here: &gix::Repository,
    is_clone: bool,
    agents: &crate::state::registry::Agents,
) -> Vec<AgentContext> {
    let mut found = Vec::new();
    if let Some(name) = std::env::var_os("GIT_AGENT").filter(|v| !v.is_empty()) {
        found.push(AgentContext {
            name: name.to_string_lossy().into_owned(),
            via: Via::Env,
        });
    }
    let workdir = here.workdir().map(ToOwned::to_owned);
    if is_clone {
        let dir = workdir.unwrap_or_else(|| here.git_dir().to_owned());
        let name = context::agent_of_worktree(here, agents)
            .map(|a| a.name.clone())
            .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        found.push(AgentContext {
            name,
            via: Via::Clone(dir),
        });
        return found;
    }
    if let (Some(agent), Some(dir)) = (context::agent_of_worktree(here, agents), workdir) {
        found.push(AgentContext {
            name: agent.name.clone(),
            via: Via::Worktree(dir),
        });
    } else if let Some(name) = marked_agent(here) {
        // git runs in an agent's git directory without its worktree, as
        // `git push . HEAD:main` from that worktree runs receive-pack.
        found.push(AgentContext {
            name,
            via: Via::Worktree(here.git_dir().to_owned()),
        });
    }
    found
}

/// The agent whose mark (left by `add`) is in `here`'s git directory.
fn marked_agent(here: &gix::Repository) -> Option<String> {
    let text = std::fs::read_to_string(here.git_dir().join(crate::state::marker::FILE)).ok()?;
    Some(text.trim().to_owned()).filter(|n| !n.is_empty())
}

/// Why a commit here is not the agent's to make, when `GIT_AGENT` names an
/// agent and this is not its worktree or clone. Without `GIT_AGENT` nothing
/// is looked up: the gate runs on every commit.
pub fn commit_away_from_home(here: &gix::Repository) -> Result<Option<String>> {
    if std::env::var_os("GIT_AGENT").is_none_or(|v| v.is_empty()) {
        return Ok(None);
    }
    Ok(away_from_home(&contexts(here)?))
}

/// Why a commit here is not agent `GIT_AGENT`'s to make: `GIT_AGENT=NAME`
/// is set, but git runs outside NAME's worktree or clone (in the main
/// worktree, or another agent's). `None` when no such agent is set, or
/// this is its own place.
pub fn away_from_home(contexts: &[AgentContext]) -> Option<String> {
    let env = contexts.iter().find(|c| c.via == Via::Env)?;
    let home = |c: &&AgentContext| c.via != Via::Env;
    if contexts.iter().filter(home).any(|c| c.name == env.name) {
        return None;
    }
    let here = match contexts.iter().find(home) {
        Some(other) => format!("agent '{}''s worktree", other.name),
        None => "not an agent's worktree (the main worktree, or another checkout)".to_owned(),
    };
    Some(format!(
        "GIT_AGENT={} is set, but this is {here}: an agent commits only in its own worktree\n  \
         Commit in agent '{}''s worktree (`git agent list` shows where it is); a person committing here unsets GIT_AGENT.",
        env.name, env.name
    ))
}

/// Why an agent may not run a command.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub agent: String,
    pub message: String,
}

impl Refusal {
    pub const REASON: &'static str = "agent_context";

    pub fn report(&self) -> RefusalReport {
        RefusalReport::new(Self::REASON, self.message.clone())
    }

    /// Say it on stderr, and with `json` print `{version, refusal}` on
    /// stdout, for commands without a report of their own.
    pub fn render(&self, io: &mut Io, json: bool) -> Result<()> {
        if json {
            #[derive(Serialize)]
            struct Json {
                version: u32,
                refusal: RefusalReport,
            }
            let text = serde_json::to_string_pretty(&Json {
                version: 1,
                refusal: self.report(),
            })
            .expect("serialises");
            return writeln!(io.out, "{text}").map_err(Error::io("writing"));
        }
        self.say(io)
    }

    /// Say it on stderr only.
    pub fn say(&self, io: &mut Io) -> Result<()> {
        let paint = io.color.err(None);
        writeln!(io.err, "{}", self.report().text(paint)).map_err(Error::io("writing"))
    }
}

/// Whether the command run from `here` may do `action`: `None` when it may,
/// else the refusal that names the agent and what a person runs instead.
pub fn who_may_act(here: &gix::Repository, action: Action) -> Result<Option<Refusal>> {
    Ok(decide(&contexts(here)?, action))
}

fn decide(contexts: &[AgentContext], action: Action) -> Option<Refusal> {
    let offending = contexts.iter().find(|c| match action {
        Action::Sync(target) => c.name != target,
        _ => true,
    })?;
    let place = match &offending.via {
        Via::Env => format!("GIT_AGENT={}", offending.name),
        Via::Worktree(dir) => format!("its worktree {}", dir.display()),
        Via::Clone(dir) => format!("its clone {}", dir.display()),
    };
    let unset = if contexts.iter().any(|c| c.via == Via::Env) {
        ", without GIT_AGENT set"
    } else {
        ""
    };
    Some(Refusal {
        agent: offending.name.clone(),
        message: format!(
            "refusing to {} from inside agent '{}''s context ({place})\n  \
             Humans orchestrate: the person running the agents does this, with `{}` from the main worktree{unset}.",
            action.verb(),
            offending.name,
            action.command(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(name: &str, via: Via) -> AgentContext {
        AgentContext {
            name: name.to_owned(),
            via,
        }
    }

    #[test]
    fn a_person_may_do_anything() {
        for action in [
            Action::Add("a"),
            Action::Land("a"),
            Action::Sync("a"),
            Action::UninstallHooks,
            Action::Init,
        ] {
            assert!(decide(&[], action).is_none());
        }
    }

    #[test]
    fn an_agent_commits_only_at_home() {
        assert!(away_from_home(&[]).is_none());
        let at_home = [ctx("a", Via::Env), ctx("a", Via::Worktree("/w/a".into()))];
        assert!(away_from_home(&at_home).is_none());
        let main = [ctx("a", Via::Env)];
        assert!(
            away_from_home(&main)
                .unwrap()
                .contains("not an agent's worktree")
        );
        let other = [ctx("a", Via::Env), ctx("b", Via::Clone("/w/b".into()))];
        assert!(
            away_from_home(&other)
                .unwrap()
                .contains("agent 'b''s worktree")
        );
        // No GIT_AGENT: the worktree decides, as before.
        assert!(away_from_home(&[ctx("b", Via::Worktree("/w/b".into()))]).is_none());
    }

    #[test]
    fn an_agent_may_sync_itself_only() {
        let env = [ctx("a", Via::Env)];
        assert!(decide(&env, Action::Sync("a")).is_none());
        let refusal = decide(&env, Action::Sync("b")).expect("refused");
        assert_eq!(refusal.agent, "a");
        assert!(refusal.message.contains("git agent sync b"));
        // Both contexts must be the target's.
        let both = [ctx("a", Via::Env), ctx("b", Via::Worktree("/w/b".into()))];
        assert_eq!(decide(&both, Action::Sync("a")).unwrap().agent, "b");
    }

    #[test]
    fn an_agent_may_not_grant_remove_or_integrate() {
        let wt = [ctx("a", Via::Worktree("/w/a".into()))];
        for action in [
            Action::Add("helper"),
            Action::EditScope("a"),
            Action::Remove("b"),
            Action::Restore("b"),
            Action::Land("a"),
            Action::Unland("a"),
            Action::InstallHooks,
            Action::UninstallHooks,
            Action::DoctorFix,
            Action::Init,
        ] {
            let refusal = decide(&wt, action).expect("refused");
            assert!(
                refusal
                    .message
                    .contains("agent 'a''s context (its worktree /w/a)")
            );
            assert!(!refusal.message.contains("GIT_AGENT"));
        }
    }
}
