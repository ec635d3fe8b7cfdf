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
use crate::cli::LandArgs;
use crate::error::{Error, GitContext, Outcome, RefusalReport, Result};
use crate::git::changes;
use crate::ops::context;
use crate::ops::gate::shell_quote;
use crate::policy::manifest::{Role, Strategy};
use crate::state::lease;
use crate::state::registry::{Agent, Mode};
use crate::ui::color::Paint;
use crate::{git, git::repo, ops::status};

/// How often a landing that lost the race for the base starts over.
const ATTEMPTS: usize = 8;

/// How a landing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    Landed,
    /// `--dry-run`: every step passed; the landing would go through.
    WouldLand,
    NothingToLand,
    Refused,
}

#[derive(Debug, Serialize)]
struct CommitJson {
    commit: String,
    summary: String,
}

#[derive(Debug, Default, Serialize)]
struct Checks {
    /// The policy's `checks:`.
    commands: Vec<String>,
    /// Whether they run (or under `--dry-run` would run): not with
    /// `--no-checks`, nor without any.
    run: bool,
    /// `true` once they passed, `false` when one failed; `null` when they
    /// did not run (yet).
    passed: Option<bool>,
    failed: Option<String>,
}

/// One landing, rendered as JSON with `--json`; the text is written as the
/// landing goes, since checks stream their output in between.
#[derive(Debug, Serialize)]
struct Report {
    version: u32,
    agent: String,
    /// `null` only when refused before the agent was looked up.
    branch: Option<String>,
    base: Option<String>,
    strategy: Option<Strategy>,
    dry_run: bool,
    verdict: Verdict,
    /// The commits of the branch the base lacks, oldest first: the ones the
    /// scope is checked over and that land.
    commits: Vec<CommitJson>,
    out_of_scope: Vec<crate::ops::gate::Refusal>,
    /// Files the merge with the base would leave conflicted.
    conflicts: Vec<String>,
    checks: Checks,
    base_old: Option<String>,
    /// What the base moved to; under `--dry-run` only known for `ff`, since
    /// the other strategies write new commits.
    base_new: Option<String>,
    /// The trailers of the landed commit(s); `null` for a fast-forward.
    receipt: Option<Vec<String>>,
    refusal: Option<RefusalReport>,
    /// `--remove`: what `rm` then did.
    removal: Option<crate::ops::removal::Removal>,
    #[serde(skip)]
    json: bool,
    /// Colour for refusals on stderr.
    #[serde(skip)]
    paint: Paint,
}

impl Report {
    fn new(
        args: &LandArgs,
        agent: Option<&Agent>,
        strategy: Option<Strategy>,
        paint: Paint,
    ) -> Report {
        Report {
            version: 1,
            agent: agent.map_or_else(|| args.name.clone(), |a| a.name.clone()),
            branch: agent.map(|a| a.branch.clone()),
            base: agent.map(|a| a.base.clone()),
            strategy,
            dry_run: args.dry_run,
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
            json: args.json,
            paint,
        }
    }

    /// Record the refusal; in text mode, say it on stderr.
    fn refuse(&mut self, io: &mut Io, refusal: RefusalReport) -> Result<Outcome> {
        if !self.json {
            writeln!(io.err, "{}", refusal.text(self.paint)).map_err(Error::io("writing"))?;
        }
        self.verdict = Verdict::Refused;
        self.refusal = Some(refusal);
        Ok(Outcome::Refused)
    }

    /// Where narration goes: stdout in text mode, stderr beside the JSON.
    fn narration<'a>(&self, io: &'a mut Io) -> &'a mut dyn std::io::Write {
        if self.json { io.err } else { io.out }
    }

    fn print(&self, io: &mut Io) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))
    }
}

pub fn run(args: LandArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let here = repo::open(&cwd)?;
    if let Some(refusal) =
        crate::ops::authority::who_may_act(&here, crate::ops::authority::Action::Land(&args.name))?
    {
        let mut report = Report::new(&args, None, None, io.color.err(Some(&here)));
        let outcome = report.refuse(io, refusal.report())?;
        if args.json {
            report.print(io)?;
        }
        return Ok(outcome);
    }
    let repo = here;
    let agents = context::registry(&repo).load()?;
    let Some(agent) = agents.get(&args.name).cloned() else {
        return Err(crate::ops::gate::unknown_agent(&args.name, &agents, None));
    };
    if repo::branch_tip(&repo, &agent.base)?.is_none() {
        return Err(base_missing(&agent));
    }
    let policy = repo::load_policy(&repo, &agent.base)?;
    let strategy = args
        .strategy
        .map(Strategy::from)
        .unwrap_or(policy.defaults.strategy);
    // The scope below is only as good as the entry: one widened by hand
    // would let its own out-of-scope commits through.
    if let Some(refusal) = crate::ops::sealing::land_refusal(&repo, &agent)? {
        let mut report = Report::new(
            &args,
            Some(&agent),
            Some(strategy),
            io.color.err(Some(&repo)),
        );
        let outcome = report.refuse(io, refusal)?;
        if args.json {
            report.print(io)?;
        }
        return Ok(outcome);
    }

    for _ in 0..ATTEMPTS {
        let mut report = Report::new(
            &args,
            Some(&agent),
            Some(strategy),
            io.color.err(Some(&repo)),
        );
        match attempt(&repo, &agent, &args, strategy, &mut report, io)? {
            Attempt::Finished(mut outcome) => {
                if outcome == Outcome::Done && args.remove && !args.dry_run {
                    if args.json {
                        let removal = crate::ops::removal::removal(&repo, &agent, false, &cwd)?;
                        outcome = removal.outcome();
                        report.removal = Some(removal);
                    } else {
                        outcome = crate::ops::removal::remove(&repo, &agent, false, &cwd, io)?;
                    }
                }
                if args.json {
                    report.print(io)?;
                }
                return Ok(outcome);
            }
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
    let mut report = Report::new(
        &args,
        Some(&agent),
        Some(strategy),
        io.color.err(Some(&repo)),
    );
    let outcome = report.refuse(
        io,
        RefusalReport::new(
            "base_kept_moving",
            format!(
                "gave up landing '{}': {} kept moving ({ATTEMPTS} attempts); run the land again",
                agent.name, agent.base
            ),
        ),
    )?;
    if args.json {
        report.print(io)?;
    }
    Ok(outcome)
}

enum Attempt {
    Finished(Outcome),
    BaseMoved,
}

fn attempt(
    repo: &gix::Repository,
    agent: &Agent,
    args: &LandArgs,
    strategy: Strategy,
    report: &mut Report,
    io: &mut Io,
) -> Result<Attempt> {
    let done = |o| Ok(Attempt::Finished(o));
    let base_tip = repo::branch_tip(repo, &agent.base)?.ok_or_else(|| base_missing(agent))?;
    report.base_old = Some(base_tip.to_string());
    let tip = branch_tip(repo, agent)?;
    let policy = repo::load_policy(repo, &agent.base)?;
    let run_checks = !args.no_checks && !policy.checks.is_empty();
    report.checks.commands = policy.checks.clone();
    report.checks.run = run_checks;

    if agent.path.is_dir() {
        let uncommitted = status::uncommitted(&agent.path)?;
        if !uncommitted.is_empty() {
            let message = format!(
                "agent '{}' has uncommitted changes in {}: {}\n  commit or discard them there first",
                agent.name,
                agent.path.display(),
                sample(&uncommitted)
            );
            return done(report.refuse(
                io,
                RefusalReport::new("uncommitted", message).with_paths(uncommitted),
            )?);
        }
    }

    let commits = changes::range(repo, base_tip, tip)?;
    report.commits = commits
        .iter()
        .map(|c| CommitJson {
            commit: c.commit.clone(),
            summary: c.summary.clone(),
        })
        .collect();
    let mem = repo.clone().with_object_memory();
    if let Some(why) = nothing_to_land(&mem, &commits, base_tip, tip)? {
        report.verdict = Verdict::NothingToLand;
        if !args.json {
            writeln!(
                io.err,
                "agent '{}' has nothing to land: {} already has {why} of {}",
                agent.name, agent.base, agent.branch
            )
            .map_err(Error::io("writing"))?;
        }
        return done(Outcome::Done);
    }

    // The gate, again, over every commit: `--no-verify` skips the hook, not this.
    let subject = crate::ops::gate::resolve_subject(repo, Some(&agent.name), None)?
        .ok_or_else(|| crate::ops::gate::unknown_agent(&agent.name, &Default::default(), None))?;
    let scope = subject.scope(repo)?;
    let mut out_of_scope = Vec::new();
    for commit in &commits {
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
    if !out_of_scope.is_empty() {
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
        return done(report.refuse(
            io,
            RefusalReport::new("out_of_scope", message).with_paths(paths),
        )?);
    }
    // The gate's other rule, which `--no-verify` skips as well.
    if let Some(max) = subject.manifest.limits.max_files_per_commit {
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
        if !too_large.is_empty() {
            let message = format!(
                "refusing to land '{}': commits change more files than limits.max_files_per_commit ({max}):\n{}\n  fix: split them (git rebase -i {} on {}), or raise the limit in .git-agent.yaml on {}",
                agent.name,
                too_large.join("\n"),
                agent.base,
                agent.branch,
                agent.base
            );
            return done(report.refuse(io, RefusalReport::new("too_many_files", message))?);
        }
    }

    let base_worktree = worktree_with_branch(repo, &agent.base)?;
    // Checked again just before the base moves; this early look only saves
    // running the checks for nothing.
    if let Some(dir) = base_worktree.as_ref().filter(|_| run_checks)
        && let Some(refusal) = dirty_base_refusal(agent, dir)?
    {
        return done(report.refuse(io, refusal)?);
    }

    if agent.role == Role::Proposer {
        let stat = git::run(
            &git_dir_for_commands(repo),
            &["diff", "--stat", &format!("{base_tip}...{tip}")],
        )?;
        writeln!(
            report.narration(io),
            "agent '{}' is a proposer; its changes:\n{stat}",
            agent.name
        )
        .map_err(Error::io("writing"))?;
        if !args.accept {
            return done(report.refuse(
                io,
                RefusalReport::new(
                    "proposer",
                    format!(
                        "agent '{}' is a proposer: its work lands only when accepted; review the diff above, then: git agent land {} --accept",
                        agent.name, agent.name
                    ),
                ),
            )?);
        }
    }

    let policy_id = policy_blob(repo, base_tip)?;
    let receipt = Receipt {
        agent: agent.name.clone(),
        policy: policy_id.map_or_else(|| "none".to_owned(), |id| id.to_string()),
        checks: if policy.checks.is_empty() {
            vec!["none".to_owned()]
        } else {
            policy
                .checks
                .iter()
                .map(|c| format!("{c} ({})", checks_state(run_checks, args.dry_run)))
                .collect()
        },
        scope: subject.patterns.iter().map(|(p, _)| p.clone()).collect(),
    };

    let plan = match plan(&mem, agent, strategy, base_tip, tip, &commits, &receipt)? {
        Ok(plan) => plan,
        Err(refusal) => {
            if refusal.reason == "conflict" {
                report.conflicts = refusal.paths.clone();
            }
            return done(report.refuse(io, refusal)?);
        }
    };
    let landed = landed_out_of_scope(&mem, strategy, &scope, base_tip, plan.tip)?;
    if !landed.is_empty() {
        let refusal = landed_scope_refusal(agent, &landed);
        report.out_of_scope = landed;
        return done(report.refuse(io, refusal)?);
    }
    let follows = matches!(strategy, Strategy::Squash | Strategy::Rebase);
    if follows
        && args.dry_run
        && let Some(refusal) = follow_refusal(&mem, agent, tip, plan.tip, false)?
    {
        return done(report.refuse(io, refusal)?);
    }

    if args.dry_run {
        report.verdict = Verdict::WouldLand;
        if strategy == Strategy::Ff {
            report.base_new = Some(plan.tip.to_string());
        } else {
            report.receipt = Some(receipt.trailers());
        }
        if args.json {
            return done(Outcome::Done);
        }
        writeln!(
            io.out,
            "{} agent '{}' on {} ({}, {} commit{}): {} -> {}{}\n{}",
            io.color.out(Some(repo)).green("would land"),
            agent.name,
            agent.base,
            strategy_name(strategy),
            commits.len(),
            if commits.len() == 1 { "" } else { "s" },
            short(base_tip),
            short(plan.tip),
            if strategy == Strategy::Ff {
                ""
            } else {
                " (new commit ids will differ)"
            },
            if args.no_checks || policy.checks.is_empty() {
                "no checks would run".to_owned()
            } else {
                format!("would run checks: {}", policy.checks.join(", "))
            }
        )
        .map_err(Error::io("writing"))?;
        return done(Outcome::Done);
    }

    // The checked tree must exist on disk to be checked out; objects no ref
    // reaches are invisible, and `git gc` drops them if the land refuses.
    persist(repo, mem)?;
    if follows && let Some(refusal) = follow_refusal(repo, agent, tip, plan.tip, true)? {
        return done(report.refuse(io, refusal)?);
    }
    // The receipt already says the checks passed: if they do not, the
    // commit is never reachable.
    if run_checks {
        if let Some((check, failure)) = run_checks_on(repo, agent, plan.tip, &policy.checks, io)? {
            report.checks.passed = Some(false);
            report.checks.failed = Some(check);
            return done(report.refuse(io, RefusalReport::new("check_failed", failure))?);
        }
        report.checks.passed = Some(true);
    }

    let registry = context::registry(repo);
    let _lock = registry.lock_landing(&agent.base)?;
    if repo::branch_tip(repo, &agent.base)? != Some(base_tip) {
        return Ok(Attempt::BaseMoved);
    }
    let message = format!("git-agent land {}: {}", agent.name, strategy_name(strategy));
    match &base_worktree {
        Some(dir) => {
            // The base is checked out: git moves the branch and that
            // worktree's files and index together, and refuses (changing
            // nothing) when untracked files are in the way. `--ff-only`
            // makes it a compare-and-swap: the result has our base as
            // parent.
            if let Some(refusal) = dirty_base_refusal(agent, dir)? {
                return done(report.refuse(io, refusal)?);
            }
            let out = git::command(dir)?
                .args(["merge", "--ff-only", "--quiet", "--no-stat"])
                .arg(plan.tip.to_string())
                .env("GIT_REFLOG_ACTION", &message)
                .output()
                .map_err(Error::io("running git merge --ff-only"))?;
            if !out.status.success() {
                if repo::branch_tip(repo, &agent.base)? != Some(base_tip) {
                    return Ok(Attempt::BaseMoved);
                }
                return done(report.refuse(
                    io,
                    RefusalReport::new(
                        "base_update_failed",
                        format!(
                            "refusing to land '{}': updating {} in {} failed, and nothing was landed:\n{}",
                            agent.name,
                            agent.base,
                            dir.display(),
                            String::from_utf8_lossy(&out.stderr).trim()
                        ),
                    ),
                )?);
            }
        }
        None => {
            if !move_base(repo, &agent.base, base_tip, plan.tip, &message)? {
                return Ok(Attempt::BaseMoved);
            }
        }
    }

    report.verdict = Verdict::Landed;
    report.base_new = Some(plan.tip.to_string());
    if strategy != Strategy::Ff {
        report.receipt = Some(receipt.trailers());
    }
    if !args.json {
        let paint = io.color.out(Some(repo));
        writeln!(
            io.out,
            "{} agent '{}' on {} ({}, {} commit{}): {}..{}",
            paint.green("landed"),
            agent.name,
            agent.base,
            strategy_name(strategy),
            commits.len(),
            if commits.len() == 1 { "" } else { "s" },
            short(base_tip),
            short(plan.tip)
        )
        .map_err(Error::io("writing"))?;
        if strategy == Strategy::Ff {
            writeln!(
                io.out,
                "  fast-forward: the agent's commits landed as they are, so they carry no receipt trailers"
            )
            .map_err(Error::io("writing"))?;
        } else {
            for line in receipt.trailers() {
                writeln!(io.out, "  {}", paint.dim(line)).map_err(Error::io("writing"))?;
            }
        }
    }
    if follows {
        follow_landed(repo.common_dir(), agent, tip, plan.tip, io)?;
    }
    done(Outcome::Done)
}

/// Why the branch has nothing to land, if so: no commit the base lacks, or
/// commits whose merge with the base changes nothing (as after a squash
/// landing the branch did not follow: the rule `rm` uses for "landed").
fn nothing_to_land(
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
fn landed_out_of_scope(
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

fn landed_scope_refusal(agent: &Agent, refused: &[crate::ops::gate::Refusal]) -> RefusalReport {
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
fn dirty_base_refusal(agent: &Agent, dir: &Path) -> Result<Option<RefusalReport>> {
    let uncommitted = status::uncommitted(dir)?;
    Ok((!uncommitted.is_empty()).then(|| {
        RefusalReport::new(
            "base_dirty",
            format!(
                "refusing to land '{}': {} is checked out in {} with uncommitted changes: {}\n  commit or stash them there first; landing updates that worktree",
                agent.name,
                agent.base,
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
fn git_dir_for_commands(repo: &gix::Repository) -> PathBuf {
    repo::main_workdir(repo).unwrap_or_else(|| repo.common_dir().to_owned())
}

struct Receipt {
    agent: String,
    policy: String,
    checks: Vec<String>,
    /// The scope's patterns, as `audit` needs them: a registered agent's
    /// scope is not in history.
    scope: Vec<String>,
}

impl Receipt {
    fn trailers(&self) -> Vec<String> {
        let mut lines = vec![
            format!("Agent: {}", self.agent),
            format!("Agent-Policy: {}", self.policy),
        ];
        lines.extend(self.checks.iter().map(|c| format!("Agent-Checks: {c}")));
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

struct Plan {
    /// What the base moves to; the checks run on its tree.
    tip: ObjectId,
}

/// The landed commit(s), in `mem`'s object memory. `Err` is a refusal.
fn plan(
    mem: &gix::Repository,
    agent: &Agent,
    strategy: Strategy,
    base_tip: ObjectId,
    tip: ObjectId,
    commits: &[changes::CommitChanges],
    receipt: &Receipt,
) -> Result<std::result::Result<Plan, RefusalReport>> {
    let conflict_refusal = |files: Vec<String>, what: String| {
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
    };
    let committer = signature(mem)?;
    match strategy {
        Strategy::Ff => {
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
        Strategy::Merge | Strategy::Squash => {
            let tree = match merge_commits(mem, base_tip, tip, false)? {
                Merged::Clean(tree) => tree,
                Merged::Conflicted(files) => {
                    return Ok(Err(conflict_refusal(files, agent.branch.clone())));
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
            let message = receipt.sign(&format!("{subject}\n\n{body}"));
            let new = write_commit(mem, tree, parents, committer.clone(), committer, message)?;
            Ok(Ok(Plan { tip: new }))
        }
        Strategy::Rebase => {
            let mut onto = base_tip;
            let options = mem.tree_merge_options().git("reading merge options")?;
            // `range` lists them oldest first, the order to replay them in.
            for c in commits {
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
                let message = receipt.sign(&commit.message_raw_sloppy().to_str_lossy());
                onto = write_commit(mem, tree, vec![onto], author, committer.clone(), message)?;
            }
            Ok(Ok(Plan { tip: onto }))
        }
    }
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

fn signature(repo: &gix::Repository) -> Result<gix::actor::Signature> {
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

fn write_commit(
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
fn persist(repo: &gix::Repository, mut mem: gix::Repository) -> Result<()> {
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
fn policy_blob(repo: &gix::Repository, base_tip: ObjectId) -> Result<Option<ObjectId>> {
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
fn worktree_with_branch(repo: &gix::Repository, branch: &str) -> Result<Option<PathBuf>> {
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
fn move_base(
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

/// Run the policy's checks on `commit`, checked out in a temporary worktree
/// that is removed afterwards. Their output streams to stderr. `Some` is
/// the failed check and its refusal.
fn run_checks_on(
    repo: &gix::Repository,
    agent: &Agent,
    commit: ObjectId,
    checks: &[String],
    io: &mut Io,
) -> Result<Option<(String, String)>> {
    let tmp = tempfile::Builder::new()
        .prefix("git-agent-land.")
        .tempdir()
        .map_err(Error::io("creating a temporary directory for the checks"))?;
    let dir = tmp.path().join(&agent.name);
    let dir_text = dir.to_string_lossy().into_owned();
    let home = git_dir_for_commands(repo);
    // git reads every other worktree's registration while adding one, and
    // fails on one a concurrent landing is half-way through writing.
    let registry = context::registry(repo);
    let registration = registry.lock_worktree_registration()?;
    git::run(
        &home,
        &[
            "worktree",
            "add",
            "--detach",
            "--quiet",
            &dir_text,
            &commit.to_string(),
        ],
    )?;
    drop(registration);
    let result = (|| {
        for check in checks {
            writeln!(io.err, "check: {check}").map_err(Error::io("writing"))?;
            io.err.flush().map_err(Error::io("writing"))?;
            let status = run_shell(check, &dir, &agent.name)?;
            if status.code() == Some(127) && !command_found(check, &dir)? {
                return Err(Error::usage(
                    format!("check `{check}` could not run: command not found"),
                    format!(
                        "fix the `checks:` entry in .git-agent.yaml on {}, or land with --no-checks",
                        agent.base
                    ),
                ));
            }
            if !status.success() {
                let how = status.code().map_or_else(
                    || "was killed by a signal".to_owned(),
                    |c| format!("exited with {c}"),
                );
                return Ok(Some((
                    check.clone(),
                    format!(
                        "refusing to land '{}': check `{check}` {how} on the merged result; nothing was landed\n  reproduce it: git worktree add --detach /tmp/check {} && cd /tmp/check && {check}",
                        agent.name,
                        short(commit)
                    ),
                )));
            }
        }
        Ok(None)
    })();
    // Remove the checkout whatever happened; a failure here is not the
    // landing's, so it only warns.
    let registration = registry.lock_worktree_registration()?;
    let removed = git::run(&home, &["worktree", "remove", "--force", &dir_text]);
    drop(registration);
    if let Err(e) = removed {
        writeln!(
            io.err,
            "warning: could not remove the checks' worktree {}: {e}",
            shell_quote(&dir_text)
        )
        .map_err(Error::io("writing"))?;
    }
    result
}

/// Whether the command a check starts with can be started: a shell
/// builtin or keyword, a function, a path, or a program on `PATH`, as
/// `command -v` finds it. A check exits 127 when the shell could not find
/// a command; only when that command is the check's own (its first word,
/// after any `NAME=value` assignments) is the check itself wrong. A tool
/// missing further in is the check failing.
fn command_found(check: &str, dir: &Path) -> Result<bool> {
    let is_assignment = |word: &&str| {
        word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        })
    };
    let Some(first) = check.split_whitespace().find(|w| !is_assignment(w)) else {
        return Ok(true);
    };
    let first = first.trim_matches(['"', '\'']);
    // `(…)`, `{ …; }`, `$CMD` and the like: the shell ran something.
    if !first.starts_with(|c: char| c.is_alphanumeric() || "./_-~".contains(c)) {
        return Ok(true);
    }
    let status = git::scrub(&mut std::process::Command::new("sh"))
        .args(["-c", "command -v -- \"$1\" >/dev/null 2>&1", "sh", first])
        .current_dir(dir)
        .status()
        .map_err(Error::io(format!(
            "looking for the command of check `{check}`"
        )))?;
    Ok(status.success())
}

fn run_shell(command: &str, dir: &Path, name: &str) -> Result<std::process::ExitStatus> {
    let mut cmd = std::process::Command::new("sh");
    // Its git commands find the checked tree, not a repository we were
    // pointed at.
    git::scrub(&mut cmd)
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env_remove("GIT_AGENT")
        .env("GIT_AGENT_LANDING", name);
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        // Our stdout carries the receipt; the checks' output goes beside
        // their names on stderr.
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            cmd.stdout(std::process::Stdio::from(fd));
        }
    }
    cmd.status()
        .map_err(Error::io(format!("running check `{command}`")))
}

/// Why the agent's branch will not follow a squash or rebase landing, if it
/// will not: only a clean worktree on the branch moves with it.
fn follow_skip_reason(agent: &Agent) -> Result<Option<&'static str>> {
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
fn follow_refusal(
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
/// so nothing here fails the landing: problems are warnings.
fn follow_landed(
    common_dir: &Path,
    agent: &Agent,
    landed_from: ObjectId,
    landed: ObjectId,
    io: &mut Io,
) -> Result<()> {
    let warning = match follow(common_dir, agent, landed_from, landed) {
        Ok(None) => return Ok(()),
        Ok(Some((label, why))) => format!(
            "{label}: {} was not moved to the landed commit ({why}); the landing stands, and landing it again finds nothing to land; `git agent sync {}` brings it up to date",
            agent.branch, agent.name
        ),
        Err(e) => format!(
            "warning: {} was not moved to the landed commit: {e}; the landing stands; check `git -C {} status`",
            agent.branch,
            shell_quote(&agent.path.to_string_lossy())
        ),
    };
    writeln!(io.err, "{warning}").map_err(Error::io("writing"))
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
fn checks_state(run: bool, dry_run: bool) -> &'static str {
    match (run, dry_run) {
        (false, _) => "skipped",
        (true, true) => "would run",
        (true, false) => "passed",
    }
}

fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::Merge => "merge",
        Strategy::Squash => "squash",
        Strategy::Rebase => "rebase",
        Strategy::Ff => "fast-forward",
    }
}

fn short(id: ObjectId) -> String {
    id.to_hex_with_len(12).to_string()
}

/// A few paths, for a message.
fn sample(paths: &[String]) -> String {
    let mut s = paths.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if paths.len() > 5 {
        s += &format!(" and {} more", paths.len() - 5);
    }
    s
}
