//! The receipts `land` writes into the landed commit, read back and
//! checked: by `audit`, by the pre-receive hook under
//! `server.require_receipts`, and by `doctor` for base moves outside `land`.
//!
//! A receipt verifies when the policy blob it names exists, parses, is the
//! policy the base had when the commit landed (its first parent's), and
//! every path the landing changed passes that policy's scope for the named
//! agent. A registered agent's scope lives in the local registry, not in
//! history, so `land` records it (`Agent-Scope:`); the receipt's own scope
//! is then checked together with the named policy's `protected` list. A
//! standing agent's scope comes from the named policy when the receipt
//! records none.

use std::collections::{HashMap, HashSet};

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use serde::Serialize;

use crate::error::{GitContext, Result};
use crate::git::{changes, repo};
use crate::policy::manifest::{MANIFEST_FILE, Manifest};
use crate::policy::scope::{Origin, Scope};

/// The trailers of one landed commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub agent: String,
    /// The blob id of the policy, or `none`.
    pub policy: String,
    pub checks: Vec<String>,
    /// Where the checks ran (`sandboxed (…)`, `unsandboxed (…)`); `None`
    /// when they did not run or the landing predates the record.
    pub checks_sandbox: Option<String>,
    pub scope: Vec<String>,
    /// An unland's revert: the landed commit it takes back
    /// (`Agent-Unlands:`).
    pub unlands: Option<String>,
}

/// A commit's receipt: the `Agent*:` trailers of its message's last
/// paragraph; `None` when it has neither `Agent:` nor `Agent-Policy:`.
pub fn parse(message: &BStr) -> Option<Receipt> {
    let text = message.to_str_lossy();
    let last = text.trim_end().rsplit("\n\n").next()?;
    let mut receipt = Receipt::default();
    let mut found = false;
    for line in last.lines() {
        let Some((key, value)) = line.split_once(": ") else {
            continue;
        };
        let value = value.trim().to_owned();
        match key {
            "Agent" => receipt.agent = value,
            "Agent-Policy" => receipt.policy = value,
            "Agent-Checks" => receipt.checks.push(value),
            "Agent-Checks-Sandbox" => receipt.checks_sandbox = Some(value),
            "Agent-Scope" => receipt.scope.push(value),
            "Agent-Unlands" => receipt.unlands = Some(value),
            _ => continue,
        }
        found |= matches!(key, "Agent" | "Agent-Policy");
    }
    found.then_some(receipt)
}

/// A receipt and what is wrong with it; it verifies when `problems` is empty.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub receipt: Receipt,
    pub problems: Vec<String>,
}

impl Verified {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Read and check `commit`'s receipt; `None` when it carries none.
pub fn verify(repo: &gix::Repository, commit: ObjectId) -> Result<Option<Verified>> {
    let object = repo.find_commit(commit).git("reading a commit")?;
    let Some(receipt) = parse(object.message_raw_sloppy()) else {
        return Ok(None);
    };
    let parents: Vec<ObjectId> = object.parent_ids().map(|p| p.detach()).collect();
    let mut problems = Vec::new();
    if receipt.agent.is_empty() {
        problems.push("the receipt names no agent (no `Agent:` trailer)".to_owned());
    }
    let Some(&first) = parents.first() else {
        problems.push("a landing has the base as its first parent; this commit has none".into());
        return Ok(Some(Verified { receipt, problems }));
    };
    if parents.len() > 2 {
        problems.push(format!(
            "a landing has at most two parents; this commit has {}",
            parents.len()
        ));
    }
    if let Some(problem) = unlands_problem(repo, &receipt, first) {
        problems.push(problem);
    }
    let Some(manifest) = named_policy(repo, &receipt, first, &mut problems)? else {
        return Ok(Some(Verified { receipt, problems }));
    };
    let Some(scope) = receipt_scope(repo, &receipt, &manifest, &mut problems) else {
        return Ok(Some(Verified { receipt, problems }));
    };
    for (id, path, why) in out_of_scope(repo, &scope, commit, &parents)? {
        problems.push(format!(
            "{} changes {path}, outside the scope of '{}': {why}",
            id.to_hex_with_len(12),
            receipt.agent
        ));
    }
    Ok(Some(Verified { receipt, problems }))
}

/// What is wrong with an unland's `Agent-Unlands:`: the landing it takes
/// back must be a commit the base it reverts on (`first`) has.
fn unlands_problem(repo: &gix::Repository, receipt: &Receipt, first: ObjectId) -> Option<String> {
    let hex = receipt.unlands.as_deref()?;
    let Ok(landing) = ObjectId::from_hex(hex.as_bytes()) else {
        return Some(format!(
            "the landing it unlands, '{hex}', is not an object id"
        ));
    };
    if !is_ancestor(repo, landing, first) {
        return Some(format!(
            "it unlands {}, which is not on the base it reverts on ({})",
            landing.to_hex_with_len(12),
            first.to_hex_with_len(12)
        ));
    }
    None
}

/// The policy the receipt names, once it is known to exist, parse and be
/// the one committed on the base the commit landed on (`first`).
fn named_policy(
    repo: &gix::Repository,
    receipt: &Receipt,
    first: ObjectId,
    problems: &mut Vec<String>,
) -> Result<Option<Manifest>> {
    let on_base = policy_blob_at(repo, first)?;
    let named = match receipt.policy.as_str() {
        "none" => None,
        "" => {
            problems.push("the receipt names no policy (no `Agent-Policy:` trailer)".into());
            return Ok(None);
        }
        hex => match ObjectId::from_hex(hex.as_bytes()) {
            Ok(id) => Some(id),
            Err(_) => {
                problems.push(format!("the receipt's policy '{hex}' is not an object id"));
                return Ok(None);
            }
        },
    };
    if named != on_base {
        let show = |id: Option<ObjectId>| id.map_or_else(|| "none".to_owned(), |i| i.to_string());
        problems.push(format!(
            "the receipt names policy {}, but the base it landed on ({}) had {}",
            show(named),
            first.to_hex_with_len(12),
            show(on_base)
        ));
    }
    let Some(id) = named else {
        return Ok(Some(Manifest::default()));
    };
    let Some(blob) = repo.try_find_object(id).git("reading the policy blob")? else {
        problems.push(format!(
            "the policy blob {id} it names is not in this repository"
        ));
        return Ok(None);
    };
    let text = blob.data.to_str_lossy().into_owned();
    match Manifest::parse(&text, &format!("{MANIFEST_FILE} (blob {id})")) {
        Ok(m) => Ok(Some(m)),
        Err(e) => {
            problems.push(format!("the policy blob {id} does not parse: {e}"));
            Ok(None)
        }
    }
}

/// The blob id of the policy in `commit`'s tree.
pub fn policy_blob_at(repo: &gix::Repository, commit: ObjectId) -> Result<Option<ObjectId>> {
    let tree = repo
        .find_commit(commit)
        .git("reading a commit")?
        .tree()
        .git("reading a commit's tree")?;
    Ok(tree
        .lookup_entry_by_path(MANIFEST_FILE)
        .git("looking up the policy")?
        .map(|e| e.object_id()))
}

/// The scope the receipt is checked against: its recorded patterns, else
/// the named policy's standing agent of that name.
fn receipt_scope(
    repo: &gix::Repository,
    receipt: &Receipt,
    manifest: &Manifest,
    problems: &mut Vec<String>,
) -> Option<Scope> {
    let patterns: Vec<(String, Origin)> = if !receipt.scope.is_empty() {
        receipt
            .scope
            .iter()
            .map(|p| (p.clone(), Origin::Scope))
            .collect()
    } else if let Some(standing) = manifest.agents.get(&receipt.agent) {
        crate::ops::gate::standing_patterns(standing)
    } else {
        problems.push(format!(
            "'{}' is no standing agent of that policy, and the receipt records no scope (`Agent-Scope:`)",
            receipt.agent
        ));
        return None;
    };
    match Scope::new(&patterns, &manifest.protected, repo::ignore_case(repo)) {
        Ok(scope) => Some(scope),
        Err(e) => {
            problems.push(format!("the receipt's scope does not compile: {e}"));
            None
        }
    }
}

/// Every path the landing changed that the scope refuses: what the commit
/// changed on the base, and for a merge, each of the merged commits.
fn out_of_scope(
    repo: &gix::Repository,
    scope: &Scope,
    commit: ObjectId,
    parents: &[ObjectId],
) -> Result<Vec<(ObjectId, String, String)>> {
    let mut landed = Vec::new();
    let tree = changes_tree(repo, commit)?;
    let first_tree = changes_tree(repo, parents[0])?;
    let mut on_base = Vec::new();
    changes::diff_trees(
        repo,
        Some(first_tree),
        Some(tree),
        BStr::new(""),
        &mut on_base,
    )?;
    landed.push((commit, on_base));
    if let Some(&second) = parents.get(1) {
        for c in changes::range(repo, parents[0], second)? {
            let id = ObjectId::from_hex(c.commit.as_bytes()).git("reading a commit id")?;
            landed.push((id, c.changes));
        }
    }
    let mut refused = Vec::new();
    for (id, list) in landed {
        for change in list {
            let verdict = scope.decide(&change.path);
            if !verdict.allowed {
                refused.push((
                    id,
                    change.path.to_str_lossy().into_owned(),
                    verdict.reason(),
                ));
            }
        }
    }
    Ok(refused)
}

fn changes_tree(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId> {
    Ok(repo
        .find_commit(commit)
        .git("reading a commit")?
        .tree_id()
        .git("reading a commit's tree")?
        .detach())
}

/// Where a move of the base came from, as its reflog message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveSource {
    /// `git agent land`.
    Land,
    /// `git agent unland`: a revert landed, or `--hard` moved the base
    /// back.
    Unland,
    /// A person's porcelain on their own machine: commit, merge, pull…
    Porcelain,
    /// Anything else: `update-ref`, a push, an unknown tool.
    Other,
}

/// One entry of the base's reflog.
#[derive(Debug, Clone, Serialize)]
pub struct Move {
    pub old: String,
    pub new: String,
    pub message: String,
    pub source: MoveSource,
    /// The agent a landing names.
    #[serde(skip)]
    pub agent: Option<String>,
}

/// The messages git's porcelain writes when a person moves their branch.
const PORCELAIN: &[&str] = &[
    "commit",
    "merge ",
    "pull",
    "cherry-pick",
    "revert",
    "am",
    "rebase",
    "branch: ",
    "clone:",
];

/// The base's reflog, oldest first; empty without one (a bare repository
/// keeps none by default).
pub fn base_moves(repo: &gix::Repository, base: &str) -> Result<Vec<Move>> {
    let name = format!("refs/heads/{base}");
    let Some(reference) = repo
        .try_find_reference(name.as_str())
        .git("reading the base")?
    else {
        return Ok(Vec::new());
    };
    let mut platform = reference.log_iter();
    let Some(lines) = platform.all().git("reading the base's reflog")? else {
        return Ok(Vec::new());
    };
    let mut moves = Vec::new();
    for line in lines {
        let line = line.git("reading the base's reflog")?;
        let message = line.message.to_str_lossy().into_owned();
        let named = |prefix: &str| {
            message
                .strip_prefix(prefix)
                .and_then(|rest| rest.split_once(": "))
                .map(|(name, _)| name.to_owned())
        };
        let (agent, by_us) = match (named("git-agent land "), named("git-agent unland ")) {
            (Some(name), _) => (Some(name), Some(MoveSource::Land)),
            (None, Some(name)) => (Some(name), Some(MoveSource::Unland)),
            (None, None) => (None, None),
        };
        let source = if let Some(source) = by_us {
            source
        } else if PORCELAIN.iter().any(|p| message.starts_with(p)) {
            MoveSource::Porcelain
        } else {
            MoveSource::Other
        };
        moves.push(Move {
            old: line.previous_oid().to_string(),
            new: line.new_oid().to_string(),
            message,
            source,
            agent,
        });
    }
    Ok(moves)
}

/// Why a base move did not come from `land` and is not a person's plain
/// work: not a fast-forward, not git's porcelain, or it brought commits of
/// an agent. `None` for a landing or a person's commit, merge or pull.
pub fn foreign_move(
    repo: &gix::Repository,
    m: &Move,
    agent_commits: &HashMap<ObjectId, String>,
) -> Result<Option<String>> {
    if matches!(m.source, MoveSource::Land | MoveSource::Unland) {
        return Ok(None);
    }
    let (Ok(old), Ok(new)) = (
        ObjectId::from_hex(m.old.as_bytes()),
        ObjectId::from_hex(m.new.as_bytes()),
    ) else {
        return Ok(Some("an unreadable reflog entry".into()));
    };
    if !old.is_null() && !new.is_null() && !is_ancestor(repo, old, new) {
        return Ok(Some("rewrote the base (not a fast-forward)".into()));
    }
    if m.source == MoveSource::Other {
        return Ok(Some(if m.message.is_empty() {
            "moved by plumbing without a message (git update-ref?), not by land".into()
        } else {
            format!("moved by '{}', not by land", m.message)
        }));
    }
    if !new.is_null() {
        let hidden: Vec<ObjectId> = (!old.is_null()).then_some(old).into_iter().collect();
        for c in first_parents(repo, new, &hidden)? {
            if let Some(agent) = agent_commits.get(&c) {
                return Ok(Some(format!(
                    "brought agent '{agent}''s commit {} onto the base without a landing",
                    c.to_hex_with_len(12)
                )));
            }
        }
    }
    Ok(None)
}

pub fn is_ancestor(repo: &gix::Repository, ancestor: ObjectId, of: ObjectId) -> bool {
    ancestor == of
        || repo
            .merge_base(ancestor, of)
            .is_ok_and(|base| base.is_some_and(|b| b.detach() == ancestor))
}

/// The first-parent chain from `tip`, newest first, stopping at any of
/// `stop` or an ancestor of one.
pub fn first_parents(
    repo: &gix::Repository,
    tip: ObjectId,
    stop: &[ObjectId],
) -> Result<Vec<ObjectId>> {
    let mut chain = Vec::new();
    let mut at = Some(tip);
    while let Some(id) = at {
        if stop.iter().any(|s| is_ancestor(repo, id, *s)) {
            break;
        }
        chain.push(id);
        let commit = repo.find_commit(id).git("reading a commit")?;
        at = commit.parent_ids().next().map(|p| p.detach());
    }
    Ok(chain)
}

/// The commits agents made, by agent: for each local branch an agent owns
/// (`agent/NAME`, a registered agent's branch, a standing agent's
/// `branches:`), what its tip and its reflog reached since it was created.
/// A landing (a commit with a receipt) ends the walk: below it is the base.
pub fn agent_commits(
    repo: &gix::Repository,
    manifest: &Manifest,
    registered: &[(String, String)],
) -> Result<HashMap<ObjectId, String>> {
    let mut found = HashMap::new();
    let refs = repo.references().git("listing branches")?;
    for reference in refs.local_branches().git("listing branches")? {
        let reference = reference.git("listing branches")?;
        let full = reference.name().as_bstr().to_str_lossy().into_owned();
        let short = full.trim_start_matches("refs/heads/");
        let owner = registered
            .iter()
            .find(|(_, branch)| branch == short)
            .map(|(name, _)| name.clone())
            .or_else(|| manifest.branch_owner(short))
            .or_else(|| short.strip_prefix("agent/").map(str::to_owned));
        let Some(owner) = owner else { continue };
        let (seeds, start) = branch_history(&reference)?;
        // Without the reflog's creation entry, the branch's own commits
        // cannot be told from the base's history it started on.
        let Some(start) = start else { continue };
        walk_agent_commits(repo, &seeds, start, &owner, &mut found)?;
    }
    Ok(found)
}

/// A branch's tips over time (its reflog, and its tip) and the commit it
/// was created at.
fn branch_history(reference: &gix::Reference<'_>) -> Result<(Vec<ObjectId>, Option<ObjectId>)> {
    let mut seeds = Vec::new();
    let mut start = None;
    if let Some(id) = reference.target().try_id() {
        seeds.push(id.to_owned());
    }
    let mut platform = reference.log_iter();
    if let Some(lines) = platform.all().git("reading a branch's reflog")? {
        for line in lines {
            let line = line.git("reading a branch's reflog")?;
            let message = line.message.to_str_lossy();
            if line.previous_oid().is_null() {
                start = Some(line.new_oid());
            } else if !message.contains(": follow the landed commit") {
                seeds.push(line.new_oid());
            }
        }
    }
    Ok((seeds, start))
}

fn walk_agent_commits(
    repo: &gix::Repository,
    seeds: &[ObjectId],
    start: ObjectId,
    owner: &str,
    found: &mut HashMap<ObjectId, String>,
) -> Result<()> {
    let mut seen = HashSet::new();
    let mut todo: Vec<ObjectId> = seeds.to_vec();
    while let Some(id) = todo.pop() {
        if id == start || !seen.insert(id) || is_ancestor(repo, id, start) {
            continue;
        }
        let Some(object) = repo.try_find_object(id).git("reading a commit")? else {
            continue;
        };
        let Ok(commit) = object.try_into_commit() else {
            continue;
        };
        if parse(commit.message_raw_sloppy()).is_some() {
            continue;
        }
        found.entry(id).or_insert_with(|| owner.to_owned());
        todo.extend(commit.parent_ids().map(|p| p.detach()));
    }
    Ok(())
}

/// The pusher, as the hosting server names them to hooks: `GIT_PUSHER`,
/// GitLab's `GL_USERNAME`, Gitea's `GITEA_PUSHER_NAME`, gitolite's `GL_USER`.
pub fn pusher() -> Option<String> {
    ["GIT_PUSHER", "GL_USERNAME", "GITEA_PUSHER_NAME", "GL_USER"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|v| v.to_string_lossy().into_owned())
        .find(|v| !v.is_empty())
}

/// Under `server.require_receipts`, why a push moving the base from `old`
/// to `new` is refused: it is not a fast-forward, or one of its new
/// first-parent commits is not a landing whose receipt verifies and the
/// pusher is not on `server.humans`. `existing` are the tips every ref had
/// before the push, where a new base's history stops.
pub fn base_push_refusal(
    repo: &gix::Repository,
    manifest: &Manifest,
    base: &str,
    (old, new): (ObjectId, ObjectId),
    existing: &[ObjectId],
    pusher: Option<&str>,
) -> Result<Option<String>> {
    let who = pusher.unwrap_or("unknown");
    let human = pusher.is_some_and(|p| manifest.server.humans.iter().any(|h| h == p));
    let fix = format!(
        "land agents' work with `git agent land NAME` and push the landed {base}, or push as one of server.humans ({})",
        manifest.server.humans.join(", ")
    );
    if new.is_null() {
        return Ok(Some(format!(
            "git-agent: push refused: server.require_receipts keeps {base}; it cannot be deleted (pusher: {who})"
        )));
    }
    if !old.is_null() && !is_ancestor(repo, old, new) {
        return Ok(Some(format!(
            "git-agent: push refused: server.require_receipts allows only fast-forwards of {base}, and this push rewrites it ({} is not an ancestor of {}; pusher: {who})\n  fix: fetch {base}, put your work on top of it, and push again",
            old.to_hex_with_len(12),
            new.to_hex_with_len(12)
        )));
    }
    if human {
        return Ok(None);
    }
    let stop: Vec<ObjectId> = if old.is_null() {
        existing.to_vec()
    } else {
        vec![old]
    };
    let mut lines = Vec::new();
    for id in first_parents(repo, new, &stop)? {
        let short = id.to_hex_with_len(12);
        match verify(repo, id)? {
            Some(v) if v.ok() => {}
            Some(v) => lines.extend(v.problems.iter().map(|p| format!("  {short}: {p}"))),
            None => lines.push(format!("  {short}: no receipt: not a landing")),
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "git-agent: push to {base} refused: server.require_receipts takes only landings whose receipts verify, or pushes by server.humans (pusher: {who})\n{}\n  fix: {fix}",
        lines.join("\n")
    )))
}
