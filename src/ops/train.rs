//! `git agent land A B C…` and `land --all`: a landing train (SPEC:
//! Landing).
//!
//! Each agent is gated exactly as a single landing gates it (the steps are
//! `ops::landing`'s). The gated agents are merged in memory one on top of
//! the other, each into its own landed commit with its own receipt; one
//! that conflicts with those before it is left out. The policy's checks run
//! once, on the combined result; when they fail, the train is bisected over
//! its prefixes (re-running the checks on sub-trains) and the largest
//! passing prefix lands, or with `--keep-going` the largest passing subset
//! found by taking the breaking agents out one by one. The base moves once,
//! by compare-and-swap under the landing lock, so a killed train leaves it
//! at its old tip or at the train's final commit.

use gix::ObjectId;
use serde::Serialize;

use crate::Io;
use crate::error::{Error, Outcome, RefusalReport, Result};
use crate::git::{changes, repo};
use crate::ops::checking::{self, Containment};
use crate::ops::context;
use crate::ops::landing::{
    self, BaseMove, Checks, CommitJson, Ground, LandOptions, Merged, Receipt, Swap,
};
use crate::policy::manifest::{Manifest, Strategy};
use crate::policy::scope::Scope;
use crate::state::registry::Agent;

/// How often a train that lost the race for the base starts over.
const ATTEMPTS: usize = 8;

/// The order the train merges its agents in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// The conflict forecast's landing order: fewest conflicts first.
    Forecast,
    /// The order the agents were named in.
    Given,
}

/// What the train was asked to do.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// What each agent's landing is asked (strategy, checks, dry run,
    /// accept).
    pub land: LandOptions,
    pub order: Order,
    /// Land the largest passing subset it can prove, not only the largest
    /// passing prefix.
    pub keep_going: bool,
}

/// How the train ended for one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CarVerdict {
    Landed,
    /// `--dry-run`: it would land (the checks would still have to pass).
    WouldLand,
    NothingToLand,
    /// Its own gate refused it, as a single landing would.
    Refused,
    /// It passed its gate but the train left it out.
    LeftOut,
}

/// Why the train left an agent out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOut {
    /// It conflicts with the agents merged before it (not with the base).
    Conflict,
    /// The checks fail once it is added to those before it.
    CheckFailed,
    /// It comes after the agent that broke the checks; without
    /// `--keep-going` only the passing prefix lands.
    BehindFailure,
}

impl LeftOut {
    fn reason(self) -> &'static str {
        match self {
            LeftOut::Conflict => "conflict",
            LeftOut::CheckFailed => "check_failed",
            LeftOut::BehindFailure => "behind_failure",
        }
    }
}

/// One agent of the train, as `--json` reports it.
#[derive(Debug, Serialize)]
pub struct Car {
    pub agent: String,
    pub branch: String,
    pub verdict: CarVerdict,
    /// Why it was refused or left out: the refusal's reason, or
    /// `conflict`, `check_failed`, `behind_failure`.
    pub reason: Option<String>,
    pub refusal: Option<RefusalReport>,
    pub commits: Vec<CommitJson>,
    /// Files it conflicts in (with the base when refused, with the agents
    /// before it when left out).
    pub conflicts: Vec<String>,
    pub out_of_scope: Vec<crate::ops::gate::Refusal>,
    /// The check that failed once it was added.
    pub failed_check: Option<String>,
    /// Its landed commit; `null` unless landed.
    pub commit: Option<String>,
    /// The trailers of its landed commit (under `--dry-run`, of the commit
    /// it would get).
    pub receipt: Option<Vec<String>>,
    /// `--remove`: what `rm` then did.
    pub removal: Option<crate::ops::removal::Removal>,
}

impl Car {
    pub fn new(agent: &Agent) -> Car {
        Car {
            agent: agent.name.clone(),
            branch: agent.branch.clone(),
            verdict: CarVerdict::Refused,
            reason: None,
            refusal: None,
            commits: Vec::new(),
            conflicts: Vec::new(),
            out_of_scope: Vec::new(),
            failed_check: None,
            commit: None,
            receipt: None,
            removal: None,
        }
    }

    pub fn refuse(&mut self, refusal: RefusalReport) {
        self.verdict = CarVerdict::Refused;
        self.reason = Some(refusal.reason.to_owned());
        self.refusal = Some(refusal);
    }

    fn leave_out(&mut self, why: LeftOut, message: String) {
        self.verdict = CarVerdict::LeftOut;
        self.reason = Some(why.reason().to_owned());
        // Literal reasons, so the test of README's list of reasons sees them.
        self.refusal = Some(match why {
            LeftOut::Conflict => RefusalReport::new("conflict", message),
            LeftOut::CheckFailed => RefusalReport::new("check_failed", message),
            LeftOut::BehindFailure => RefusalReport::new("behind_failure", message),
        });
    }

    /// Still in the train: gated, not yet landed nor left out.
    fn undecided(&self) -> bool {
        self.verdict == CarVerdict::Refused && self.refusal.is_none()
    }
}

/// A train, rendered as JSON with `--json` (see README).
#[derive(Debug, Serialize)]
pub struct TrainReport {
    pub version: u32,
    pub base: String,
    pub strategy: Strategy,
    pub dry_run: bool,
    pub keep_going: bool,
    /// How the order was chosen.
    pub order_by: Order,
    /// The agents in the order the train merged them.
    pub order: Vec<String>,
    pub base_old: Option<String>,
    /// Where the base moved; `null` when it did not.
    pub base_new: Option<String>,
    /// How many times the checks ran (on the whole train and, when they
    /// failed, on sub-trains).
    pub check_runs: u32,
    /// The policy's checks; `passed` and `failed` are about what landed,
    /// `seconds` adds up every run.
    pub checks: Checks,
    pub agents: Vec<Car>,
    /// The train's own refusal (a base that kept moving, or could not be
    /// updated): nothing landed.
    pub refusal: Option<RefusalReport>,
    /// Problems after the base moved, which do not undo the landing.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl TrainReport {
    pub fn new(base: &str, strategy: Strategy, options: &TrainOptions) -> TrainReport {
        TrainReport {
            version: 1,
            base: base.to_owned(),
            strategy,
            dry_run: options.land.dry_run,
            keep_going: options.keep_going,
            order_by: options.order,
            order: Vec::new(),
            base_old: None,
            base_new: None,
            check_runs: 0,
            checks: Checks::default(),
            agents: Vec::new(),
            refusal: None,
            warnings: Vec::new(),
        }
    }

    /// Done when every agent landed, would land or had nothing to land;
    /// refused (exit 1) when any was refused or left out.
    pub fn outcome(&self) -> Outcome {
        let all_in = self.agents.iter().all(|c| {
            matches!(
                c.verdict,
                CarVerdict::Landed | CarVerdict::WouldLand | CarVerdict::NothingToLand
            )
        });
        match all_in && self.refusal.is_none() {
            true => Outcome::Done,
            false => Outcome::Refused,
        }
    }

    /// Refuse every agent still in the train, and the train, with `refusal`.
    fn refuse_train(&mut self, refusal: RefusalReport) {
        for car in self.agents.iter_mut().filter(|c| c.undecided()) {
            car.refuse(refusal.clone());
        }
        self.refusal = Some(refusal);
    }
}

/// The agents to land, checked as bad input: one base for all, a strategy
/// a train can use. Returns the base and the strategy.
pub fn vet_input(
    repo: &gix::Repository,
    agents: &[Agent],
    strategy: Option<Strategy>,
) -> Result<(String, Strategy)> {
    let Some(first) = agents.first() else {
        return Err(Error::usage(
            "no agent to land",
            "name the agents: git agent land A B C",
        ));
    };
    if let Some(other) = agents.iter().find(|a| a.base != first.base) {
        return Err(Error::usage(
            format!(
                "agents '{}' and '{}' land on different bases ({} and {}); a train lands on one base",
                first.name, other.name, first.base, other.base
            ),
            "land each base's agents in a train of their own: git agent land A B …",
        ));
    }
    if repo::branch_tip(repo, &first.base)?.is_none() {
        return Err(landing::base_missing(first));
    }
    let policy = repo::load_policy(repo, &first.base)?;
    let strategy = strategy.unwrap_or(policy.defaults.strategy);
    if strategy == Strategy::Ff {
        return Err(Error::usage(
            "a train cannot land by fast-forward: only its first agent could",
            "land the train with --strategy merge (or squash, or rebase)",
        ));
    }
    Ok((first.base.clone(), strategy))
}

/// Land `agents` (already vetted by [`vet_input`]) as one train on `base`:
/// start over while the base moves under us, up to [`ATTEMPTS`] times.
pub fn land_train(
    repo: &gix::Repository,
    agents: &[Agent],
    options: &TrainOptions,
    (base, strategy): (&str, Strategy),
    io: &mut Io,
) -> Result<TrainReport> {
    let order = order(repo, agents, options.order)?;
    for _ in 0..ATTEMPTS {
        let mut report = TrainReport::new(base, strategy, options);
        report.order = order.iter().map(|a| a.name.clone()).collect();
        report.agents = order.iter().map(|a| Car::new(a)).collect();
        let train = Train {
            repo,
            agents: &order,
            options,
            strategy,
            base,
        };
        match train.attempt(&mut report, io)? {
            Attempt::Finished => return Ok(report),
            Attempt::BaseMoved => writeln!(
                io.err,
                "git-agent: {base} moved while landing the train; starting over on its new tip"
            )
            .map_err(Error::io("writing"))?,
        }
    }
    let mut report = TrainReport::new(base, strategy, options);
    report.order = order.iter().map(|a| a.name.clone()).collect();
    report.agents = order.iter().map(|a| Car::new(a)).collect();
    report.refuse_train(RefusalReport::new(
        "base_kept_moving",
        format!("gave up landing the train: {base} kept moving ({ATTEMPTS} attempts); run the land again"),
    ));
    Ok(report)
}

/// `--all`: every registered agent whose branch has commits its base
/// lacks, in the registry's order.
pub fn with_something_to_land(
    repo: &gix::Repository,
    registry: &crate::state::registry::Agents,
) -> Result<Vec<Agent>> {
    let mut agents = Vec::new();
    for agent in registry.values() {
        if agent.state != crate::state::registry::State::Ready {
            continue;
        }
        let Some(base_tip) = repo::branch_tip(repo, &agent.base)? else {
            continue;
        };
        // A branch that is gone is for `doctor`, not for a train.
        let Ok(tip) = landing::branch_tip(repo, agent) else {
            continue;
        };
        let merge_base = repo
            .merge_base(base_tip, tip)
            .ok()
            .flatten()
            .map(|id| id.detach());
        if merge_base != Some(tip) {
            agents.push(agent.clone());
        }
    }
    Ok(agents)
}

/// The agents in the order the train merges them.
fn order<'a>(repo: &gix::Repository, agents: &'a [Agent], how: Order) -> Result<Vec<&'a Agent>> {
    if how == Order::Given {
        return Ok(agents.iter().collect());
    }
    let forecast = crate::ops::forecast::forecast(repo, agents)?;
    let mut order: Vec<&Agent> = crate::ops::forecast::landing_order(&forecast)
        .iter()
        .filter_map(|name| agents.iter().find(|a| &a.name == name))
        .collect();
    // Agents the forecast could not read go last; their gate says why.
    for agent in agents {
        if !order.iter().any(|a| a.name == agent.name) {
            order.push(agent);
        }
    }
    Ok(order)
}

enum Attempt {
    Finished,
    BaseMoved,
}

/// One train, in its order.
struct Train<'a> {
    repo: &'a gix::Repository,
    agents: &'a [&'a Agent],
    options: &'a TrainOptions,
    strategy: Strategy,
    base: &'a str,
}

/// An agent that passed its own gate, with what its landing needs.
struct Gated<'a> {
    /// Its index in the train's order and report.
    car: usize,
    ground: Ground<'a>,
    commits: Vec<changes::CommitChanges>,
    scope: Scope,
    receipt: Receipt,
}

/// One agent's landed commit in the chain.
struct Link {
    /// Index into the gated agents.
    gated: usize,
    /// Its landed commit: the chain's tip once it is on.
    tip: ObjectId,
    receipt: Vec<String>,
}

/// What the checks concluded on the chain.
struct Checked {
    links: Vec<Link>,
    /// The check that failed on a sub-train, if any did.
    failed: Option<String>,
}

impl<'a> Train<'a> {
    fn attempt(&self, report: &mut TrainReport, io: &mut Io) -> Result<Attempt> {
        let repo = self.repo;
        let base_tip = repo::branch_tip(repo, self.base)?
            .ok_or_else(|| landing::base_missing(self.agents[0]))?;
        report.base_old = Some(base_tip.to_string());
        let policy = repo::load_policy(repo, self.base)?;
        let run_checks = !self.options.land.no_checks && !policy.checks.is_empty();
        let containment = Containment::for_policy(&policy);
        // The time of checks run by an attempt the base's move undid counts.
        let seconds = report.checks.seconds;
        report.checks = Checks::planned(&policy, run_checks, &containment);
        report.checks.seconds = seconds;
        let Some(gated) = self.gate_all(base_tip, report, io)? else {
            return Ok(Attempt::BaseMoved);
        };
        let base_worktree = landing::worktree_with_branch(repo, self.base)?;
        // Checked again just before the base moves; this early look only
        // saves running the checks for nothing.
        if run_checks
            && !gated.is_empty()
            && let Some(dir) = &base_worktree
            && let Some(refusal) = landing::dirty_base_refusal_of(&self.who(), self.base, dir)?
        {
            report.refuse_train(refusal);
            return Ok(Attempt::Finished);
        }
        let mem = repo.clone().with_object_memory();
        let all: Vec<usize> = (0..gated.len()).collect();
        let links = self.chain(&mem, &gated, &all, base_tip, report)?;
        if self.options.land.dry_run {
            for link in &links {
                let car = &mut report.agents[gated[link.gated].car];
                car.verdict = CarVerdict::WouldLand;
                car.receipt = Some(link.receipt.clone());
            }
            return Ok(Attempt::Finished);
        }
        crate::state::crash::point("train:after-vet");
        landing::persist(repo, mem)?;
        crate::state::crash::point("train:after-persist");
        let links = self.followable(links, &gated, base_tip, report)?;
        let checked = match run_checks && !links.is_empty() {
            true => {
                let checks = CheckSetup {
                    policy: &policy,
                    containment: &containment,
                };
                self.check_and_bisect(&checks, links, &gated, base_tip, report, io)?
            }
            false => Checked {
                links,
                failed: None,
            },
        };
        self.land(checked, &gated, base_tip, base_worktree, report)
    }

    /// The train as refusals name it.
    fn who(&self) -> String {
        let names: Vec<&str> = self.agents.iter().map(|a| a.name.as_str()).collect();
        format!("the train {}", names.join(", "))
    }

    /// Every agent through its own gate; `None` when the base moved
    /// meanwhile.
    fn gate_all(
        &self,
        base_tip: ObjectId,
        report: &mut TrainReport,
        io: &mut Io,
    ) -> Result<Option<Vec<Gated<'a>>>> {
        let mut gated = Vec::new();
        let uncommitted = uncommitted_everywhere(self.agents);
        for ((car, agent), uncommitted) in self.agents.iter().enumerate().zip(uncommitted) {
            let ground = Ground::read(self.repo, agent, &self.options.land, self.strategy)?;
            if ground.base_tip != base_tip {
                return Ok(None);
            }
            if let Some(g) = gate(ground, uncommitted?, car, &mut report.agents[car], io)? {
                gated.push(g);
            }
        }
        Ok(Some(gated))
    }

    /// The landed commits of `which` (indices into `gated`, in order), one
    /// on top of the other from `from`, in `mem`. Agents that conflict or
    /// whose landing leaves their scope are reported and left off.
    fn chain(
        &self,
        mem: &gix::Repository,
        gated: &[Gated],
        which: &[usize],
        from: ObjectId,
        report: &mut TrainReport,
    ) -> Result<Vec<Link>> {
        let mut links = Vec::new();
        let mut tip = from;
        for &g in which {
            let this = &gated[g];
            let car = &mut report.agents[this.car];
            // A receipt names the policy of the commit it lands on.
            let mut receipt = this.receipt.clone();
            receipt.policy = landing::policy_blob(mem, tip)?
                .map_or_else(|| "none".to_owned(), |id| id.to_string());
            let at = &this.ground;
            let planned = landing::plan(
                mem,
                at.agent,
                self.strategy,
                tip,
                at.tip,
                &this.commits,
                &receipt,
            )?;
            let plan = match planned {
                Ok(plan) => plan,
                Err(refusal) => {
                    self.refuse_plan(mem, at, refusal, car)?;
                    continue;
                }
            };
            let landed =
                landing::landed_out_of_scope(mem, self.strategy, &this.scope, tip, plan.tip)?;
            if !landed.is_empty() {
                car.refuse(landing::landed_scope_refusal(at.agent, &landed));
                car.out_of_scope = landed;
                continue;
            }
            if at.follows()
                && let Some(refusal) =
                    landing::follow_refusal(mem, at.agent, at.tip, plan.tip, false)?
            {
                car.refuse(refusal);
                continue;
            }
            tip = plan.tip;
            links.push(Link {
                gated: g,
                tip,
                receipt: receipt.trailers(),
            });
        }
        Ok(links)
    }

    /// Record why an agent's landed commit could not be made: a conflict
    /// with the agents before it leaves it out; a conflict with the base
    /// alone, or anything else, refuses it as a single landing would.
    fn refuse_plan(
        &self,
        mem: &gix::Repository,
        at: &Ground,
        refusal: RefusalReport,
        car: &mut Car,
    ) -> Result<()> {
        if refusal.reason != "conflict" {
            car.refuse(refusal);
            return Ok(());
        }
        let with_base = landing::merge_commits(mem, at.base_tip, at.tip, false)?;
        car.conflicts = refusal.paths.clone();
        if let Merged::Conflicted(_) = with_base {
            car.refuse(refusal);
            return Ok(());
        }
        car.leave_out(
            LeftOut::Conflict,
            format!(
                "left '{}' out of the train: it conflicts with the agents merged before it in:\n{}\n  land it after them: git agent sync {} (then resolve, commit, and land again)",
                at.agent.name,
                landing::sample(&refusal.paths),
                at.agent.name
            ),
        );
        Ok(())
    }

    /// Before the base moves: agents whose branch is to follow their
    /// landed commit but whose worktree cannot (git asks, the objects on
    /// disk now) are refused, and the chain rebuilt without them.
    fn followable(
        &self,
        mut links: Vec<Link>,
        gated: &[Gated],
        base_tip: ObjectId,
        report: &mut TrainReport,
    ) -> Result<Vec<Link>> {
        if !matches!(self.strategy, Strategy::Squash | Strategy::Rebase) {
            return Ok(links);
        }
        loop {
            let mut refused = None;
            for (i, link) in links.iter().enumerate() {
                let at = &gated[link.gated].ground;
                if let Some(refusal) =
                    landing::follow_refusal(self.repo, at.agent, at.tip, link.tip, true)?
                {
                    report.agents[gated[link.gated].car].refuse(refusal);
                    refused = Some(i);
                    break;
                }
            }
            let Some(i) = refused else {
                return Ok(links);
            };
            links = self.rebuild(links, i, gated, base_tip, report)?;
        }
    }

    /// `links` without its `i`th: the ones after it made again on the one
    /// before it, and written to disk.
    fn rebuild(
        &self,
        mut links: Vec<Link>,
        i: usize,
        gated: &[Gated],
        base_tip: ObjectId,
        report: &mut TrainReport,
    ) -> Result<Vec<Link>> {
        let rest: Vec<usize> = links[i + 1..].iter().map(|l| l.gated).collect();
        links.truncate(i);
        let from = links.last().map_or(base_tip, |l| l.tip);
        let mem = self.repo.clone().with_object_memory();
        let again = self.chain(&mem, gated, &rest, from, report)?;
        landing::persist(self.repo, mem)?;
        links.extend(again);
        Ok(links)
    }

    /// Run the checks on the whole chain; when they fail, bisect its
    /// prefixes for the agent that breaks them. Without `--keep-going` the
    /// passing prefix is what lands; with it the breaking agent is taken
    /// out, the rest rebuilt on the prefix, and the checks run again.
    fn check_and_bisect(
        &self,
        checks: &CheckSetup,
        mut links: Vec<Link>,
        gated: &[Gated],
        base_tip: ObjectId,
        report: &mut TrainReport,
        io: &mut Io,
    ) -> Result<Checked> {
        // The length of the prefix known to pass: the base itself passed
        // when it landed.
        let mut passing = 0;
        let mut failed = None;
        while links.len() > passing {
            let Some(check) = self.check(checks, &links, links.len(), gated, report, io)? else {
                break;
            };
            let (good, check) = self.bisect(checks, &links, passing, check, gated, report, io)?;
            let breaker = &links[good];
            report.agents[gated[breaker.gated].car].failed_check = Some(check.clone());
            report.agents[gated[breaker.gated].car].leave_out(
                LeftOut::CheckFailed,
                format!(
                    "left '{}' out of the train: check `{check}` fails once it is merged on the agents before it",
                    gated[breaker.gated].ground.agent.name
                ),
            );
            failed = Some(check);
            if !self.options.keep_going {
                for behind in &links[good + 1..] {
                    report.agents[gated[behind.gated].car].leave_out(
                        LeftOut::BehindFailure,
                        format!(
                            "left '{}' out of the train: it comes after '{}', which broke the checks; land it again, or use --keep-going",
                            gated[behind.gated].ground.agent.name,
                            gated[breaker.gated].ground.agent.name
                        ),
                    );
                }
                links.truncate(good);
                break;
            }
            links = self.rebuild(links, good, gated, base_tip, report)?;
            passing = good;
        }
        Ok(Checked { links, failed })
    }

    /// Between a passing prefix (`good` links) and a failing one (all of
    /// `links`), halve until they are next to each other. Returns the
    /// passing prefix's length (the next link breaks the checks) and the
    /// check that failed nearest to it.
    #[allow(clippy::too_many_arguments)]
    fn bisect(
        &self,
        checks: &CheckSetup,
        links: &[Link],
        mut good: usize,
        mut check: String,
        gated: &[Gated],
        report: &mut TrainReport,
        io: &mut Io,
    ) -> Result<(usize, String)> {
        let mut bad = links.len();
        while bad - good > 1 {
            let mid = good + (bad - good) / 2;
            match self.check(checks, links, mid, gated, report, io)? {
                None => good = mid,
                Some(failed) => {
                    bad = mid;
                    check = failed;
                }
            }
        }
        Ok((good, check))
    }

    /// Run the checks on the first `len` links; the check that failed.
    fn check(
        &self,
        checks: &CheckSetup,
        links: &[Link],
        len: usize,
        gated: &[Gated],
        report: &mut TrainReport,
        io: &mut Io,
    ) -> Result<Option<String>> {
        let names: Vec<&str> = links[..len]
            .iter()
            .map(|l| gated[l.gated].ground.agent.name.as_str())
            .collect();
        let landing = names.join(",");
        let request = checking::Request {
            base: self.base,
            landing: &landing,
            commit: links[len - 1].tip,
            policy: checks.policy,
            containment: checks.containment,
        };
        let run = checking::run(self.repo, &request, io)?;
        report.check_runs += 1;
        *report.checks.seconds.get_or_insert(0.0) += run.duration.as_secs_f64();
        Ok(run.failed.map(|f| f.check))
    }

    /// Move the base once, to the last link, and record each agent's
    /// landing.
    fn land(
        &self,
        checked: Checked,
        gated: &[Gated],
        base_tip: ObjectId,
        base_worktree: Option<std::path::PathBuf>,
        report: &mut TrainReport,
    ) -> Result<Attempt> {
        let links = checked.links;
        if report.checks.run && report.check_runs > 0 {
            report.checks.passed = Some(!links.is_empty());
            report.checks.failed = checked.failed;
        }
        let Some(last) = links.last() else {
            return Ok(Attempt::Finished);
        };
        let names: Vec<&str> = links
            .iter()
            .map(|l| gated[l.gated].ground.agent.name.as_str())
            .collect();
        let who = format!("the train {}", names.join(", "));
        let message = format!(
            "git-agent land {}: train ({})",
            names.join(","),
            landing::strategy_name(self.strategy)
        );
        let registry = context::registry(self.repo);
        let lock = registry.lock_landing(self.base)?;
        // Every car as it is now: one whose scope changed while the train
        // ran stops the train, as a single landing stops.
        let cars: Vec<&Agent> = links.iter().map(|l| gated[l.gated].ground.agent).collect();
        if let Some(refusal) = landing::entry_changed_refusal(self.repo, &cars)? {
            report.refuse_train(refusal);
            return Ok(Attempt::Finished);
        }
        crate::state::crash::point("train:before-cas");
        let mover = BaseMove {
            repo: self.repo,
            base: self.base,
            old: base_tip,
            worktree: base_worktree.as_deref(),
            who: &who,
        };
        match mover.swap(last.tip, &message)? {
            Swap::Moved => {}
            Swap::Lost => return Ok(Attempt::BaseMoved),
            Swap::Refused(refusal) => {
                report.refuse_train(refusal);
                return Ok(Attempt::Finished);
            }
        }
        crate::state::crash::point("train:after-cas");
        drop(lock);
        report.base_new = Some(last.tip.to_string());
        for link in &links {
            let this = &gated[link.gated];
            let car = &mut report.agents[this.car];
            car.verdict = CarVerdict::Landed;
            car.commit = Some(link.tip.to_string());
            car.receipt = Some(link.receipt.clone());
            if this.ground.follows()
                && let Some(warning) = landing::follow_landed(
                    self.repo.common_dir(),
                    this.ground.agent,
                    this.ground.tip,
                    link.tip,
                )
            {
                report.warnings.push(warning);
            }
        }
        crate::state::crash::point("train:after-follow");
        Ok(Attempt::Finished)
    }
}

/// The policy's checks and where they run.
struct CheckSetup<'a> {
    policy: &'a Manifest,
    containment: &'a Containment,
}

/// One agent through a single landing's gate: its seal, a clean worktree,
/// something to land, every commit in scope, a proposer accepted. `None`
/// when `car` holds the verdict.
fn gate<'a>(
    ground: Ground<'a>,
    uncommitted: Option<RefusalReport>,
    car: usize,
    out: &mut Car,
    io: &mut Io,
) -> Result<Option<Gated<'a>>> {
    let agent = ground.agent;
    // The seal of the entry as it is now; the train lands the entry it read
    // at its start, which a scope edit since would only have narrowed or
    // widened under a new seal.
    if let Err(refusal) = crate::ops::sealing::entry_to_land(ground.repo, agent)? {
        out.refuse(refusal);
        return Ok(None);
    }
    let mut single = landing::Report::new(&agent.name, Some(agent), Some(ground.strategy), false);
    let vetted = landing::vet_branch_found(&ground, uncommitted, &mut single)?;
    out.commits = std::mem::take(&mut single.commits);
    out.out_of_scope = std::mem::take(&mut single.out_of_scope);
    let Some((_, commits, scope)) = vetted else {
        match single.refusal {
            Some(refusal) => out.refuse(refusal),
            None => out.verdict = CarVerdict::NothingToLand,
        }
        return Ok(None);
    };
    if let Some(refusal) = landing::proposer_refusal(&ground, io)? {
        out.refuse(refusal);
        return Ok(None);
    }
    let receipt = landing::receipt(&ground)?;
    Ok(Some(Gated {
        car,
        ground,
        commits,
        scope,
        receipt,
    }))
}

/// Each agent's uncommitted work, looked for in every worktree at once,
/// one thread per core: on a large repository that walk is most of a
/// gate's time.
fn uncommitted_everywhere(agents: &[&Agent]) -> Vec<Result<Option<RefusalReport>>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(agents.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Result<Option<RefusalReport>>>>> =
        agents.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(agent) = agents.get(i) else { break };
                    let found = landing::uncommitted_refusal(agent);
                    *slots[i].lock().expect("no panics while holding") = Some(found);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .expect("no panics while holding")
                .unwrap_or(Ok(None))
        })
        .collect()
}
