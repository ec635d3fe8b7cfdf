//! `git agent audit`: whether the base's history kept to its policy. Each
//! first-parent commit of the base is landed (its receipt verifies, or a
//! fast-forward landing recorded in the reflog brought it), direct (no
//! receipt, no sign of an agent) or suspicious; so is each base move in the
//! reflog that did not come from `land` and is not a person's porcelain.

use std::collections::HashMap;

use gix::ObjectId;
use serde::Serialize;

use crate::error::{Error, GitContext, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::receipts::{self, MoveSource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Landed,
    Direct,
    Suspicious,
}

/// What shows a commit landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// Its receipt trailers.
    Receipt,
    /// A fast-forward landing in the base's reflog (such commits carry no
    /// receipt).
    Reflog,
}

#[derive(Debug, Clone, Serialize)]
pub struct Classified {
    pub commit: String,
    pub summary: String,
    pub class: Class,
    /// The agent its receipt, its landing or its branch names.
    pub agent: Option<String>,
    pub evidence: Option<Evidence>,
    /// Why it is suspicious; empty otherwise.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForeignMove {
    pub old: String,
    pub new: String,
    pub message: String,
    pub problem: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub base: String,
    pub tip: String,
    pub since: Option<String>,
    /// Newest first, as `git log --first-parent` lists them.
    pub commits: Vec<Classified>,
    pub moves: Vec<ForeignMove>,
}

impl Audit {
    pub fn suspicious(&self) -> bool {
        !self.moves.is_empty() || self.commits.iter().any(|c| c.class == Class::Suspicious)
    }

    pub fn count(&self, class: Class) -> usize {
        self.commits.iter().filter(|c| c.class == class).count()
    }
}

/// Classify the first-parent history of `base` down to (not including) `since`.
pub fn audit(repo: &gix::Repository, base: &str, since: Option<ObjectId>) -> Result<Audit> {
    let tip = repo::branch_tip(repo, base)?.ok_or_else(|| Error::UnknownBase {
        base: base.to_owned(),
    })?;
    let agent_commits = agent_commits(repo, base)?;
    let moves = receipts::base_moves(repo, base)?;
    let ff_landed = ff_landed(repo, &moves)?;
    let stop: Vec<ObjectId> = since.into_iter().collect();
    let mut commits = Vec::new();
    for id in receipts::first_parents(repo, tip, &stop)? {
        commits.push(classify(repo, id, &ff_landed, &agent_commits)?);
    }
    let mut foreign = Vec::new();
    for m in &moves {
        let new = ObjectId::from_hex(m.new.as_bytes()).ok();
        if let (Some(since), Some(new)) = (since, new)
            && receipts::is_ancestor(repo, new, since)
        {
            continue;
        }
        if let Some(problem) = receipts::foreign_move(repo, m, &agent_commits)? {
            foreign.push(ForeignMove {
                old: m.old.clone(),
                new: m.new.clone(),
                message: m.message.clone(),
                problem,
            });
        }
    }
    Ok(Audit {
        base: base.to_owned(),
        tip: tip.to_string(),
        since: since.map(|s| s.to_string()),
        commits,
        moves: foreign,
    })
}

/// The commits of agents' branches, by agent (see [`receipts::agent_commits`]).
pub fn agent_commits(repo: &gix::Repository, base: &str) -> Result<HashMap<ObjectId, String>> {
    // Only for whose branches are whose: a policy that does not parse
    // leaves the `agent/NAME` branches and the registered ones.
    let manifest = match repo::load_policy(repo, base) {
        Ok(m) => m,
        Err(Error::Manifest(_)) => Default::default(),
        Err(e) => return Err(e),
    };
    let registered: Vec<(String, String)> = context::registry(repo)
        .load()?
        .into_values()
        .map(|a| (a.name, a.branch))
        .collect();
    receipts::agent_commits(repo, &manifest, &registered)
}

/// The commits fast-forward landings brought, by agent.
fn ff_landed(
    repo: &gix::Repository,
    moves: &[receipts::Move],
) -> Result<HashMap<ObjectId, String>> {
    let mut landed = HashMap::new();
    for m in moves.iter().filter(|m| m.source == MoveSource::Land) {
        let (Ok(old), Ok(new), Some(agent)) = (
            ObjectId::from_hex(m.old.as_bytes()),
            ObjectId::from_hex(m.new.as_bytes()),
            &m.agent,
        ) else {
            continue;
        };
        for id in receipts::first_parents(repo, new, &[old])? {
            landed.insert(id, agent.clone());
        }
    }
    Ok(landed)
}

fn classify(
    repo: &gix::Repository,
    id: ObjectId,
    ff_landed: &HashMap<ObjectId, String>,
    agent_commits: &HashMap<ObjectId, String>,
) -> Result<Classified> {
    let commit = repo.find_commit(id).git("reading a commit")?;
    let summary = repo::summary(&commit);
    let mut out = Classified {
        commit: id.to_string(),
        summary,
        class: Class::Direct,
        agent: None,
        evidence: None,
        problems: Vec::new(),
    };
    if let Some(verified) = receipts::verify(repo, id)? {
        out.class = if verified.ok() {
            Class::Landed
        } else {
            Class::Suspicious
        };
        out.agent = Some(verified.receipt.agent).filter(|a| !a.is_empty());
        out.evidence = Some(Evidence::Receipt);
        out.problems = verified.problems;
        return Ok(out);
    }
    if let Some(agent) = ff_landed.get(&id) {
        out.class = Class::Landed;
        out.agent = Some(agent.clone());
        out.evidence = Some(Evidence::Reflog);
        return Ok(out);
    }
    let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
    if let Some(agent) = agent_commits.get(&id) {
        out.class = Class::Suspicious;
        out.agent = Some(agent.clone());
        out.problems.push(format!(
            "a commit of agent '{agent}' reached the base without a landing"
        ));
    } else if let Some(agent) = parents.iter().skip(1).find_map(|p| agent_commits.get(p)) {
        out.class = Class::Suspicious;
        out.agent = Some(agent.clone());
        out.problems.push(format!(
            "merges commits of agent '{agent}' without a landing (no receipt)"
        ));
    }
    Ok(out)
}

/// Moves of the base since its last landing that did not come from `land`
/// and are not a person's porcelain, for `doctor`.
pub fn moves_since_last_land(repo: &gix::Repository, base: &str) -> Result<Vec<ForeignMove>> {
    let moves = receipts::base_moves(repo, base)?;
    if moves.is_empty() {
        return Ok(Vec::new());
    }
    let start = moves
        .iter()
        .rposition(|m| m.source == MoveSource::Land)
        .map_or(0, |i| i + 1);
    let agent_commits = agent_commits(repo, base)?;
    let mut foreign = Vec::new();
    for m in &moves[start..] {
        if let Some(problem) = receipts::foreign_move(repo, m, &agent_commits)? {
            foreign.push(ForeignMove {
                old: m.old.clone(),
                new: m.new.clone(),
                message: m.message.clone(),
                problem,
            });
        }
    }
    Ok(foreign)
}
