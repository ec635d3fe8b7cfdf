//! `git agent unland`: take an agent's latest landing back off its base
//! (SPEC: Landing).
//!
//! The landing is found on the base's first-parent history: the newest
//! commit whose receipt names the agent, or the newest move the base's
//! reflog records as the agent's landing (a fast-forward carries no
//! receipt). It is taken back in one of two ways:
//!
//! - by default a revert commit, computed in memory (a three-way merge of
//!   the base's tip with the landing as the ancestor and the base before it
//!   as "theirs", which is `git revert -m 1` for a merge landing), checked
//!   like a landing and put on the base by compare-and-swap; it carries a
//!   receipt naming the agent and the landing it takes back;
//! - with `--hard`, while the landing is still the base's tip, the base
//!   moves back to where it was before the landing, by compare-and-swap.
//!
//! As with `land`, nothing visible changes before every step has passed,
//! and the base moves in one atomic ref update: a process killed at any
//! moment leaves it at its old tip or its new one. Afterwards the agent's
//! branch is made to hold the work again in commits the base lacks, so the
//! agent can fix it and land again (see [`keep_work`]).

use std::collections::HashMap;
use std::path::Path;

use gix::ObjectId;
use serde::Serialize;

use crate::Io;
use crate::error::{Error, GitContext, Outcome, RefusalReport, Result};
use crate::git::repo;
use crate::ops::checking::{self, Containment};
use crate::ops::landing::{self, Checks, short};
use crate::ops::receipts::{self, MoveSource};
use crate::ops::{context, status};
use crate::state::registry::{Agent, Mode as AgentMode};
use crate::{git, state::archive, state::lease};

/// How often an unland that lost the race for the base starts over.
const ATTEMPTS: usize = 8;

/// What `unland` was asked to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnlandOptions {
    /// Move the base back instead of reverting.
    pub hard: bool,
    pub no_checks: bool,
    pub dry_run: bool,
}

/// How the landing is taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A revert commit on top of the base.
    Revert,
    /// The base moved back to before the landing.
    Hard,
}

/// How an unland ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Unlanded,
    /// `--dry-run`: every step passed; the unland would go through.
    WouldUnland,
    Refused,
}

/// What the landing put on the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A merge commit; the agent's work is its second parent.
    Merge,
    /// New commits with receipts: a squash, or a rebase's replayed commits.
    Commits,
    /// The agent's own commits, fast-forwarded; the reflog names them.
    FastForward,
}

/// Where the agent's work is after the unland.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    /// Its branch already holds the work in commits the base lacks.
    Branch,
    /// Its branch (and clean worktree) moved to a commit that re-applies
    /// the work on top of the revert.
    Reapplied,
    /// The agent had been removed: its work is archived, for `restore`.
    Archived,
    /// Its branch could not move; the warning says why and what to run.
    NotMoved,
}

/// The agent's work after the unland, in the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Work {
    pub kept: Kept,
    pub branch: String,
    /// The commit holding the work: the branch's tip, the archive's, or
    /// (`not_moved`) the one to bring the branch to.
    pub commit: Option<String>,
    pub archive: Option<String>,
    /// The command that brings a removed agent back with its work.
    pub restore: Option<String>,
}

/// One unland, rendered as JSON with `--json`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub agent: String,
    pub base: Option<String>,
    /// The landing taken back: its (last) commit on the base.
    pub landing: Option<String>,
    pub landing_kind: Option<Kind>,
    pub summary: Option<String>,
    pub mode: Mode,
    pub dry_run: bool,
    pub verdict: Verdict,
    pub base_old: Option<String>,
    /// What the base moved to; under `--dry-run` only known for `hard`.
    pub base_new: Option<String>,
    /// The revert commit (`revert`, once written).
    pub revert: Option<String>,
    pub checks: Checks,
    /// The revert's trailers.
    pub receipt: Option<Vec<String>>,
    pub work: Option<Work>,
    pub refusal: Option<RefusalReport>,
    /// Problems after the base moved, which do not undo the unland.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Report {
    pub fn new(name: &str, options: &UnlandOptions) -> Report {
        Report {
            version: 1,
            agent: name.to_owned(),
            base: None,
            landing: None,
            landing_kind: None,
            summary: None,
            mode: if options.hard {
                Mode::Hard
            } else {
                Mode::Revert
            },
            dry_run: options.dry_run,
            verdict: Verdict::Refused,
            base_old: None,
            base_new: None,
            revert: None,
            checks: Checks::default(),
            receipt: None,
            work: None,
            refusal: None,
            warnings: Vec::new(),
        }
    }

    pub fn refuse(&mut self, refusal: RefusalReport) {
        self.verdict = Verdict::Refused;
        self.refusal = Some(refusal);
    }

    pub fn outcome(&self) -> Outcome {
        match self.verdict {
            Verdict::Refused => Outcome::Refused,
            Verdict::Unlanded | Verdict::WouldUnland => Outcome::Done,
        }
    }
}

/// A landing found on the base.
#[derive(Debug, Clone)]
pub struct Landing {
    /// Its last commit on the base.
    pub tip: ObjectId,
    /// The base before it.
    pub before: ObjectId,
    pub kind: Kind,
    /// The receipt of `tip`; `None` for a fast-forward.
    pub receipt: Option<receipts::Receipt>,
    pub summary: String,
    /// The agent's work as it landed: the merge's second parent, else `tip`.
    pub work: ObjectId,
    /// How many first-parent commits it put on the base.
    pub commits: usize,
}

/// What the base's history says of the agent's landings.
pub enum Found {
    Landing(Landing),
    Never,
    /// The latest landing was taken back already: by the revert `by`, or
    /// (`None`) by a `--hard` unland the reflog records.
    Unlanded {
        landing: ObjectId,
        by: Option<ObjectId>,
    },
}

/// Unland `name` (`agent`: its entry, `None` once removed): start over
/// while the base moves under us, up to [`ATTEMPTS`] times.
pub fn unland(
    repo: &gix::Repository,
    name: &str,
    agent: Option<&Agent>,
    options: &UnlandOptions,
    io: &mut Io,
) -> Result<Report> {
    let base = match agent {
        Some(a) => a.base.clone(),
        None => repo::default_base(repo)?,
    };
    if repo::branch_tip(repo, &base)?.is_none() {
        return Err(Error::UnknownBase { base });
    }
    for _ in 0..ATTEMPTS {
        let mut report = Report::new(name, options);
        report.base = Some(base.clone());
        let ground = Ground::read(repo, name, agent, &base, options)?;
        match attempt(&ground, &mut report, io)? {
            Attempt::Finished => return Ok(report),
            Attempt::BaseMoved => writeln!(
                io.err,
                "git-agent: {base} moved while unlanding '{name}'; starting over on its new tip"
            )
            .map_err(Error::io("writing"))?,
        }
    }
    let mut report = Report::new(name, options);
    report.base = Some(base.clone());
    report.refuse(RefusalReport::new(
        "base_kept_moving",
        format!(
            "gave up unlanding '{name}': {base} kept moving ({ATTEMPTS} attempts); run the unland again"
        ),
    ));
    Ok(report)
}

enum Attempt {
    Finished,
    BaseMoved,
}

/// What one attempt starts from.
struct Ground<'a> {
    repo: &'a gix::Repository,
    name: &'a str,
    agent: Option<&'a Agent>,
    base: &'a str,
    options: &'a UnlandOptions,
    base_tip: ObjectId,
}

impl<'a> Ground<'a> {
    fn read(
        repo: &'a gix::Repository,
        name: &'a str,
        agent: Option<&'a Agent>,
        base: &'a str,
        options: &'a UnlandOptions,
    ) -> Result<Ground<'a>> {
        let base_tip = repo::branch_tip(repo, base)?.ok_or_else(|| Error::UnknownBase {
            base: base.to_owned(),
        })?;
        Ok(Ground {
            repo,
            name,
            agent,
            base,
            options,
            base_tip,
        })
    }

    /// The reflog message of the base's move.
    fn message(&self) -> String {
        let how = if self.options.hard { "hard" } else { "revert" };
        format!("git-agent unland {}: {how}", self.name)
    }
}

fn attempt(at: &Ground, report: &mut Report, io: &mut Io) -> Result<Attempt> {
    report.base_old = Some(at.base_tip.to_string());
    let landing = match latest_landing(at.repo, at.base, at.name, at.base_tip)? {
        Found::Landing(landing) => landing,
        Found::Never => {
            report.refuse(never_landed(at));
            return Ok(Attempt::Finished);
        }
        Found::Unlanded { landing, by } => {
            report.landing = Some(landing.to_string());
            if let Some(revert) = by.filter(|_| !at.options.hard)
                && let Some(landing) = unfinished(at, landing, revert)?
            {
                return finish_keeping(at, &landing, revert, report);
            }
            report.refuse(already_unlanded(at, landing, by));
            return Ok(Attempt::Finished);
        }
    };
    report.landing = Some(landing.tip.to_string());
    report.landing_kind = Some(landing.kind);
    report.summary = Some(landing.summary.clone());
    let base_worktree = landing::worktree_with_branch(at.repo, at.base)?;
    if at.options.hard {
        hard(at, &landing, base_worktree.as_deref(), report)
    } else {
        revert(at, &landing, base_worktree.as_deref(), report, io)
    }
}

/// `--hard`: move the base back to before the landing, while it is still
/// the base's tip.
fn hard(
    at: &Ground,
    landing: &Landing,
    base_worktree: Option<&Path>,
    report: &mut Report,
) -> Result<Attempt> {
    if at.base_tip != landing.tip {
        report.refuse(built_on_refusal(at, landing)?);
        return Ok(Attempt::Finished);
    }
    report.base_new = Some(landing.before.to_string());
    if at.options.dry_run {
        if let Some(refusal) = early_dirty_refusal(at, base_worktree)? {
            report.refuse(refusal);
        } else {
            report.verdict = Verdict::WouldUnland;
        }
        return Ok(Attempt::Finished);
    }
    let registry = context::registry(at.repo);
    let _lock = registry.lock_landing(at.base)?;
    crate::state::crash::point("unland:before-cas");
    match swap_back(at, base_worktree, landing)? {
        Swap::Moved => {}
        Swap::Lost => return Ok(Attempt::BaseMoved),
        Swap::Refused(refusal) => {
            report.refuse(refusal);
            return Ok(Attempt::Finished);
        }
    }
    crate::state::crash::point("unland:after-cas");
    report.verdict = Verdict::Unlanded;
    keep_work(at, landing, None, report)?;
    crate::state::crash::point("unland:after-keep");
    Ok(Attempt::Finished)
}

/// The revert, vetted in memory, checked, and put on the base.
fn revert(
    at: &Ground,
    landing: &Landing,
    base_worktree: Option<&Path>,
    report: &mut Report,
    io: &mut Io,
) -> Result<Attempt> {
    let policy = repo::load_policy(at.repo, at.base)?;
    let containment = Containment::for_policy(&policy);
    let run_checks = !at.options.no_checks && !policy.checks.is_empty();
    report.checks = Checks::planned(&policy, run_checks, &containment);
    // Looked at again as the base moves; looking now saves running the
    // checks for nothing, and tells `--dry-run` what the move would find.
    if (run_checks || at.options.dry_run)
        && let Some(refusal) = early_dirty_refusal(at, base_worktree)?
    {
        report.refuse(refusal);
        return Ok(Attempt::Finished);
    }
    let receipt = revert_receipt(at, landing, &policy, run_checks, &containment)?;
    let mem = at.repo.clone().with_object_memory();
    let planned = match plan_revert(&mem, at, landing, &receipt)? {
        Ok(planned) => planned,
        Err(refusal) => {
            report.refuse(refusal);
            return Ok(Attempt::Finished);
        }
    };
    report.receipt = Some(receipt);
    if at.options.dry_run {
        report.verdict = Verdict::WouldUnland;
        return Ok(Attempt::Finished);
    }
    crate::state::crash::point("unland:after-plan");
    // The checked tree must be on disk to be checked out.
    landing::persist(at.repo, mem)?;
    crate::state::crash::point("unland:after-persist");
    if run_checks {
        let request = checking::Request {
            base: at.base,
            landing: at.name,
            commit: planned.revert,
            policy: &policy,
            containment: &containment,
        };
        if !checks_pass(at, &request, report, io)? {
            return Ok(Attempt::Finished);
        }
    }
    crate::state::crash::point("unland:after-checks");
    let registry = context::registry(at.repo);
    let _lock = registry.lock_landing(at.base)?;
    crate::state::crash::point("unland:before-cas");
    match swap_forward(at, base_worktree, planned.revert)? {
        Swap::Moved => {}
        Swap::Lost => return Ok(Attempt::BaseMoved),
        Swap::Refused(refusal) => {
            report.refuse(refusal);
            return Ok(Attempt::Finished);
        }
    }
    crate::state::crash::point("unland:after-cas");
    report.verdict = Verdict::Unlanded;
    report.revert = Some(planned.revert.to_string());
    report.base_new = Some(planned.revert.to_string());
    keep_work(at, landing, Some(planned.reapply), report)?;
    crate::state::crash::point("unland:after-keep");
    Ok(Attempt::Finished)
}

/// The landing `revert` took back, when that unland stopped after the base
/// moved and before the agent's branch took the work back (it was killed,
/// or the branch could not move then): the branch still holds the landed
/// work and lacks the revert, so landing it again would land nothing.
/// `None` for any other state, which stays `already_unlanded`.
fn unfinished(at: &Ground, landing: ObjectId, revert: ObjectId) -> Result<Option<Landing>> {
    let Some(agent) = at.agent else {
        return Ok(None);
    };
    let branch_repo = context::branch_repo(at.repo, agent)?;
    if repo::branch_tip(&branch_repo, &agent.branch)?.is_none() {
        return Ok(None);
    }
    let tip = landing::branch_tip(at.repo, agent)?;
    let commit = at.repo.find_commit(landing).git("reading a commit")?;
    let receipt = receipts::parse(commit.message_raw_sloppy()).filter(|r| r.agent == at.name);
    let moves = receipts::base_moves(at.repo, at.base)?;
    let Some(found) = landing_at(at.repo, &commit, receipt, &moves, at.name)? else {
        return Ok(None);
    };
    let stopped = receipts::is_ancestor(at.repo, found.work, tip)
        && !receipts::is_ancestor(at.repo, revert, tip);
    Ok(stopped.then_some(found))
}

/// Finish an unland by `revert` that [`unfinished`] found stopped: the
/// base stays as it is; the agent's branch takes the work back, on top of
/// the revert, as the unland would have done.
fn finish_keeping(
    at: &Ground,
    landing: &Landing,
    revert: ObjectId,
    report: &mut Report,
) -> Result<Attempt> {
    let before = at
        .repo
        .find_commit(revert)
        .git("reading the revert")?
        .parent_ids()
        .next()
        .map(|p| p.detach())
        .unwrap_or(revert);
    report.landing_kind = Some(landing.kind);
    report.summary = Some(landing.summary.clone());
    report.base_old = Some(before.to_string());
    report.base_new = Some(revert.to_string());
    report.revert = Some(revert.to_string());
    report.warnings.push(format!(
        "note: the unland of '{}' by {} had stopped before its branch took the work back; it is finished now",
        at.name,
        short(revert)
    ));
    if at.options.dry_run {
        report.verdict = Verdict::WouldUnland;
        return Ok(Attempt::Finished);
    }
    let mem = at.repo.clone().with_object_memory();
    let committer = landing::signature(&mem)?;
    let reapply = landing::write_commit(
        &mem,
        landing::tree_of(&mem, before)?,
        vec![revert],
        committer.clone(),
        committer,
        reapply_message(at, landing, revert),
    )?;
    landing::persist(at.repo, mem)?;
    report.verdict = Verdict::Unlanded;
    keep_work(at, landing, Some(reapply), report)?;
    Ok(Attempt::Finished)
}

/// The revert and, on top of it, the commit that re-applies the work for
/// the agent's branch; both in `mem`'s object memory.
struct Planned {
    revert: ObjectId,
    reapply: ObjectId,
}

/// Revert `landing` on the base's tip in memory. `Err` is a refusal: later
/// commits changed the same lines, or nothing of it is left to revert.
fn plan_revert(
    mem: &gix::Repository,
    at: &Ground,
    landing: &Landing,
    receipt: &[String],
) -> Result<std::result::Result<Planned, RefusalReport>> {
    let tip_tree = landing::tree_of(mem, at.base_tip)?;
    let options = mem.tree_merge_options().git("reading merge options")?;
    let mut outcome = mem
        .merge_trees(
            landing::tree_of(mem, landing.tip)?,
            tip_tree,
            landing::tree_of(mem, landing.before)?,
            Default::default(),
            options,
        )
        .git("reverting in memory")?;
    if outcome.conflicts.iter().any(landing::unresolved_in_git) {
        let files = landing::conflict_files(&outcome.conflicts);
        return Ok(Err(later_changes_refusal(at, landing, files)));
    }
    let tree = outcome
        .tree
        .write()
        .git("writing the reverted tree")?
        .detach();
    if tree == tip_tree {
        return Ok(Err(RefusalReport::new(
            "already_undone",
            format!(
                "refusing to unland '{}': {} no longer has any change of its landing {} ({}); nothing to revert",
                at.name,
                at.base,
                short(landing.tip),
                landing.summary
            ),
        )));
    }
    let committer = landing::signature(mem)?;
    let mut message = revert_message(at, landing);
    message.push_str("\n\n");
    for line in receipt {
        message.push_str(line);
        message.push('\n');
    }
    let revert = landing::write_commit(
        mem,
        tree,
        vec![at.base_tip],
        committer.clone(),
        committer.clone(),
        message,
    )?;
    let reapply = landing::write_commit(
        mem,
        tip_tree,
        vec![revert],
        committer.clone(),
        committer,
        reapply_message(at, landing, revert),
    )?;
    Ok(Ok(Planned { revert, reapply }))
}

fn revert_message(at: &Ground, landing: &Landing) -> String {
    let what = if landing.commits == 1 {
        format!("commit {}", landing.tip)
    } else {
        format!(
            "the {} commits {}..{}",
            landing.commits, landing.before, landing.tip
        )
    };
    format!(
        "Revert \"{}\"\n\nThis reverts {what}, the landing of agent '{}' on {}.",
        landing.summary, at.name, at.base
    )
}

fn reapply_message(at: &Ground, landing: &Landing, revert: ObjectId) -> String {
    format!(
        "Reapply \"{}\"\n\nThe work of agent '{}' that {} took back off {}, again on its branch: fix it there and land again.",
        landing.summary,
        at.name,
        short(revert),
        at.base
    )
}

/// The revert's trailers: the agent, the landing it takes back, the policy
/// and checks as `land` writes them, and the scope the landing had, so the
/// receipt verifies (the revert changes only what the landing changed).
fn revert_receipt(
    at: &Ground,
    landing: &Landing,
    policy: &crate::policy::manifest::Manifest,
    run_checks: bool,
    containment: &Containment,
) -> Result<Vec<String>> {
    let scope = match &landing.receipt {
        Some(receipt) => receipt.scope.clone(),
        // A fast-forward recorded no scope: the agent's own, if it has one.
        None => crate::ops::gate::resolve_subject(at.repo, Some(at.name), None)?
            .map(|s| s.patterns.into_iter().map(|(p, _)| p).collect())
            .unwrap_or_default(),
    };
    let receipt = landing::Receipt::new(
        at.name,
        landing::policy_blob(at.repo, at.base_tip)?,
        policy,
        (run_checks, at.options.dry_run),
        containment,
        scope,
    );
    let mut lines = receipt.trailers();
    // Right after `Agent:`, naming what this revert takes back.
    lines.insert(1, format!("Agent-Unlands: {}", landing.tip));
    Ok(lines)
}

/// Run the checks on the revert; `false` when one failed (the report then
/// holds the refusal).
fn checks_pass(
    at: &Ground,
    request: &checking::Request,
    report: &mut Report,
    io: &mut Io,
) -> Result<bool> {
    let run = checking::run(at.repo, request, io)?;
    let Some(failure) = report.checks.record(run) else {
        return Ok(true);
    };
    report.refuse(RefusalReport::new(
        "check_failed",
        format!(
            "refusing to unland '{}': check `{}` {} on the reverted result; nothing changed\n  reproduce it: git worktree add --detach /tmp/check {} && cd /tmp/check && {}\n  or take the landing back as it is: git agent unland {} --no-checks",
            at.name,
            failure.check,
            failure.how,
            short(request.commit),
            failure.check,
            at.name
        ),
    ));
    Ok(false)
}

// ---------------------------------------------------------------------------
// Finding the landing

/// The agent's latest landing on `base`, walking its first parents from
/// `tip`. A revert `unland` made names the landing it took back; a commit
/// with the agent's receipt, or that the reflog records as its landing's
/// result, is a landing.
pub fn latest_landing(
    repo: &gix::Repository,
    base: &str,
    name: &str,
    tip: ObjectId,
) -> Result<Found> {
    let moves = receipts::base_moves(repo, base)?;
    let mut reverted: HashMap<ObjectId, ObjectId> = HashMap::new();
    let mut at = Some(tip);
    while let Some(id) = at {
        let commit = repo.find_commit(id).git("reading a commit")?;
        at = commit.parent_ids().next().map(|p| p.detach());
        let receipt = receipts::parse(commit.message_raw_sloppy()).filter(|r| r.agent == name);
        if let Some(unlands) = receipt.as_ref().and_then(|r| r.unlands.as_deref()) {
            if let Ok(landing) = ObjectId::from_hex(unlands.as_bytes()) {
                reverted.entry(landing).or_insert(id);
            }
            continue;
        }
        let Some(landing) = landing_at(repo, &commit, receipt, &moves, name)? else {
            continue;
        };
        if let Some(by) = reverted.get(&landing.tip) {
            return Ok(Found::Unlanded {
                landing: landing.tip,
                by: Some(*by),
            });
        }
        if unlanded_hard_since(repo, &moves, name, (landing.tip, tip)) {
            return Ok(Found::Unlanded {
                landing: landing.tip,
                by: None,
            });
        }
        return Ok(Found::Landing(landing));
    }
    // Its only landings were moved off the base by `--hard`.
    let last = moves
        .iter()
        .rev()
        .find(|m| m.agent.as_deref() == Some(name));
    if let Some(landing) = last.and_then(|m| moved_off(repo, m, tip)) {
        return Ok(Found::Unlanded { landing, by: None });
    }
    Ok(Found::Never)
}

/// The landing whose last commit is `commit`, if it is one of `name`'s.
fn landing_at(
    repo: &gix::Repository,
    commit: &gix::Commit<'_>,
    receipt: Option<receipts::Receipt>,
    moves: &[receipts::Move],
    name: &str,
) -> Result<Option<Landing>> {
    let id = commit.id;
    let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
    let recorded = moves
        .iter()
        .rev()
        .filter(|m| m.source == MoveSource::Land && m.agent.as_deref() == Some(name))
        .filter(|m| ObjectId::from_hex(m.new.as_bytes()).ok() == Some(id))
        .find_map(|m| ObjectId::from_hex(m.old.as_bytes()).ok())
        .filter(|old| !old.is_null() && receipts::is_ancestor(repo, *old, id));
    let before = match (recorded, &receipt) {
        (Some(old), _) => old,
        (None, Some(receipt)) => run_start(repo, id, receipt)?,
        (None, None) => return Ok(None),
    };
    let kind = match (&receipt, parents.len()) {
        (Some(_), 2) => Kind::Merge,
        (Some(_), _) => Kind::Commits,
        (None, _) => Kind::FastForward,
    };
    let work = match kind {
        Kind::Merge => parents[1],
        _ => id,
    };
    let commits = receipts::first_parents(repo, id, &[before])?.len();
    let summary = repo::summary(commit);
    Ok(Some(Landing {
        tip: id,
        before,
        kind,
        receipt,
        summary,
        work,
        commits,
    }))
}

/// Without the reflog, where a landing ending at `tip` began: a rebase
/// landing's replayed commits carry the same receipt, one after another.
fn run_start(
    repo: &gix::Repository,
    tip: ObjectId,
    receipt: &receipts::Receipt,
) -> Result<ObjectId> {
    let mut at = tip;
    loop {
        let commit = repo.find_commit(at).git("reading a commit")?;
        let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
        let [parent] = parents.as_slice() else {
            return Ok(parents.first().copied().unwrap_or(at));
        };
        let below = repo.find_commit(*parent).git("reading a commit")?;
        let single = below.parent_ids().count() == 1;
        if !single || receipts::parse(below.message_raw_sloppy()).as_ref() != Some(receipt) {
            return Ok(*parent);
        }
        at = *parent;
    }
}

/// Whether the reflog records a `--hard` unland of `name` after its
/// landing that ended at `landing`, which took a landing off the base that
/// the base (at `tip`) still lacks: then the latest landing was taken back.
fn unlanded_hard_since(
    repo: &gix::Repository,
    moves: &[receipts::Move],
    name: &str,
    (landing, tip): (ObjectId, ObjectId),
) -> bool {
    let ours = |m: &&receipts::Move| m.agent.as_deref() == Some(name);
    let landing = landing.to_string();
    let Some(landed) = moves
        .iter()
        .rposition(|m| ours(&m) && m.source == MoveSource::Land && m.new == landing)
    else {
        return false;
    };
    moves[landed + 1..]
        .iter()
        .filter(ours)
        .any(|m| moved_off(repo, m, tip).is_some())
}

/// The landing an unland's move `m` took off the base, when the base (at
/// `tip`) still lacks it; `None` for any other move.
fn moved_off(repo: &gix::Repository, m: &receipts::Move, tip: ObjectId) -> Option<ObjectId> {
    if m.source != MoveSource::Unland {
        return None;
    }
    let old = ObjectId::from_hex(m.old.as_bytes()).ok()?;
    (!old.is_null() && !receipts::is_ancestor(repo, old, tip)).then_some(old)
}

// ---------------------------------------------------------------------------
// Moving the base

enum Swap {
    Moved,
    /// The base is not where this attempt started from.
    Lost,
    Refused(RefusalReport),
}

/// Move the base from its tip to the revert on top of it, under the
/// landing lock.
fn swap_forward(at: &Ground, base_worktree: Option<&Path>, new: ObjectId) -> Result<Swap> {
    let (repo, base) = (at.repo, at.base);
    if repo::branch_tip(repo, base)? != Some(at.base_tip) {
        return Ok(Swap::Lost);
    }
    let message = at.message();
    let Some(dir) = base_worktree else {
        let moved = landing::move_base(repo, base, at.base_tip, new, &message)?;
        return Ok(if moved { Swap::Moved } else { Swap::Lost });
    };
    if let Some(refusal) = dirty_base_refusal(at, dir)? {
        return Ok(Swap::Refused(refusal));
    }
    // As `land` does: git moves the branch with that worktree's files and
    // index, and `--ff-only` makes it a compare-and-swap.
    let out = git::command(dir)?
        .args(["merge", "--ff-only", "--quiet", "--no-stat"])
        .arg(new.to_string())
        .env("GIT_REFLOG_ACTION", &message)
        .output()
        .map_err(Error::io("running git merge --ff-only"))?;
    if out.status.success() {
        return Ok(Swap::Moved);
    }
    if repo::branch_tip(repo, base)? != Some(at.base_tip) {
        return Ok(Swap::Lost);
    }
    Ok(Swap::Refused(update_failed(at, dir, &out.stderr)))
}

/// `--hard`: move the base from the landing back to before it, under the
/// landing lock. Where the base is checked out, the ref moves by
/// compare-and-swap first, then its files and index follow; if they cannot,
/// the ref goes back.
fn swap_back(at: &Ground, base_worktree: Option<&Path>, landing: &Landing) -> Result<Swap> {
    let (repo, base) = (at.repo, at.base);
    if repo::branch_tip(repo, base)? != Some(landing.tip) {
        return Ok(Swap::Lost);
    }
    let message = at.message();
    let Some(dir) = base_worktree else {
        let moved = landing::move_base(repo, base, landing.tip, landing.before, &message)?;
        return Ok(if moved { Swap::Moved } else { Swap::Lost });
    };
    if let Some(refusal) = dirty_base_refusal(at, dir)? {
        return Ok(Swap::Refused(refusal));
    }
    let (from, to) = (landing.tip.to_string(), landing.before.to_string());
    let branch = format!("refs/heads/{base}");
    let moved = git::output(dir, &["update-ref", "-m", &message, &branch, &to, &from])?;
    if !moved.status.success() {
        return Ok(Swap::Lost);
    }
    let read = git::output(dir, &["read-tree", "-m", "-u", &from, &to])?;
    if read.status.success() {
        return Ok(Swap::Moved);
    }
    // The files could not follow (git checks everything before it writes,
    // so it changed none): the base goes back, so the unland did not happen.
    let back = format!("{message}: the worktree could not follow");
    git::run(dir, &["update-ref", "-m", &back, &branch, &from, &to])?;
    Ok(Swap::Refused(update_failed(at, dir, &read.stderr)))
}

fn update_failed(at: &Ground, dir: &Path, stderr: &[u8]) -> RefusalReport {
    RefusalReport::new(
        "base_update_failed",
        format!(
            "refusing to unland '{}': updating {} in {} failed, and nothing changed:\n{}",
            at.name,
            at.base,
            dir.display(),
            String::from_utf8_lossy(stderr).trim()
        ),
    )
}

// ---------------------------------------------------------------------------
// The agent's work

/// After the base moved: make sure the agent's work is in commits the base
/// lacks, so it can be fixed and landed again.
///
/// - `--hard`: the landed commits left the base, so the branch, which holds
///   them, keeps the work as it is.
/// - A revert: the base still has the landed commits (the revert undoes
///   their changes), so a branch holding them would land nothing again.
///   It moves to `reapply`, a commit on top of the revert that puts the
///   work back (merged with the branch's later commits, if any); its clean
///   worktree follows.
/// - A removed agent: its work is archived under
///   `refs/agent-archive/NAME/…`, and `git agent restore NAME` brings the
///   agent back with it.
fn keep_work(
    at: &Ground,
    landing: &Landing,
    reapply: Option<ObjectId>,
    report: &mut Report,
) -> Result<()> {
    let work_tip = reapply.unwrap_or(landing.work);
    let Some(agent) = at.agent else {
        report.work = Some(archive_work(at, landing, work_tip)?);
        return Ok(());
    };
    let branch_repo = context::branch_repo(at.repo, agent)?;
    if repo::branch_tip(&branch_repo, &agent.branch)?.is_none() {
        report.warnings.push(format!(
            "warning: branch {} of agent '{}' does not exist; its work is at {}: git branch {} {}",
            agent.branch,
            agent.name,
            short(work_tip),
            agent.branch,
            work_tip
        ));
        report.work = Some(work(Kept::NotMoved, agent, work_tip));
        return Ok(());
    }
    // A clone's branch is fetched here first, so its commits can be merged.
    let tip = landing::branch_tip(at.repo, agent)?;
    let holds_landed = receipts::is_ancestor(at.repo, landing.work, tip);
    let Some(reapply) = reapply.filter(|_| holds_landed) else {
        report.work = Some(work(Kept::Branch, agent, tip));
        return Ok(());
    };
    let Some(target) = reapplied_tip(at, agent, tip, reapply, report)? else {
        report.work = Some(work(Kept::NotMoved, agent, reapply));
        return Ok(());
    };
    match move_branch(at.repo, agent, tip, target)? {
        None => report.work = Some(work(Kept::Reapplied, agent, target)),
        Some(why) => {
            report.warnings.push(format!(
                "note: {} was not moved to the reapplied work ({why}); the unland stands. To get the work back on it: git -C {} merge --ff-only {}",
                agent.branch,
                crate::ops::gate::shell_quote(&agent.path.to_string_lossy()),
                target
            ));
            report.work = Some(work(Kept::NotMoved, agent, target));
        }
    }
    Ok(())
}

fn work(kept: Kept, agent: &Agent, commit: ObjectId) -> Work {
    Work {
        kept,
        branch: agent.branch.clone(),
        commit: Some(commit.to_string()),
        archive: None,
        restore: None,
    }
}

/// Where the branch goes: `reapply` itself when the branch has nothing
/// after the landed work, else a merge of the branch with it. `None` when
/// that merge conflicts (the report then has a warning).
fn reapplied_tip(
    at: &Ground,
    agent: &Agent,
    tip: ObjectId,
    reapply: ObjectId,
    report: &mut Report,
) -> Result<Option<ObjectId>> {
    if receipts::is_ancestor(at.repo, tip, reapply) {
        return Ok(Some(reapply));
    }
    let mem = at.repo.clone().with_object_memory();
    let tree = match landing::merge_commits(&mem, tip, reapply, false)? {
        landing::Merged::Clean(tree) => tree,
        landing::Merged::Conflicted(files) => {
            report.warnings.push(format!(
                "note: {} has commits after the landed work that conflict with it on {} ({}); the unland stands. Bring the work back by hand: git -C {} merge {}",
                agent.branch,
                at.base,
                files.join(", "),
                crate::ops::gate::shell_quote(&agent.path.to_string_lossy()),
                reapply
            ));
            return Ok(None);
        }
    };
    let committer = landing::signature(&mem)?;
    let message = format!(
        "Merge the reapplied work of agent '{}' into {}",
        agent.name, agent.branch
    );
    let merged = landing::write_commit(
        &mem,
        tree,
        vec![tip, reapply],
        committer.clone(),
        committer,
        message,
    )?;
    landing::persist(at.repo, mem)?;
    Ok(Some(merged))
}

/// Move the agent's branch from `from` to `to`, and its clean worktree
/// with it; `Some` says why it stayed. Both move or neither.
fn move_branch(
    repo: &gix::Repository,
    agent: &Agent,
    from: ObjectId,
    to: ObjectId,
) -> Result<Option<String>> {
    // Hold the agent's lease while its directory changes, so no `exec`
    // starts writing there meanwhile.
    let _lease = match lease::acquire(repo.common_dir(), &agent.name, "git agent unland")? {
        Ok(guard) => guard,
        Err(holder) => {
            return Ok(Some(format!(
                "pid {} holds its lease, running `{}` in it",
                holder.pid, holder.command
            )));
        }
    };
    let branch = format!("refs/heads/{}", agent.branch);
    let message = format!("git-agent unland {}: reapply the work", agent.name);
    let (from, to) = (from.to_string(), to.to_string());
    if !agent.path.is_dir() && agent.mode == AgentMode::Worktree {
        // No worktree to bring along: only the branch moves.
        let dir = repo::home_for_commands(repo);
        let moved = git::output(&dir, &["update-ref", "-m", &message, &branch, &to, &from])?;
        return Ok((!moved.status.success()).then(|| "it moved meanwhile".to_owned()));
    }
    if let Some(why) = landing::follow_skip_reason(agent)? {
        return Ok(Some(why.to_owned()));
    }
    let dir = &agent.path;
    let moved = git::output(dir, &["update-ref", "-m", &message, &branch, &to, &from])?;
    if !moved.status.success() {
        return Ok(Some("it gained commits meanwhile".to_owned()));
    }
    let read = git::output(dir, &["read-tree", "-m", "-u", &from, &to])?;
    if read.status.success() {
        return Ok(None);
    }
    let why = String::from_utf8_lossy(&read.stderr).trim().to_owned();
    let back = format!("{message}: the worktree could not follow");
    git::run(dir, &["update-ref", "-m", &back, &branch, &from, &to])?;
    Ok(Some(format!("its worktree could not follow: {why}")))
}

/// A removed agent's work, archived as `rm --force` archives it, with the
/// entry `restore` needs: its base, and the scope its landing recorded.
fn archive_work(at: &Ground, landing: &Landing, tip: ObjectId) -> Result<Work> {
    let entry = Agent {
        name: at.name.to_owned(),
        branch: format!("agent/{}", at.name),
        // Empty: `restore` puts the worktree where `add` would.
        path: Default::default(),
        base: at.base.to_owned(),
        scope: landing
            .receipt
            .as_ref()
            .map(|r| r.scope.clone())
            .unwrap_or_default(),
        areas: Vec::new(),
        task: None,
        role: Default::default(),
        mode: AgentMode::Worktree,
        state: Default::default(),
        created: crate::state::registry::now_unix(),
        port: None,
        adding_pid: None,
        setup_failed: false,
        sparse: false,
    };
    let reference = archive::write(at.repo, &entry, tip, false)?;
    Ok(Work {
        kept: Kept::Archived,
        branch: entry.branch,
        commit: Some(tip.to_string()),
        archive: Some(reference),
        restore: Some(format!("git agent restore {}", at.name)),
    })
}

// ---------------------------------------------------------------------------
// Refusals

fn never_landed(at: &Ground) -> RefusalReport {
    RefusalReport::new(
        "never_landed",
        format!(
            "refusing to unland '{}': {} has no landing of it (no commit with its receipt, no fast-forward landing in the reflog)",
            at.name, at.base
        ),
    )
}

fn already_unlanded(at: &Ground, landing: ObjectId, by: Option<ObjectId>) -> RefusalReport {
    let how = match by {
        Some(revert) => format!("reverted by {}", short(revert)),
        None => "moved off the base by `unland --hard`".to_owned(),
    };
    RefusalReport::new(
        "already_unlanded",
        format!(
            "refusing to unland '{}': its latest landing on {}, {}, was already taken back ({how}); unland takes back only the latest landing",
            at.name,
            at.base,
            short(landing)
        ),
    )
}

fn built_on_refusal(at: &Ground, landing: &Landing) -> Result<RefusalReport> {
    let after = receipts::first_parents(at.repo, at.base_tip, &[landing.tip])?.len();
    Ok(RefusalReport::new(
        "built_on",
        format!(
            "refusing to unland '{}' --hard: {} has {after} commit{} on top of its landing {}, and moving back would drop them\n  revert it instead: git agent unland {}",
            at.name,
            at.base,
            if after == 1 { "" } else { "s" },
            short(landing.tip),
            at.name
        ),
    ))
}

fn later_changes_refusal(at: &Ground, landing: &Landing, files: Vec<String>) -> RefusalReport {
    let message = format!(
        "refusing to unland '{}': later commits on {} changed the same lines as its landing {} ({}), in:\n{}\n  revert it by hand ({}) and resolve the conflicts, or land a fix instead",
        at.name,
        at.base,
        short(landing.tip),
        landing.summary,
        files
            .iter()
            .map(|f| format!("  {f}"))
            .collect::<Vec<_>>()
            .join("\n"),
        match (landing.kind, landing.commits) {
            (Kind::Merge, _) => format!("git revert -m 1 {}", short(landing.tip)),
            (_, 1) => format!("git revert {}", short(landing.tip)),
            _ => format!(
                "git revert {}..{}",
                short(landing.before),
                short(landing.tip)
            ),
        }
    );
    RefusalReport::new("later_changes", message).with_paths(files)
}

/// [`dirty_base_refusal`] where the base is checked out, if it is.
fn early_dirty_refusal(at: &Ground, base_worktree: Option<&Path>) -> Result<Option<RefusalReport>> {
    match base_worktree {
        Some(dir) => dirty_base_refusal(at, dir),
        None => Ok(None),
    }
}

/// The worktree where the base is checked out must be clean: unland
/// updates it.
fn dirty_base_refusal(at: &Ground, dir: &Path) -> Result<Option<RefusalReport>> {
    let uncommitted = status::uncommitted(dir)?;
    Ok((!uncommitted.is_empty()).then(|| {
        RefusalReport::new(
            "base_dirty",
            format!(
                "refusing to unland '{}': {} is checked out in {} with uncommitted changes: {}\n  commit or stash them there first; unland updates that worktree",
                at.name,
                at.base,
                dir.display(),
                landing::sample(&uncommitted)
            ),
        )
        .with_paths(uncommitted)
    }))
}
