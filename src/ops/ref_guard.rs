//! The ref guard: git's `reference-transaction` hook, run by the block
//! `git agent hooks install` writes. In an agent's context (the one
//! [`authority::contexts`] finds) it refuses, while the transaction is
//! `prepared`, every ref update except the agent's own branch, its
//! worktree's HEAD and the per-worktree refs git writes while the agent
//! commits, rebases, merges, stashes or bisects there. The base moves only
//! through `git agent land`, which runs outside every agent's context.

use std::io::BufRead;

use crate::Io;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::authority::{self, AgentContext, Via};
use crate::ops::context;
use crate::state::registry::Agents;

/// The phase git runs the hook in (its first argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The transaction can still be aborted: the only phase with work.
    Prepared,
    /// Committed, aborted, or a phase a later git adds: nothing to decide.
    Other,
}

impl Phase {
    pub fn parse(arg: &str) -> Phase {
        if arg == "prepared" {
            Phase::Prepared
        } else {
            Phase::Other
        }
    }
}

/// One line of the hook's input: `<old> <new> <ref>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub old: String,
    pub new: String,
    pub name: String,
}

impl Update {
    pub fn parse(line: &str) -> Option<Update> {
        let mut parts = line.splitn(3, ' ');
        let (old, new, name) = (parts.next()?, parts.next()?, parts.next()?);
        Some(Update {
            old: old.to_owned(),
            new: new.to_owned(),
            name: name.trim_end().to_owned(),
        })
    }
}

/// What a ref is to the agent whose context git runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `refs/heads/<its branch>`.
    OwnBranch,
    /// `HEAD` and the other root refs (`ORIG_HEAD`, `AUTO_MERGE`,
    /// `CHERRY_PICK_HEAD`, `BISECT_HEAD`...), and `refs/bisect/`,
    /// `refs/rewritten/`, `refs/worktree/`: stored per worktree, so they are
    /// the worktree's own.
    WorktreeLocal,
    /// `refs/stash`, written by `git stash` in any worktree.
    Stash,
    /// Everything else: other branches (the base among them), tags,
    /// remote-tracking refs, `main-worktree/...`, `worktrees/...`.
    Foreign,
}

pub fn classify(name: &str, own_branch: &str) -> RefKind {
    let root_ref = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit());
    if name == own_branch {
        RefKind::OwnBranch
    } else if root_ref
        || ["refs/bisect/", "refs/rewritten/", "refs/worktree/"]
            .iter()
            .any(|p| name.starts_with(p))
    {
        RefKind::WorktreeLocal
    } else if name == "refs/stash" {
        RefKind::Stash
    } else {
        RefKind::Foreign
    }
}

/// An agent context with what the guard needs of it.
struct Guarded<'a> {
    context: &'a AgentContext,
    /// `refs/heads/<branch>`: its registered branch, else `agent/NAME`.
    branch: String,
    /// git runs in this agent's own worktree or clone.
    at_home: bool,
}

impl Guarded<'_> {
    fn allows(&self, name: &str) -> bool {
        match classify(name, &self.branch) {
            RefKind::OwnBranch => true,
            RefKind::WorktreeLocal | RefKind::Stash => self.at_home,
            RefKind::Foreign => false,
        }
    }
}

/// `git-agent hooks ref-guard PHASE`, with the updates on stdin.
pub fn run(phase: &str, io: &mut Io) -> Result<Outcome> {
    // Read every line first: git writes them all whatever we decide.
    let updates: Vec<Update> = std::io::stdin()
        .lock()
        .lines()
        .map_while(std::result::Result::ok)
        .filter_map(|l| Update::parse(&l))
        .collect();
    if Phase::parse(phase) != Phase::Prepared || updates.is_empty() {
        return Ok(Outcome::Done);
    }
    let here = open_here()?;
    // The home repository and its registry, opened and read once.
    let control = repo::control(&here)?;
    let agents = context::registry(control.as_ref().unwrap_or(&here)).load()?;
    let contexts = authority::contexts_among(&here, control.is_some(), &agents);
    if contexts.is_empty() {
        return Ok(Outcome::Done);
    }
    let guarded: Vec<Guarded> = contexts
        .iter()
        .map(|c| Guarded {
            context: c,
            branch: format!(
                "refs/heads/{}",
                agents
                    .get(&c.name)
                    .map_or_else(|| format!("agent/{}", c.name), |a| a.branch.clone())
            ),
            at_home: contexts
                .iter()
                .any(|o| o.via != Via::Env && o.name == c.name),
        })
        .collect();
    for update in &updates {
        // Every context must allow it: GIT_AGENT=a in b's worktree may move
        // neither branch.
        let Some(refusing) = guarded.iter().find(|g| !g.allows(&update.name)) else {
            continue;
        };
        if keeps_its_value(&here, update) {
            continue;
        }
        let base = base_of(&here, &agents, &refusing.context.name);
        let text = refusal(update, refusing, &agents, base.as_deref());
        writeln!(io.err, "{text}").map_err(Error::io("writing"))?;
        return Ok(Outcome::Refused);
    }
    Ok(Outcome::Done)
}

/// The repository git runs the hook for. git sets `GIT_DIR` for a hook
/// in a linked worktree or in receive-pack (`.`, from inside the git
/// directory), and runs it from the worktree's root otherwise.
fn open_here() -> Result<gix::Repository> {
    let cwd = std::env::current_dir().map_err(Error::io("reading the current directory"))?;
    match std::env::var_os("GIT_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => {
            let dir = cwd.join(dir);
            gix::open(&dir).map_err(|e| Error::NotARepository(format!("{}: {e}", dir.display())))
        }
        None => repo::open(&cwd),
    }
}

/// Whether `update` leaves the ref's value as it is, as `git pack-refs`
/// (run by `git gc --auto` after an agent's commit) does when it copies a
/// ref into `packed-refs` (an update to the value the ref has) and then
/// deletes the loose file (the deletion of a loose ref that `packed-refs`
/// already holds at the same value).
fn keeps_its_value(repo: &gix::Repository, update: &Update) -> bool {
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    let current = repo
        .try_find_reference(update.name.as_str())
        .ok()
        .flatten()
        .and_then(|r| r.target().try_id().map(|id| id.to_string()));
    if !zero(&update.new) {
        return current.as_deref() == Some(update.new.as_str());
    }
    if zero(&update.old) || current.as_deref() != Some(update.old.as_str()) {
        return false;
    }
    let loose = std::fs::read_to_string(repo.common_dir().join(&update.name))
        .is_ok_and(|t| t.trim() == update.old);
    let packed = repo
        .refs
        .cached_packed_buffer()
        .ok()
        .flatten()
        .is_some_and(|buf| {
            buf.try_find(update.name.as_str())
                .ok()
                .flatten()
                .is_some_and(|r| r.target() == update.old.as_str())
        });
    loose && packed
}

/// The agent's base, for the refusal's advice.
fn base_of(here: &gix::Repository, agents: &Agents, name: &str) -> Option<String> {
    match agents.get(name) {
        Some(agent) => Some(agent.base.clone()),
        None => repo::default_base(here).ok(),
    }
}

/// The refusal: the ref, the agent, and what a person runs instead.
fn refusal(update: &Update, g: &Guarded, agents: &Agents, base: Option<&str>) -> String {
    let name = &g.context.name;
    let place = match &g.context.via {
        Via::Env => format!("GIT_AGENT={name}"),
        Via::Worktree(dir) => format!("its worktree {}", dir.display()),
        Via::Clone(dir) => format!("its clone {}", dir.display()),
    };
    let own = g.branch.trim_start_matches("refs/heads/");
    let target = &update.name;
    let short = target.strip_prefix("refs/heads/");
    let other_agent = short.and_then(|b| agents.values().find(|a| a.branch == b));
    let instead = if short.is_some() && short == base {
        format!(
            "{target} is the base of agent '{name}': it moves only when a person lands the agent, with `git agent land {name}` from the main worktree"
        )
    } else if let Some(other) = other_agent {
        format!(
            "{target} is agent '{}''s branch: it moves by that agent's commits in its own worktree, or by `git agent sync {}`",
            other.name, other.name
        )
    } else if !g.at_home && classify(target, &g.branch) != RefKind::Foreign {
        format!(
            "this is not agent '{name}''s worktree: work there (`git agent list` shows where it is), or unset GIT_AGENT if you are not the agent"
        )
    } else {
        "a person makes this change, outside every agent's context (from the main worktree, without GIT_AGENT set)".to_owned()
    };
    format!(
        "git-agent: refusing to update {target} from inside agent '{name}''s context ({place})\n  \
         An agent moves only its own branch ({own}) and its worktree's HEAD.\n  {instead}."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_classified_by_where_git_keeps_them() {
        let own = "refs/heads/agent/a";
        assert_eq!(classify(own, own), RefKind::OwnBranch);
        for local in [
            "HEAD",
            "ORIG_HEAD",
            "AUTO_MERGE",
            "CHERRY_PICK_HEAD",
            "BISECT_EXPECTED_REV",
            "refs/bisect/good-1234",
            "refs/rewritten/onto",
            "refs/worktree/x",
        ] {
            assert_eq!(classify(local, own), RefKind::WorktreeLocal, "{local}");
        }
        assert_eq!(classify("refs/stash", own), RefKind::Stash);
        for foreign in [
            "refs/heads/main",
            "refs/heads/agent/b",
            "refs/heads/agent/a/x",
            "refs/tags/v1",
            "refs/remotes/origin/main",
            "main-worktree/HEAD",
            "worktrees/b/HEAD",
            "refs/stash/x",
            "head",
        ] {
            assert_eq!(classify(foreign, own), RefKind::Foreign, "{foreign}");
        }
    }

    #[test]
    fn lines_parse_with_symref_values() {
        let u = Update::parse("0000 ref:refs/heads/agent/a HEAD\n").unwrap();
        assert_eq!(u.new, "ref:refs/heads/agent/a");
        assert_eq!(u.name, "HEAD");
        assert!(Update::parse("garbage").is_none());
        assert_eq!(Phase::parse("prepared"), Phase::Prepared);
        assert_eq!(Phase::parse("committed"), Phase::Other);
    }
}
