//! `git agent land`: integrate an agent's branch into its base, checked and
//! atomic (SPEC: Landing).
//!
//! Everything that can refuse runs before anything visible changes: the
//! agent's worktree must be clean, every commit must pass the scope, the
//! merge is computed in memory (a conflict writes nothing), and the checks
//! run on the merged result in a temporary worktree. Only then does the base
//! move, by compare-and-swap, under a lock that serialises landings on the
//! same base: a landing that finds the base moved starts over.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use serde::Serialize;

use crate::Io;
use crate::error::{Error, GitContext, Outcome, RefusalReport, Result};
use crate::git::changes;
use crate::ops::checking::{self, Containment};
use crate::ops::context;
use crate::ops::gate::shell_quote;
use crate::policy::manifest::{Manifest, Role, Strategy};
use crate::policy::scope::Scope;
use crate::state::lease;
use crate::state::registry::{Agent, Mode};
use crate::{git, git::repo, ops::status};

/// How often a landing that lost the race for the base starts over.
const ATTEMPTS: usize = 8;

/// What `land` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct LandOptions {
    /// How to integrate; `None` is the policy's default.
    pub strategy: Option<Strategy>,
    pub no_checks: bool,
    pub dry_run: bool,
    /// Land a proposer's work.
    pub accept: bool,
    /// Narration (a proposer's diff stat) goes to stderr, since stdout
    /// carries the JSON report.
    pub narrate_on_stderr: bool,
}

/// How a landing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Landed,
    /// `--dry-run`: every step passed; the landing would go through.
    WouldLand,
    NothingToLand,
    Refused,
}

#[derive(Debug, Serialize)]
pub struct CommitJson {
    pub commit: String,
    pub summary: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Checks {
    /// The policy's `checks:`.
    pub commands: Vec<String>,
    /// Whether they run (or under `--dry-run` would run): not with
    /// `--no-checks`, nor without any.
    pub run: bool,
    /// `true` once they passed, `false` when one failed; `null` when they
    /// did not run (yet).
    pub passed: Option<bool>,
    pub failed: Option<String>,
    /// Whether they run in the write sandbox; `null` when they do not run.
    pub sandboxed: Option<bool>,
    /// Where they run, as the receipt's `Agent-Checks-Sandbox` says it.
    pub containment: Option<String>,
    /// How long they ran, once they did.
    pub seconds: Option<f64>,
}

impl Checks {
    /// What a report says of the policy's checks before they run: which,
    /// whether they will, and where.
    pub fn planned(policy: &Manifest, run: bool, containment: &Containment) -> Checks {
        Checks {
            commands: policy.checks.clone(),
            run,
            sandboxed: run.then(|| containment.sandboxed()),
            containment: run.then(|| containment.describe()),
            ..Checks::default()
        }
    }

    /// Record how a run of them went; the failed check, if one failed.
    pub fn record(&mut self, run: checking::CheckRun) -> Option<checking::Failure> {
        self.seconds = Some(run.duration.as_secs_f64());
        self.passed = Some(run.failed.is_none());
        self.failed = run.failed.as_ref().map(|f| f.check.clone());
        run.failed
    }
}

/// One landing, rendered as JSON with `--json`. What streams while the
/// landing goes (the checks' output) is written as it goes; the rest is
/// rendered from here.
#[derive(Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub agent: String,
    /// `null` only when refused before the agent was looked up.
    pub branch: Option<String>,
    pub base: Option<String>,
    pub strategy: Option<Strategy>,
    pub dry_run: bool,
    pub verdict: Verdict,
    /// The commits of the branch the base lacks, oldest first: the ones the
    /// scope is checked over and that land.
    pub commits: Vec<CommitJson>,
    pub out_of_scope: Vec<crate::ops::gate::Refusal>,
    /// Files the merge with the base would leave conflicted.
    pub conflicts: Vec<String>,
    pub checks: Checks,
    pub base_old: Option<String>,
    /// What the base moved to; under `--dry-run` only known for `ff`, since
    /// the other strategies write new commits.
    pub base_new: Option<String>,
    /// The trailers of the landed commit(s); `null` for a fast-forward.
    pub receipt: Option<Vec<String>>,
    pub refusal: Option<RefusalReport>,
    /// `--remove`: what `rm` then did.
    pub removal: Option<crate::ops::removal::Removal>,
    /// What the base moves (or under `--dry-run` would move) to.
    #[serde(skip)]
    pub landed_tip: Option<ObjectId>,
    /// With [`Verdict::NothingToLand`]: what the base already has.
    #[serde(skip)]
    pub nothing_to_land: Option<&'static str>,
    /// Problems after the base moved, which do not undo the landing.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Report {
    /// A landing of `name` (`agent`, once looked up), refused until it
    /// goes otherwise.
    pub fn new(
        name: &str,
        agent: Option<&Agent>,
        strategy: Option<Strategy>,
        dry_run: bool,
    ) -> Report {
        Report {
            version: 1,
            agent: agent.map_or_else(|| name.to_owned(), |a| a.name.clone()),
            branch: agent.map(|a| a.branch.clone()),
            base: agent.map(|a| a.base.clone()),
            strategy,
            dry_run,
            verdict: Verdict::Refused,
            commits: Vec::new(),
            out_of_scope: Vec::new(),
            conflicts: Vec::new(),
            checks: Checks::default(),
            base_old: None,
            base_new: None,
            receipt: None,
            refusal: None,
            removal: None,
            landed_tip: None,
            nothing_to_land: None,
            warnings: Vec::new(),
        }
    }

    /// Record the refusal.
    pub fn refuse(&mut self, refusal: RefusalReport) {
        self.verdict = Verdict::Refused;
        self.refusal = Some(refusal);
    }

    /// Refused, or done (landed, would land, or nothing to land); the
    /// removal `--remove` did after it is not counted here.
    pub fn outcome(&self) -> Outcome {
        match self.verdict {
            Verdict::Refused => Outcome::Refused,
            Verdict::Landed | Verdict::WouldLand | Verdict::NothingToLand => Outcome::Done,
        }
    }
}

/// Land `agent`: start over while the base moves under us, up to
/// [`ATTEMPTS`] times. Refusals are values in the report; the checks'
/// output and "starting over" stream to `io.err` as they happen.
///
/// `land` takes no lease (an `exec` may commit meanwhile), so `rm` may
/// remove the agent under it: its branch, worktree or entry then vanish
/// half-way and some step fails. Such an error becomes
/// [`Error::RemovedMeanwhile`]. Every error comes before the base moves
/// (after it, problems are warnings), so nothing was landed.
pub fn land(
    repo: &gix::Repository,
    agent: &Agent,
    options: &LandOptions,
    io: &mut Io,
) -> Result<Report> {
    land_entry(repo, agent, options, io).map_err(|e| match e {
        Error::RemovedMeanwhile { .. } => e,
        _ if removed_meanwhile(repo, agent) => removed_while_landing(&agent.name),
        e => e,
    })
}

/// The error of a landing whose agent was removed under it.
/// Why the landing of `agents` (the entries they were gated with) must
/// stop now: an entry changed since (a person narrowed a scope while the
/// checks ran, which can take minutes), or no longer verifies. Read again
/// under the landing lock, just before the base moves, so what lands was
/// checked against the scope each agent has when it lands.
pub(crate) fn entry_changed_refusal(
    repo: &gix::Repository,
    agents: &[&Agent],
) -> Result<Option<RefusalReport>> {
    for (agent, now) in agents
        .iter()
        .zip(crate::ops::sealing::entries_to_land(repo, agents)?)
    {
        let now = match now {
            Ok(now) => now,
            Err(refusal) => return Ok(Some(refusal)),
        };
        if now.scope != agent.scope
            || now.areas != agent.areas
            || now.branch != agent.branch
            || now.base != agent.base
            || now.role != agent.role
        {
            return Ok(Some(scope_changed(agent, &now)));
        }
    }
    Ok(None)
}

fn scope_changed(agent: &Agent, now: &Agent) -> RefusalReport {
    let rights = |a: &Agent| {
        let mut parts: Vec<String> = a.areas.iter().map(|x| format!("area {x}")).collect();
        parts.extend(a.scope.iter().cloned());
        match parts.is_empty() {
            true => "nothing".to_owned(),
            false => parts.join(", "),
        }
    };
    let more = if now.branch != agent.branch || now.base != agent.base || now.role != agent.role {
        " (its branch, base or role changed too)"
    } else {
        ""
    };
    RefusalReport::new(
        "scope_changed",
        format!(
            "agent '{}' changed while it was being landed: it was checked against {}, and its scope is now {}{more}; nothing landed\n  land it again, to check it against its scope as it is now",
            agent.name,
            rights(agent),
            rights(now),
        ),
    )
}

pub fn removed_while_landing(name: &str) -> Error {
    Error::RemovedMeanwhile {
        name: name.to_owned(),
        doing: "it was being landed",
        done: "landed",
    }
}

/// Whether `agent`'s entry is gone (or is another agent's of the same
/// name) once any removal under way is over: `rm` holds the agent's lease
/// from before it touches anything until after it drops the entry.
fn removed_meanwhile(repo: &gix::Repository, agent: &Agent) -> bool {
    let deadline = std::time::Instant::now() + REMOVAL_WAIT;
    while std::time::Instant::now() < deadline
        && lease::holder(repo.common_dir(), &agent.name).is_ok_and(|h| h.is_some())
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    context::registry(repo).load().is_ok_and(|agents| {
        agents
            .get(&agent.name)
            .is_none_or(|a| a.created != agent.created)
    })
}

/// How long a failed landing waits for a removal under way to finish
/// before it decides whether that removal caused the failure.
const REMOVAL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn land_entry(
    repo: &gix::Repository,
    agent: &Agent,
    options: &LandOptions,
    io: &mut Io,
) -> Result<Report> {
    if repo::branch_tip(repo, &agent.base)?.is_none() {
        return Err(base_missing(agent));
    }
    let policy = repo::load_policy(repo, &agent.base)?;
    let strategy = options.strategy.unwrap_or(policy.defaults.strategy);
    let new_report = || Report::new(&agent.name, Some(agent), Some(strategy), options.dry_run);
    // The scope below is only as good as the entry: one widened by hand
    // would let its own out-of-scope commits through. Landed as it is now.
    let agent = &match crate::ops::sealing::entry_to_land(repo, agent)? {
        Ok(current) => current,
        Err(refusal) => {
            let mut report = new_report();
            report.refuse(refusal);
            return Ok(report);
        }
    };
    for _ in 0..ATTEMPTS {
        let mut report = new_report();
        let ground = Ground::read(repo, agent, options, strategy)?;
        match attempt(&ground, &mut report, io)? {
            Attempt::Finished => return Ok(report),
            Attempt::BaseMoved => {
                writeln!(
                    io.err,
                    "git-agent: {} moved while landing '{}'; starting over on its new tip",
                    agent.base, agent.name
                )
                .map_err(Error::io("writing"))?;
            }
        }
    }
    let mut report = new_report();
    report.refuse(RefusalReport::new(
        "base_kept_moving",
        format!(
            "gave up landing '{}': {} kept moving ({ATTEMPTS} attempts); run the land again",
            agent.name, agent.base
        ),
    ));
    Ok(report)
}

enum Attempt {
    /// The report holds the verdict.
    Finished,
    BaseMoved,
}

/// What one attempt starts from: the base and branch as they are now.
pub(crate) struct Ground<'a> {
    pub(crate) repo: &'a gix::Repository,
    pub(crate) agent: &'a Agent,
    pub(crate) options: &'a LandOptions,
    pub(crate) strategy: Strategy,
    pub(crate) base_tip: ObjectId,
    pub(crate) tip: ObjectId,
    pub(crate) policy: Manifest,
    pub(crate) run_checks: bool,
    /// Where the checks run; the receipt records it.
    pub(crate) containment: Containment,
}

impl<'a> Ground<'a> {
    pub(crate) fn read(
        repo: &'a gix::Repository,
        agent: &'a Agent,
        options: &'a LandOptions,
        strategy: Strategy,
    ) -> Result<Ground<'a>> {
        // The branch first: a `sync` may merge the base into it at any
        // moment, and the base only moves forward, so a base read after
        // the branch holds every base commit the branch does. Read the
        // other way round, a sync in between put landed commits of other
        // agents in the range, refused as out of its scope (soak).
        let tip = branch_tip(repo, agent)?;
        let base_tip = repo::branch_tip(repo, &agent.base)?.ok_or_else(|| base_missing(agent))?;
        let policy = repo::load_policy(repo, &agent.base)?;
        let run_checks = !options.no_checks && !policy.checks.is_empty();
        let containment = Containment::for_policy(&policy);
        Ok(Ground {
            repo,
            agent,
            options,
            strategy,
            base_tip,
            tip,
            policy,
            run_checks,
            containment,
        })
    }

    /// Squash and rebase write new commits the agent's branch follows.
    pub(crate) fn follows(&self) -> bool {
        matches!(self.strategy, Strategy::Squash | Strategy::Rebase)
    }
}

/// A landing vetted in memory, ready to be checked and to move the base.
struct Ready {
    mem: gix::Repository,
    /// What the base moves to.
    tip: ObjectId,
    receipt: Receipt,
    /// Where the base is checked out, if anywhere.
    base_worktree: Option<PathBuf>,
}

fn attempt(at: &Ground, report: &mut Report, io: &mut Io) -> Result<Attempt> {
    report.base_old = Some(at.base_tip.to_string());
    report.checks = Checks::planned(&at.policy, at.run_checks, &at.containment);
    let Some((mem, commits, scope)) = vet_branch(at, report)? else {
        return Ok(Attempt::Finished);
    };
    let Some(ready) = vet_landing(at, mem, &commits, &scope, report, io)? else {
        return Ok(Attempt::Finished);
    };
    report.landed_tip = Some(ready.tip);
    if at.options.dry_run {
        report.verdict = Verdict::WouldLand;
        if at.strategy == Strategy::Ff {
            report.base_new = Some(ready.tip.to_string());
        } else {
            report.receipt = Some(ready.receipt.trailers());
        }
        return Ok(Attempt::Finished);
    }
    land_ready(at, ready, report, io)
}

/// The branch's own checks: a clean worktree, something to land, every
/// commit in scope and within the size limit. `None` when the report holds
/// the verdict; else the merge's object memory, the commits and the scope.
pub(crate) fn vet_branch(
    at: &Ground,
    report: &mut Report,
) -> Result<Option<(gix::Repository, Vec<changes::CommitChanges>, Scope)>> {
    vet_branch_found(at, uncommitted_refusal(at.agent)?, report)
}

/// [`vet_branch`], with the agent's uncommitted work already looked for
/// (a train looks in every agent's worktree at once).
pub(crate) fn vet_branch_found(
    at: &Ground,
    uncommitted: Option<RefusalReport>,
    report: &mut Report,
) -> Result<Option<(gix::Repository, Vec<changes::CommitChanges>, Scope)>> {
    let (repo, agent) = (at.repo, at.agent);
    if let Some(refusal) = uncommitted {
        report.refuse(refusal);
        return Ok(None);
    }
    let commits = changes::range(repo, at.base_tip, at.tip)?;
    report.commits = commits
        .iter()
        .map(|c| CommitJson {
            commit: c.commit.clone(),
            summary: c.summary.clone(),
        })
        .collect();
    let mem = repo.clone().with_object_memory();
    if let Some(why) = nothing_to_land(&mem, &commits, at.base_tip, at.tip)? {
        report.verdict = Verdict::NothingToLand;
        report.nothing_to_land = Some(why);
        return Ok(None);
    }
    // The gate, again, over every commit: `--no-verify` skips the hook, not this.
    let subject = crate::ops::gate::resolve_subject(repo, Some(&agent.name), None)?
        .ok_or_else(|| crate::ops::gate::unknown_agent(&agent.name, &Default::default(), None))?;
    let scope = subject.scope(repo)?;
    let refusal = match commits_scope_refusal(agent, &scope, &commits, report) {
        Some(refusal) => Some(refusal),
        // The gate's other rule, which `--no-verify` skips as well.
        None => subject
            .manifest
            .limits
            .max_files_per_commit
            .and_then(|max| too_large_refusal(agent, max, &commits)),
    };
    if let Some(refusal) = refusal {
        report.refuse(refusal);
        return Ok(None);
    }
    Ok(Some((mem, commits, scope)))
}

/// The landing's checks, in memory: the base's worktree clean, a proposer
/// accepted, the merge clean, what lands in scope, the agent's worktree
/// able to follow. `None` when the report holds the refusal.
fn vet_landing(
    at: &Ground,
    mem: gix::Repository,
    commits: &[changes::CommitChanges],
    scope: &Scope,
    report: &mut Report,
    io: &mut Io,
) -> Result<Option<Ready>> {
    let (repo, agent) = (at.repo, at.agent);
    let base_worktree = worktree_with_branch(repo, &agent.base)?;
    // A dry run says what the move would find. A real landing looks only
    // when it moves the base: a walk of a large worktree here would cost
    // every landing more than the checks it saves in the rare landing
    // onto a dirty base.
    let early = match base_worktree.as_ref().filter(|_| at.options.dry_run) {
        Some(dir) => dirty_base_refusal(agent, dir)?,
        None => None,
    };
    let refusal = match early {
        Some(refusal) => Some(refusal),
        None => proposer_refusal(at, io)?,
    };
    if let Some(refusal) = refusal {
        report.refuse(refusal);
        return Ok(None);
    }
    let receipt = receipt(at)?;
    let plan = match plan(
        &mem,
        agent,
        at.strategy,
        at.base_tip,
        at.tip,
        commits,
        &receipt,
    )? {
        Ok(plan) => plan,
        Err(refusal) => {
            if refusal.reason == "conflict" {
                report.conflicts = refusal.paths.clone();
            }
            report.refuse(refusal);
            return Ok(None);
        }
    };
    let landed = landed_out_of_scope(&mem, at.strategy, scope, at.base_tip, plan.tip)?;
    if !landed.is_empty() {
        report.refuse(landed_scope_refusal(agent, &landed));
        report.out_of_scope = landed;
        return Ok(None);
    }
    if at.follows()
        && at.options.dry_run
        && let Some(refusal) = follow_refusal(&mem, agent, at.tip, plan.tip, false)?
    {
        report.refuse(refusal);
        return Ok(None);
    }
    Ok(Some(Ready {
        mem,
        tip: plan.tip,
        receipt,
        base_worktree,
    }))
}

/// The agent's worktree must be clean: what lands is what it committed.
pub(crate) fn uncommitted_refusal(agent: &Agent) -> Result<Option<RefusalReport>> {
    if !agent.path.is_dir() {
        return Ok(None);
    }
    let uncommitted = status::uncommitted(&agent.path)?;
    if uncommitted.is_empty() {
        return Ok(None);
    }
    let message = format!(
        "agent '{}' has uncommitted changes in {}: {}\n  commit or discard them there first",
        agent.name,
        agent.path.display(),
        sample(&uncommitted)
    );
    Ok(Some(
        RefusalReport::new("uncommitted", message).with_paths(uncommitted),
    ))
}

/// Every commit's changes against the scope; the refused ones are added to
/// the report.
fn commits_scope_refusal(
    agent: &Agent,
    scope: &Scope,
    commits: &[changes::CommitChanges],
    report: &mut Report,
) -> Option<RefusalReport> {
    let mut out_of_scope = Vec::new();
    for commit in commits {
        for change in &commit.changes {
            let verdict = scope.decide(&change.path);
            if !verdict.allowed {
                out_of_scope.push(format!(
                    "  {} {}: {} ({})",
                    &commit.commit[..12.min(commit.commit.len())],
                    commit.summary,
                    change.path,
                    verdict.reason()
                ));
                report.out_of_scope.push(crate::ops::gate::Refusal {
                    path: change.path.clone(),
                    kind: Some(change.kind),
                    commit: Some(commit.commit.clone()),
                    summary: Some(commit.summary.clone()),
                    reason: verdict.reason(),
                    verdict,
                });
            }
        }
    }
    if out_of_scope.is_empty() {
        return None;
    }
    let message = format!(
        "refusing to land '{}': commits change files outside its scope:\n{}\n  fix: rewrite {} without those changes (git rebase -i {}), or widen the scope (git agent scope add {} PATTERN)",
        agent.name,
        out_of_scope.join("\n"),
        agent.branch,
        agent.base,
        agent.name
    );
    let mut paths: Vec<String> = report
        .out_of_scope
        .iter()
        .map(|r| r.path.to_str_lossy().into_owned())
        .collect();
    paths.sort();
    paths.dedup();
    Some(RefusalReport::new("out_of_scope", message).with_paths(paths))
}

/// Commits changing more files than `limits.max_files_per_commit`.
fn too_large_refusal(
    agent: &Agent,
    max: u64,
    commits: &[changes::CommitChanges],
) -> Option<RefusalReport> {
    let too_large: Vec<String> = commits
        .iter()
        .filter(|c| c.changes.len() as u64 > max)
        .map(|c| {
            format!(
                "  {} {}: {} files",
                &c.commit[..12.min(c.commit.len())],
                c.summary,
                c.changes.len()
            )
        })
        .collect();
    if too_large.is_empty() {
        return None;
    }
    let message = format!(
        "refusing to land '{}': commits change more files than limits.max_files_per_commit ({max}):\n{}\n  fix: split them (git rebase -i {} on {}), or raise the limit in .git-agent.yaml on {}",
        agent.name,
        too_large.join("\n"),
        agent.base,
        agent.branch,
        agent.base
    );
    Some(RefusalReport::new("too_many_files", message))
}

/// A proposer's work lands only with `--accept`; its diff stat is shown
/// either way, as narration.
pub(crate) fn proposer_refusal(at: &Ground, io: &mut Io) -> Result<Option<RefusalReport>> {
    let agent = at.agent;
    if agent.role != Role::Proposer {
        return Ok(None);
    }
    let stat = git::run(
        &git_dir_for_commands(at.repo),
        &["diff", "--stat", &format!("{}...{}", at.base_tip, at.tip)],
    )?;
    let narration: &mut dyn std::io::Write = if at.options.narrate_on_stderr {
        io.err
    } else {
        io.out
    };
    writeln!(
        narration,
        "agent '{}' is a proposer; its changes:\n{stat}",
        agent.name
    )
    .map_err(Error::io("writing"))?;
    if at.options.accept {
        return Ok(None);
    }
    Ok(Some(RefusalReport::new(
        "proposer",
        format!(
            "agent '{}' is a proposer: its work lands only when accepted; review the diff above, then: git agent land {} --accept",
            agent.name, agent.name
        ),
    )))
}

/// The patterns of the scope the agent lands under, for its receipt.
fn scope_patterns(at: &Ground) -> Result<Vec<String>> {
    Ok(
        crate::ops::gate::resolve_subject(at.repo, Some(&at.agent.name), None)?
            .map(|subject| subject.patterns.iter().map(|(p, _)| p.clone()).collect())
            .unwrap_or_default(),
    )
}

/// The trailers the landed commit(s) carry.
pub(crate) fn receipt(at: &Ground) -> Result<Receipt> {
    Ok(Receipt::new(
        &at.agent.name,
        policy_blob(at.repo, at.base_tip)?,
        &at.policy,
        (at.run_checks, at.options.dry_run),
        &at.containment,
        scope_patterns(at)?,
    ))
}

/// Write the vetted landing, run the checks on it, move the base by
/// compare-and-swap, and let the agent's branch follow.
fn land_ready(at: &Ground, ready: Ready, report: &mut Report, io: &mut Io) -> Result<Attempt> {
    let (repo, agent) = (at.repo, at.agent);
    crate::state::crash::point("land:after-vet");
    // The checked tree must exist on disk to be checked out; objects no ref
    // reaches are invisible, and `git gc` drops them if the land refuses.
    persist(repo, ready.mem)?;
    crate::state::crash::point("land:after-persist");
    if at.follows()
        && let Some(refusal) = follow_refusal(repo, agent, at.tip, ready.tip, true)?
    {
        report.refuse(refusal);
        return Ok(Attempt::Finished);
    }
    // The receipt already says the checks passed: if they do not, the
    // commit is never reachable.
    if at.run_checks && !checks_pass(at, ready.tip, report, io)? {
        return Ok(Attempt::Finished);
    }
    crate::state::crash::point("land:after-checks");
    let registry = context::registry(repo);
    let _lock = registry.lock_landing(&agent.base)?;
    if let Some(refusal) = entry_changed_refusal(repo, &[agent])? {
        report.refuse(refusal);
        return Ok(Attempt::Finished);
    }
    crate::state::crash::point("land:before-cas");
    match swap_base(at, ready.base_worktree.as_deref(), ready.tip)? {
        Swap::Moved => {}
        Swap::Lost => return Ok(Attempt::BaseMoved),
        Swap::Refused(refusal) => {
            report.refuse(refusal);
            return Ok(Attempt::Finished);
        }
    }
    crate::state::crash::point("land:after-cas");
    report.verdict = Verdict::Landed;
    report.base_new = Some(ready.tip.to_string());
    if at.strategy != Strategy::Ff {
        report.receipt = Some(ready.receipt.trailers());
    }
    if at.follows()
        && let Some(warning) = follow_landed(repo.common_dir(), agent, at.tip, ready.tip)
    {
        report.warnings.push(warning);
    }
    crate::state::crash::point("land:after-follow");
    Ok(Attempt::Finished)
}

/// Run the policy's checks on `tip` and record how they went; `false`
/// when one failed (the report then holds the refusal).
fn checks_pass(at: &Ground, tip: ObjectId, report: &mut Report, io: &mut Io) -> Result<bool> {
    let request = checking::Request {
        base: &at.agent.base,
        landing: &at.agent.name,
        commit: tip,
        policy: &at.policy,
        containment: &at.containment,
    };
    let run = checking::run(at.repo, &request, io)?;
    let Some(failure) = report.checks.record(run) else {
        return Ok(true);
    };
    let message = format!(
        "refusing to land '{}': check `{}` {} on the merged result; nothing was landed\n  reproduce it: git worktree add --detach /tmp/check {} && cd /tmp/check && {}",
        at.agent.name,
        failure.check,
        failure.how,
        short(tip),
        failure.check
    );
    report.refuse(RefusalReport::new("check_failed", message));
    Ok(false)
}

/// How the compare-and-swap of the base went.
pub(crate) enum Swap {
    Moved,
    /// The base is not where this attempt started from.
    Lost,
    Refused(RefusalReport),
}

/// Move the base from the attempt's tip to `new`, under the landing lock.
fn swap_base(at: &Ground, base_worktree: Option<&Path>, new: ObjectId) -> Result<Swap> {
    let message = format!(
        "git-agent land {}: {}",
        at.agent.name,
        strategy_name(at.strategy)
    );
    let base = BaseMove {
        repo: at.repo,
        base: &at.agent.base,
        old: at.base_tip,
        worktree: base_worktree,
        who: &at.agent.name,
    };
    base.swap(new, &message)
}

/// A move of the base by compare-and-swap; a train moves it once for all
/// its agents.
pub(crate) struct BaseMove<'a> {
    pub(crate) repo: &'a gix::Repository,
    pub(crate) base: &'a str,
    /// Where the base must still be.
    pub(crate) old: ObjectId,
    /// Where the base is checked out, if anywhere.
    pub(crate) worktree: Option<&'a Path>,
    /// What lands, as refusals name it: an agent's name, or a train's.
    pub(crate) who: &'a str,
}

impl BaseMove<'_> {
    /// Move the base from `old` to `new`; call it under the landing lock.
    pub(crate) fn swap(&self, new: ObjectId, message: &str) -> Result<Swap> {
        let (repo, base) = (self.repo, self.base);
        if repo::branch_tip(repo, base)? != Some(self.old) {
            return Ok(Swap::Lost);
        }
        let Some(dir) = self.worktree else {
            return Ok(match move_base(repo, base, self.old, new, message)? {
                true => Swap::Moved,
                false => Swap::Lost,
            });
        };
        // The base is checked out: git moves the branch and that worktree's
        // files and index together, and refuses (changing nothing) when
        // untracked files are in the way. `--ff-only` makes it a
        // compare-and-swap: the result has our base as parent.
        if let Some(refusal) = dirty_base_refusal_of(self.who, base, dir)? {
            return Ok(Swap::Refused(refusal));
        }
        let out = git::command(dir)?
            .args(["merge", "--ff-only", "--quiet", "--no-stat"])
            .arg(new.to_string())
            .env("GIT_REFLOG_ACTION", message)
            .output()
            .map_err(Error::io("running git merge --ff-only"))?;
        if out.status.success() {
            return Ok(Swap::Moved);
        }
        if repo::branch_tip(repo, base)? != Some(self.old) {
            return Ok(Swap::Lost);
        }
        Ok(Swap::Refused(RefusalReport::new(
            "base_update_failed",
            format!(
                "refusing to land '{}': updating {base} in {} failed, and nothing was landed:\n{}",
                self.who,
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )))
    }
}

/// Why the branch has nothing to land, if so: no commit the base lacks, or
/// commits whose merge with the base changes nothing (as after a squash
/// landing the branch did not follow: the rule `rm` uses for "landed").
pub(crate) fn nothing_to_land(
    mem: &gix::Repository,
    commits: &[changes::CommitChanges],
    base_tip: ObjectId,
    tip: ObjectId,
) -> Result<Option<&'static str>> {
    if commits.is_empty() {
        return Ok(Some("every commit"));
    }
    match merge_commits(mem, base_tip, tip, false)? {
        Merged::Clean(tree) if tree == tree_of(mem, base_tip)? => Ok(Some("every change")),
        _ => Ok(None),
    }
}

/// Paths the landing changes on the base that the agent may not change.
/// The gate checks what each commit changes; this checks what lands, which
/// can differ: a file or directory the base renamed carries the agent's
/// change to the new place. Each landed commit is diffed against its first
/// parent (a fast-forward: the base against the tip).
pub(crate) fn landed_out_of_scope(
    mem: &gix::Repository,
    strategy: Strategy,
    scope: &crate::policy::scope::Scope,
    base_tip: ObjectId,
    landed: ObjectId,
) -> Result<Vec<crate::ops::gate::Refusal>> {
    let mut steps = Vec::new();
    let mut at = landed;
    while at != base_tip {
        let parent = match strategy {
            Strategy::Ff => base_tip,
            _ => {
                let commit = mem.find_commit(at).git("reading a landed commit")?;
                let Some(parent) = commit.parent_ids().next() else {
                    break;
                };
                parent.detach()
            }
        };
        steps.push((parent, at));
        at = parent;
    }
    let mut refused: Vec<crate::ops::gate::Refusal> = Vec::new();
    for (parent, commit) in steps {
        let mut changed = Vec::new();
        let (old, new) = (tree_of(mem, parent)?, tree_of(mem, commit)?);
        changes::diff_trees(mem, Some(old), Some(new), "".into(), &mut changed)?;
        for change in changed {
            let verdict = scope.decide(&change.path);
            if verdict.allowed || refused.iter().any(|r| r.path == change.path) {
                continue;
            }
            refused.push(crate::ops::gate::Refusal {
                path: change.path,
                kind: Some(change.kind),
                commit: None,
                summary: None,
                reason: verdict.reason(),
                verdict,
            });
        }
    }
    refused.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(refused)
}

pub(crate) fn landed_scope_refusal(
    agent: &Agent,
    refused: &[crate::ops::gate::Refusal],
) -> RefusalReport {
    let lines: Vec<String> = refused
        .iter()
        .map(|r| format!("  {} ({})", r.path, r.reason))
        .collect();
    let message = format!(
        "refusing to land '{}': merged with {}, its changes land on files outside its scope:\n{}\n  {} moved or renamed them since the agent started; fix: git agent sync {} and keep the change in its scope, or widen the scope (git agent scope add {} PATTERN)",
        agent.name,
        agent.base,
        lines.join("\n"),
        agent.base,
        agent.name,
        agent.name
    );
    RefusalReport::new("out_of_scope", message).with_paths(
        refused
            .iter()
            .map(|r| r.path.to_str_lossy().into_owned())
            .collect(),
    )
}

/// The refusal when the worktree where the base is checked out has
/// uncommitted changes: landing would have to update it.
pub(crate) fn dirty_base_refusal(agent: &Agent, dir: &Path) -> Result<Option<RefusalReport>> {
    dirty_base_refusal_of(&agent.name, &agent.base, dir)
}

/// [`dirty_base_refusal`] for what `who` names (an agent, or a train).
pub(crate) fn dirty_base_refusal_of(
    who: &str,
    base: &str,
    dir: &Path,
) -> Result<Option<RefusalReport>> {
    let uncommitted = status::uncommitted(dir)?;
    Ok((!uncommitted.is_empty()).then(|| {
        RefusalReport::new(
            "base_dirty",
            format!(
                "refusing to land '{}': {} is checked out in {} with uncommitted changes: {}\n  commit or stash them there first; landing updates that worktree",
                who,
                base,
                dir.display(),
                sample(&uncommitted)
            ),
        )
        .with_paths(uncommitted)
    }))
}

pub fn base_missing(agent: &Agent) -> Error {
    Error::usage(
        format!(
            "base '{}' of agent '{}' does not exist any more",
            agent.base, agent.name
        ),
        format!(
            "recreate it (git branch {} <commit>) to land there; `git agent rm {}` refuses while its work is unlanded",
            agent.base, agent.name
        ),
    )
}

/// The agent's branch tip; a clone's branch is fetched into this repository
/// first, so every later step reads it here.
pub(crate) fn branch_tip(repo: &gix::Repository, agent: &Agent) -> Result<ObjectId> {
    let missing = || {
        Error::usage(
            format!(
                "branch {} of agent '{}' does not exist",
                agent.branch, agent.name
            ),
            format!(
                "run `git agent doctor` to see what happened to it; restore an archive with `git agent restore {}`",
                agent.name
            ),
        )
    };
    match agent.mode {
        Mode::Worktree => repo::branch_tip(repo, &agent.branch)?.ok_or_else(missing),
        Mode::Clone => {
            let clone = context::branch_repo(repo, agent)?;
            let tip = repo::branch_tip(&clone, &agent.branch)?.ok_or_else(missing)?;
            let from = agent.path.to_string_lossy().into_owned();
            // Into FETCH_HEAD only: no ref of ours changes.
            git::run(
                &git_dir_for_commands(repo),
                &[
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    &from,
                    &tip.to_string(),
                ],
            )?;
            Ok(tip)
        }
    }
}

/// Where to run git for this repository: its main worktree, or its git
/// directory when it is bare.
pub(crate) fn git_dir_for_commands(repo: &gix::Repository) -> PathBuf {
    repo::home_for_commands(repo)
}

#[derive(Clone)]
pub(crate) struct Receipt {
    pub(crate) agent: String,
    pub(crate) policy: String,
    pub(crate) checks: Vec<String>,
    /// The scope's patterns, as `audit` needs them: a registered agent's
    /// scope is not in history.
    pub(crate) scope: Vec<String>,
    /// Where the checks ran, when they ran.
    pub(crate) containment: Option<String>,
}

impl Receipt {
    /// The receipt of `agent`'s change under `policy` (its blob
    /// `policy_id`): the checks as they stand given `(run, dry_run)`, and
    /// where they run when they do.
    pub(crate) fn new(
        agent: &str,
        policy_id: Option<ObjectId>,
        policy: &Manifest,
        (run, dry_run): (bool, bool),
        containment: &Containment,
        scope: Vec<String>,
    ) -> Receipt {
        let state = checks_state(run, dry_run);
        Receipt {
            agent: agent.to_owned(),
            policy: policy_id.map_or_else(|| "none".to_owned(), |id| id.to_string()),
            checks: if policy.checks.is_empty() {
                vec!["none".to_owned()]
            } else {
                policy
                    .checks
                    .iter()
                    .map(|c| format!("{c} ({state})"))
                    .collect()
            },
            scope,
            containment: run.then(|| containment.describe()),
        }
    }

    pub(crate) fn trailers(&self) -> Vec<String> {
        let mut lines = vec![
            format!("Agent: {}", self.agent),
            format!("Agent-Policy: {}", self.policy),
        ];
        lines.extend(self.checks.iter().map(|c| format!("Agent-Checks: {c}")));
        lines.extend(
            self.containment
                .iter()
                .map(|c| format!("Agent-Checks-Sandbox: {c}")),
        );
        lines.extend(self.scope.iter().map(|p| format!("Agent-Scope: {p}")));
        lines
    }

    /// `message` with the trailers appended, in their own paragraph.
    fn sign(&self, message: &str) -> String {
        let mut out = message.trim_end().to_owned();
        out.push_str("\n\n");
        for line in self.trailers() {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

pub(crate) struct Plan {
    /// What the base moves to; the checks run on its tree.
    pub(crate) tip: ObjectId,
}

/// What writing the landed commits needs.
struct NewCommits<'a> {
    mem: &'a gix::Repository,
    agent: &'a Agent,
    committer: &'a gix::actor::Signature,
    receipt: &'a Receipt,
}

/// A plan, or the refusal to make one.
pub(crate) type Planned = std::result::Result<Plan, RefusalReport>;

/// The landed commit(s), in `mem`'s object memory. `Err` is a refusal.
pub(crate) fn plan(
    mem: &gix::Repository,
    agent: &Agent,
    strategy: Strategy,
    base_tip: ObjectId,
    tip: ObjectId,
    commits: &[changes::CommitChanges],
    receipt: &Receipt,
) -> Result<Planned> {
    // Every strategy asks for the identity first, fast-forward included,
    // as landing always has.
    let committer = signature(mem)?;
    let new = NewCommits {
        mem,
        agent,
        committer: &committer,
        receipt,
    };
    match strategy {
        Strategy::Ff => plan_fast_forward(mem, agent, base_tip, tip),
        Strategy::Merge | Strategy::Squash => {
            plan_merge_or_squash(&new, strategy, base_tip, tip, commits)
        }
        Strategy::Rebase => plan_rebase(&new, base_tip, commits),
    }
}

fn conflict_refusal(agent: &Agent, files: Vec<String>, what: String) -> RefusalReport {
    let message = format!(
        "refusing to land '{}': {what} conflicts with {} in:\n{}\n  fix: git agent sync {} (then resolve, commit, and land again)",
        agent.name,
        agent.base,
        files
            .iter()
            .map(|f| format!("  {f}"))
            .collect::<Vec<_>>()
            .join("\n"),
        agent.name
    );
    RefusalReport::new("conflict", message).with_paths(files)
}

/// The branch's tip itself, when the base has nothing it lacks.
fn plan_fast_forward(
    mem: &gix::Repository,
    agent: &Agent,
    base_tip: ObjectId,
    tip: ObjectId,
) -> Result<Planned> {
    let merge_base = mem
        .merge_base(base_tip, tip)
        .git("finding the merge base")?
        .map(|id| id.detach());
    if merge_base != Some(base_tip) {
        return Ok(Err(RefusalReport::new(
            "not_fast_forward",
            format!(
                "refusing to land '{}' by fast-forward: {} has commits {} lacks; run `git agent sync {}` first, or land with --strategy merge",
                agent.name, agent.base, agent.branch, agent.name
            ),
        )));
    }
    Ok(Ok(Plan { tip }))
}

/// One commit holding the merged tree: with both tips as parents (merge)
/// or the base's alone (squash).
fn plan_merge_or_squash(
    new: &NewCommits,
    strategy: Strategy,
    base_tip: ObjectId,
    tip: ObjectId,
    commits: &[changes::CommitChanges],
) -> Result<Planned> {
    let (mem, agent, committer) = (new.mem, new.agent, new.committer);
    let tree = match merge_commits(mem, base_tip, tip, false)? {
        Merged::Clean(tree) => tree,
        Merged::Conflicted(files) => {
            return Ok(Err(conflict_refusal(agent, files, agent.branch.clone())));
        }
    };
    let (subject, parents) = if strategy == Strategy::Merge {
        (
            format!(
                "Land agent '{}' ({}) into {}",
                agent.name, agent.branch, agent.base
            ),
            vec![base_tip, tip],
        )
    } else {
        let subject = match (commits, &agent.task) {
            ([one], _) => one.summary.clone(),
            (_, Some(task)) => task.clone(),
            _ => format!("Land agent '{}' ({} commits)", agent.name, commits.len()),
        };
        (subject, vec![base_tip])
    };
    let mut body = String::new();
    if commits.len() > 1 || strategy == Strategy::Merge {
        for c in commits {
            body += &format!("* {}\n", c.summary);
        }
    }
    let message = new.receipt.sign(&format!("{subject}\n\n{body}"));
    let landed = write_commit(
        mem,
        tree,
        parents,
        committer.clone(),
        committer.clone(),
        message,
    )?;
    Ok(Ok(Plan { tip: landed }))
}

/// The branch's commits replayed one by one on the base.
fn plan_rebase(
    new: &NewCommits,
    base_tip: ObjectId,
    commits: &[changes::CommitChanges],
) -> Result<Planned> {
    let mut onto = base_tip;
    let options = new.mem.tree_merge_options().git("reading merge options")?;
    // `range` lists them oldest first, the order to replay them in.
    for c in commits {
        match replay(new, c, onto, &options)? {
            Ok(replayed) => onto = replayed,
            Err(refusal) => return Ok(Err(refusal)),
        }
    }
    Ok(Ok(Plan { tip: onto }))
}

/// Replay the commit `c` on `onto`, in memory: the new commit, or the
/// refusal (a merge commit, or a conflict).
fn replay(
    new: &NewCommits,
    c: &changes::CommitChanges,
    onto: ObjectId,
    options: &gix::merge::tree::Options,
) -> Result<std::result::Result<ObjectId, RefusalReport>> {
    let (mem, agent) = (new.mem, new.agent);
    let id = ObjectId::from_hex(c.commit.as_bytes()).git("reading a commit id")?;
    let commit = mem.find_commit(id).git("reading a commit")?;
    let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
    let [parent] = parents.as_slice() else {
        return Ok(Err(RefusalReport::new(
            "merge_commit",
            format!(
                "refusing to land '{}' by rebase: {} is a merge commit, which a rebase cannot replay; land with --strategy merge or squash",
                agent.name,
                short(id)
            ),
        )));
    };
    let parent_tree = tree_of(mem, *parent)?;
    let onto_tree = tree_of(mem, onto)?;
    let own_tree = commit.tree_id().git("reading a commit's tree")?.detach();
    let mut outcome = mem
        .merge_trees(
            parent_tree,
            onto_tree,
            own_tree,
            Default::default(),
            options.clone(),
        )
        .git("replaying a commit in memory")?;
    if outcome.conflicts.iter().any(unresolved_in_git) {
        let files = conflict_files(&outcome.conflicts);
        return Ok(Err(conflict_refusal(
            agent,
            files,
            format!("commit {} ({})", short(id), c.summary),
        )));
    }
    let tree = outcome
        .tree
        .write()
        .git("writing a replayed tree")?
        .detach();
    let author = commit
        .author()
        .git("reading a commit's author")?
        .to_owned()
        .git("reading a commit's author")?;
    let message = new
        .receipt
        .sign(&commit.message_raw_sloppy().to_str_lossy());
    write_commit(
        mem,
        tree,
        vec![onto],
        author,
        new.committer.clone(),
        message,
    )
    .map(Ok)
}

/// Whether git leaves `conflict` unresolved. gix resolves a change inside
/// a directory the other side renamed by moving it along; git, by default
/// (`merge.directoryRenames=conflict`), stops there with `CONFLICT (file
/// location)`. Moving a file into another directory can move it out of
/// the agent's scope, so it is a conflict here too.
pub(crate) fn unresolved_in_git(conflict: &gix::merge::tree::Conflict) -> bool {
    conflict.is_unresolved(gix::merge::tree::TreatAsUnresolved::git())
        || matches!(
            conflict.resolution,
            Ok(gix::merge::tree::Resolution::SourceLocationAffectedByRename { .. })
        )
}

/// The result of merging two commits in memory.
pub(crate) enum Merged {
    /// The merged tree, written to the repository's object memory if it
    /// has one.
    Clean(ObjectId),
    /// The files the merge leaves conflicted, as git would.
    Conflicted(Vec<String>),
}

/// Merge `theirs` into `ours` as git would; land, its forecast (`conflicts`)
/// and the "nothing to land" rule all merge through here, so they agree.
pub(crate) fn merge_commits(
    mem: &gix::Repository,
    ours: ObjectId,
    theirs: ObjectId,
    allow_missing_merge_base: bool,
) -> Result<Merged> {
    let options: gix::merge::commit::Options = mem
        .tree_merge_options()
        .git("reading merge options")?
        .into();
    let mut outcome = mem
        .merge_commits(
            ours,
            theirs,
            Default::default(),
            options.with_allow_missing_merge_base(allow_missing_merge_base),
        )
        .git("merging in memory")?;
    if outcome.tree_merge.conflicts.iter().any(unresolved_in_git) {
        return Ok(Merged::Conflicted(conflict_files(
            &outcome.tree_merge.conflicts,
        )));
    }
    let tree = outcome
        .tree_merge
        .tree
        .write()
        .git("writing the merged tree")?
        .detach();
    Ok(Merged::Clean(tree))
}

pub(crate) fn conflict_files(conflicts: &[gix::merge::tree::Conflict]) -> Vec<String> {
    let mut files: Vec<String> = conflicts
        .iter()
        .filter(|c| unresolved_in_git(c))
        .flat_map(|c| {
            let (ours, theirs) = c.changes_in_resolution();
            [ours.location().to_owned(), theirs.location().to_owned()]
        })
        .map(|p| p.to_str_lossy().into_owned())
        .collect();
    files.sort();
    files.dedup();
    files
}

pub(crate) fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId> {
    Ok(repo
        .find_commit(commit)
        .git("reading a commit")?
        .tree_id()
        .git("reading a commit's tree")?
        .detach())
}

pub(crate) fn signature(repo: &gix::Repository) -> Result<gix::actor::Signature> {
    let Some(sig) = repo.committer() else {
        return Err(Error::usage(
            "no committer identity is configured, and landing writes commits",
            "set one: git config user.name 'Your Name' && git config user.email you@example.com",
        ));
    };
    sig.git("reading the committer identity")?
        .to_owned()
        .git("reading the committer identity")
}

pub(crate) fn write_commit(
    repo: &gix::Repository,
    tree: ObjectId,
    parents: Vec<ObjectId>,
    author: gix::actor::Signature,
    committer: gix::actor::Signature,
    message: String,
) -> Result<ObjectId> {
    let commit = gix::objs::Commit {
        tree,
        parents: parents.into_iter().collect(),
        author,
        committer,
        encoding: None,
        message: BString::from(message),
        extra_headers: Vec::new(),
    };
    Ok(repo
        .write_object(&commit)
        .git("writing the landed commit")?
        .detach())
}

/// Write what `mem` holds in memory to `repo`'s object database.
pub(crate) fn persist(repo: &gix::Repository, mut mem: gix::Repository) -> Result<()> {
    use gix::objs::Write as _;
    let Some(storage) = mem.objects.take_object_memory() else {
        return Ok(());
    };
    for (id, (kind, data)) in storage.iter() {
        repo.objects
            .write_buf_with_known_id(*kind, data, *id)
            .git("writing the landed objects")?;
    }
    Ok(())
}

/// The blob id of the policy on the base, the receipt's `Agent-Policy`.
pub(crate) fn policy_blob(repo: &gix::Repository, base_tip: ObjectId) -> Result<Option<ObjectId>> {
    let tree = repo
        .find_commit(base_tip)
        .git("reading the base")?
        .tree()
        .git("reading the base tree")?;
    Ok(tree
        .find_entry(crate::policy::manifest::MANIFEST_FILE)
        .map(|e| e.object_id()))
}

/// The worktree (main or linked) where `branch` is checked out.
pub(crate) fn worktree_with_branch(
    repo: &gix::Repository,
    branch: &str,
) -> Result<Option<PathBuf>> {
    // Under the lock: git fails on a registration being written (the
    // checks' worktrees of a concurrent landing).
    let registry = context::registry(repo);
    let registration = registry.lock_worktree_registration()?;
    let listing = git::run(
        &git_dir_for_commands(repo),
        &["worktree", "list", "--porcelain", "-z"],
    );
    drop(registration);
    let listing = listing?;
    let wanted = format!("branch refs/heads/{branch}");
    for record in listing.split("\0\0") {
        let mut path = None;
        let mut bare = false;
        let mut here = false;
        for line in record.split('\0') {
            if let Some(p) = line.strip_prefix("worktree ") {
                path = Some(PathBuf::from(p));
            } else if line == "bare" {
                bare = true;
            } else if line == wanted {
                here = true;
            }
        }
        if here && !bare {
            if let Some(dir) = path.as_ref().filter(|d| !d.is_dir()) {
                return Err(Error::usage(
                    format!(
                        "{branch} is checked out in the worktree {}, whose directory no longer exists, so landing cannot update it",
                        dir.display()
                    ),
                    "run `git worktree prune` to forget that worktree (or restore the directory), then land again",
                ));
            }
            return Ok(path);
        }
    }
    Ok(None)
}

/// Move `branch` from `old` to `new`, failing (false) if it is not at `old`.
pub(crate) fn move_base(
    repo: &gix::Repository,
    branch: &str,
    old: ObjectId,
    new: ObjectId,
    message: &str,
) -> Result<bool> {
    use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};
    let name: gix::refs::FullName = format!("refs/heads/{branch}").try_into().map_err(|e| {
        Error::usage(
            format!("invalid branch name '{branch}': {e}"),
            "name a valid branch",
        )
    })?;
    let edit = RefEdit {
        change: Change::Update {
            log: LogChange {
                mode: RefLog::AndReference,
                force_create_reflog: false,
                message: message.into(),
            },
            expected: PreviousValue::MustExistAndMatch(gix::refs::Target::Object(old)),
            new: gix::refs::Target::Object(new),
        },
        name,
        deref: false,
    };
    match repo.edit_reference(edit) {
        Ok(_) => Ok(true),
        Err(e)
            if e.downcast_any_ref::<gix::refs::file::transaction::prepare::ReferenceOutOfDate>(
            )
            .is_some() =>
        {
            Ok(false)
        }
        Err(e) => Err(Error::Git {
            context: format!("moving {branch}"),
            message: e.to_string(),
        }),
    }
}

/// Why the agent's branch will not follow a squash or rebase landing, if it
/// will not: only a clean worktree on the branch moves with it.
pub(crate) fn follow_skip_reason(agent: &Agent) -> Result<Option<&'static str>> {
    if !agent.path.is_dir() {
        return Ok(Some("its directory is missing"));
    }
    if !status::uncommitted(&agent.path)?.is_empty() {
        return Ok(Some("its worktree has uncommitted changes"));
    }
    let wt = gix::open(&agent.path).git("opening the agent's worktree")?;
    if repo::current_branch(&wt).as_deref() != Some(agent.branch.as_str()) {
        return Ok(Some("its worktree is not on it"));
    }
    Ok(None)
}

/// Files in the agent's worktree that git does not track and that the
/// landed commit adds: they block its worktree from following.
fn untracked_in_the_way(
    repo: &gix::Repository,
    agent: &Agent,
    from: ObjectId,
    to: ObjectId,
) -> Result<Vec<String>> {
    let mut added = Vec::new();
    changes::diff_trees(
        repo,
        Some(tree_of(repo, from)?),
        Some(tree_of(repo, to)?),
        "".into(),
        &mut added,
    )?;
    Ok(added
        .into_iter()
        .filter(|c| c.kind == changes::ChangeKind::Added)
        .filter(|c| {
            gix::path::from_bstr(c.path.as_bstr())
                .is_ok_and(|path| agent.path.join(path).symlink_metadata().is_ok())
        })
        .map(|c| c.path.to_str_lossy().into_owned())
        .collect())
}

/// Before the base moves: refuse when the agent's branch is to follow the
/// landed commit but its worktree cannot, so branch and worktree never
/// part. `check_with_git` asks git itself (the objects must be on disk);
/// without it only the files in the way are looked for (`--dry-run`).
pub(crate) fn follow_refusal(
    repo: &gix::Repository,
    agent: &Agent,
    from: ObjectId,
    to: ObjectId,
    check_with_git: bool,
) -> Result<Option<RefusalReport>> {
    if follow_skip_reason(agent)?.is_some() {
        return Ok(None);
    }
    let paths = untracked_in_the_way(repo, agent, from, to)?;
    let mut why = String::new();
    if check_with_git {
        // git decides what blocks `read-tree -m -u`; `-n` changes nothing.
        let (from, to) = (from.to_string(), to.to_string());
        let out = git::output(&agent.path, &["read-tree", "-m", "-u", "-n", &from, &to])?;
        if !out.status.success() {
            why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        }
    }
    if paths.is_empty() && why.is_empty() {
        return Ok(None);
    }
    let message = format!(
        "refusing to land '{}': its branch follows a {} landing, but files in {} are in the way: {}{}\n  move them away or commit them there, then land again",
        agent.name,
        "squash or rebase",
        agent.path.display(),
        sample(&paths),
        if why.is_empty() {
            String::new()
        } else {
            format!("\n  {why}")
        },
    );
    Ok(Some(
        RefusalReport::new("untracked_in_the_way", message).with_paths(paths),
    ))
}

/// After a squash or rebase the agent's old commits are not in the base by
/// id; move its branch and worktree to the landed commit so it goes on from
/// there. Both move or neither: a commit made meanwhile stays, and when the
/// worktree cannot follow the branch goes back. The base has moved by now,
/// so nothing here fails the landing: problems are warnings, returned.
pub(crate) fn follow_landed(
    common_dir: &Path,
    agent: &Agent,
    landed_from: ObjectId,
    landed: ObjectId,
) -> Option<String> {
    match follow(common_dir, agent, landed_from, landed) {
        Ok(None) => None,
        Ok(Some((label, why))) => Some(format!(
            "{label}: {} was not moved to the landed commit ({why}); the landing stands, and landing it again finds nothing to land; `git agent sync {}` brings it up to date",
            agent.branch, agent.name
        )),
        Err(e) => Some(format!(
            "warning: {} was not moved to the landed commit: {e}; the landing stands; check `git -C {} status`",
            agent.branch,
            shell_quote(&agent.path.to_string_lossy())
        )),
    }
}

/// [`follow_landed`]'s work; `Some` says why the branch stayed, after
/// "note" or "warning".
fn follow(
    common_dir: &Path,
    agent: &Agent,
    from: ObjectId,
    to: ObjectId,
) -> Result<Option<(&'static str, String)>> {
    // Hold the agent's lease while its directory changes, so no `exec`
    // starts writing there meanwhile; one that runs now keeps it as it is.
    let _lease = match lease::acquire(common_dir, &agent.name, "git agent land")? {
        Ok(guard) => guard,
        Err(holder) => {
            return Ok(Some((
                "note",
                format!(
                    "pid {} holds its lease, running `{}` in it",
                    holder.pid, holder.command
                ),
            )));
        }
    };
    if let Some(why) = follow_skip_reason(agent)? {
        return Ok(Some(("note", why.to_owned())));
    }
    let dir = &agent.path;
    let (from, to) = (from.to_string(), to.to_string());
    let branch = format!("refs/heads/{}", agent.branch);
    let message = format!("git-agent land {}: follow the landed commit", agent.name);
    // Compare-and-swap: a commit the agent made meanwhile wins.
    let moved = git::output(dir, &["update-ref", "-m", &message, &branch, &to, &from])?;
    if !moved.status.success() {
        return Ok(Some(("note", "it gained commits while landing".to_owned())));
    }
    // The index and files still hold the old tip; bring them along. git
    // checks everything before it writes, so a failure changed nothing.
    let read = git::output(dir, &["read-tree", "-m", "-u", &from, &to])?;
    if read.status.success() {
        return Ok(None);
    }
    let why = String::from_utf8_lossy(&read.stderr).trim().to_owned();
    let back = format!(
        "git-agent land {}: the worktree could not follow",
        agent.name
    );
    git::run(dir, &["update-ref", "-m", &back, &branch, &from, &to])?;
    Ok(Some((
        "warning",
        format!("its worktree could not follow: {why}"),
    )))
}

/// What a receipt says of the checks: never "passed" before they ran.
pub(crate) fn checks_state(run: bool, dry_run: bool) -> &'static str {
    match (run, dry_run) {
        (false, _) => "skipped",
        (true, true) => "would run",
        (true, false) => "passed",
    }
}

pub fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::Merge => "merge",
        Strategy::Squash => "squash",
        Strategy::Rebase => "rebase",
        Strategy::Ff => "fast-forward",
    }
}

pub fn short(id: ObjectId) -> String {
    id.to_hex_with_len(12).to_string()
}

/// A few paths, for a message.
pub(crate) fn sample(paths: &[String]) -> String {
    let mut s = paths.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if paths.len() > 5 {
        s += &format!(" and {} more", paths.len() - 5);
    }
    s
}
