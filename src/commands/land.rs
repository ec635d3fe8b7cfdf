//! `git agent land`: integrate an agent's branch into its base, checked and
//! atomic (SPEC: Landing); several agents land as a train. The work is
//! `ops::landing`'s and `ops::train`'s; this renders it.

use clap::Parser;

use crate::Io;
use crate::cli::{AGENT, Common};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::landing::{self, LandOptions, Report, Verdict, short, strategy_name};
use crate::ops::train::{self, Car, CarVerdict, Order, TrainOptions, TrainReport};
use crate::policy::manifest::Strategy;

/// How `land` integrates the branch into its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// A merge commit, even when a fast-forward is possible.
    Merge,
    /// One new commit holding all of the branch's changes.
    Squash,
    /// The branch's commits replayed on the base, then fast-forwarded.
    Rebase,
    /// Only a fast-forward; refuses when the base has moved on.
    Ff,
}

impl From<StrategyArg> for Strategy {
    fn from(s: StrategyArg) -> Self {
        match s {
            StrategyArg::Merge => Self::Merge,
            StrategyArg::Squash => Self::Squash,
            StrategyArg::Rebase => Self::Rebase,
            StrategyArg::Ff => Self::Ff,
        }
    }
}

/// The order a train merges its agents in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OrderArg {
    /// The conflict forecast's landing order: fewest conflicts first.
    Forecast,
    /// The order the agents are named in.
    Given,
}

impl From<OrderArg> for Order {
    fn from(o: OrderArg) -> Self {
        match o {
            OrderArg::Forecast => Self::Forecast,
            OrderArg::Given => Self::Given,
        }
    }
}

/// Integrate an agent's branch into its base: every commit re-checked
/// against the scope, the merge forecast in memory, the policy's checks run
/// on the merged result, then the base moved atomically. Several agents (or
/// --all) land as a train: each gated as alone, merged in memory in order,
/// the checks run once (a failure bisected), the base moved once.
#[derive(Debug, Parser)]
#[command(name = "git-agent-land", bin_name = "git agent land", version)]
pub struct LandArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent; several agents land as one train: each gated as alone,
    /// merged in order, the checks run once, the base moved once.
    #[arg(value_name = AGENT, required_unless_present = "all")]
    pub names: Vec<String>,
    /// Land every agent with something to land, as one train.
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// The order a train merges its agents in: the conflict forecast's
    /// (fewest conflicts first) or the order given.
    #[arg(long, value_enum, value_name = "ORDER", default_value_t = OrderArg::Forecast)]
    pub order: OrderArg,
    /// When a train's checks fail, land the largest passing subset it can
    /// prove (taking out each agent that breaks them), not only the
    /// largest passing prefix.
    #[arg(long)]
    pub keep_going: bool,
    /// How to integrate [default: the policy's defaults.strategy, else merge].
    #[arg(long, value_enum, value_name = "HOW")]
    pub strategy: Option<StrategyArg>,
    /// Do not run the policy's checks; the receipt says they were skipped.
    #[arg(long)]
    pub no_checks: bool,
    /// Report what would happen, and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Land a proposer agent's work, after its diff stat is shown.
    #[arg(long)]
    pub accept: bool,
    /// Remove the agent after landing, as `git agent rm` would.
    #[arg(long)]
    pub remove: bool,
    /// Print JSON instead of text: what happened, or with --dry-run what
    /// would happen (see README).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: LandArgs, io: &mut Io) -> Result<Outcome> {
    match (args.all, args.names.as_slice()) {
        (false, [name]) => {
            let name = name.clone();
            run_single(args, &name, io)
        }
        _ => run_train(args, io),
    }
}

/// `land NAME`: one agent.
fn run_single(args: LandArgs, name: &str, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    if let Some(refusal) =
        crate::ops::authority::who_may_act(&repo, crate::ops::authority::Action::Land(name))?
    {
        let mut report = Report::new(name, None, None, args.dry_run);
        report.refuse(refusal.report());
        render(&report, &repo, args.json, io)?;
        return Ok(report.outcome());
    }
    let agents = context::registry(&repo).load()?;
    let Some(agent) = agents.get(name).cloned() else {
        return Err(crate::ops::gate::unknown_agent(name, &agents, None));
    };
    let options = LandOptions {
        strategy: args.strategy.map(Strategy::from),
        no_checks: args.no_checks,
        dry_run: args.dry_run,
        accept: args.accept,
        narrate_on_stderr: args.json,
    };
    let mut report = landing::land(&repo, &agent, &options, io)?;
    let mut outcome = report.outcome();
    if !args.json {
        render_text(&report, &repo, io)?;
    }
    render_warnings(&report, io)?;
    if outcome == Outcome::Done && args.remove && !args.dry_run {
        let removal = crate::ops::removal::removal_showing(
            &repo,
            &agent,
            false,
            &cwd,
            &crate::ui::progress::Terminal,
        )?;
        outcome = removal.outcome();
        if args.json {
            report.removal = Some(removal);
        } else {
            removal.render(io, &repo)?;
        }
    }
    if args.json {
        print_json(&report, io)?;
    }
    Ok(outcome)
}

/// The report as JSON, or as text.
fn render(report: &Report, repo: &gix::Repository, json: bool, io: &mut Io) -> Result<()> {
    if json {
        render_warnings(report, io)?;
        print_json(report, io)
    } else {
        render_text(report, repo, io)?;
        render_warnings(report, io)
    }
}

fn print_json(report: &Report, io: &mut Io) -> Result<()> {
    let text = serde_json::to_string_pretty(report).expect("serialises");
    writeln!(io.out, "{text}").map_err(Error::io("writing"))
}

/// What happened, for humans: a landing on stdout, a refusal or nothing
/// to land on stderr.
fn render_text(report: &Report, repo: &gix::Repository, io: &mut Io) -> Result<()> {
    match report.verdict {
        Verdict::Refused => {
            if let Some(refusal) = &report.refusal {
                let paint = io.color.err(Some(repo));
                writeln!(io.err, "{}", refusal.text(paint)).map_err(Error::io("writing"))?;
            }
            Ok(())
        }
        Verdict::NothingToLand => writeln!(
            io.err,
            "agent '{}' has nothing to land: {} already has {} of {}",
            report.agent,
            report.base.as_deref().unwrap_or_default(),
            report.nothing_to_land.unwrap_or_default(),
            report.branch.as_deref().unwrap_or_default(),
        )
        .map_err(Error::io("writing")),
        Verdict::WouldLand => render_would_land(report, repo, io),
        Verdict::Landed => render_landed(report, repo, io),
    }
}

/// The agent, base, strategy and commit count a landing line starts with,
/// after its verb.
fn landing_line(report: &Report) -> String {
    let commits = report.commits.len();
    format!(
        "agent '{}' on {} ({}, {} commit{})",
        report.agent,
        report.base.as_deref().unwrap_or_default(),
        report.strategy.map(strategy_name).unwrap_or_default(),
        commits,
        if commits == 1 { "" } else { "s" },
    )
}

/// The first 12 digits of a full id in the report.
fn short_hex(id: &Option<String>) -> &str {
    id.as_deref().map_or("", |id| &id[..12.min(id.len())])
}

fn render_would_land(report: &Report, repo: &gix::Repository, io: &mut Io) -> Result<()> {
    let ff = report.strategy == Some(Strategy::Ff);
    writeln!(
        io.out,
        "{} {}: {} -> {}{}\n{}",
        io.color.out(Some(repo)).green("would land"),
        landing_line(report),
        short_hex(&report.base_old),
        report.landed_tip.map(short).unwrap_or_default(),
        if ff {
            ""
        } else {
            " (new commit ids will differ)"
        },
        if report.checks.run {
            format!(
                "would run checks: {}, {}",
                report.checks.commands.join(", "),
                report.checks.containment.as_deref().unwrap_or_default()
            )
        } else {
            "no checks would run".to_owned()
        }
    )
    .map_err(Error::io("writing"))
}

fn render_landed(report: &Report, repo: &gix::Repository, io: &mut Io) -> Result<()> {
    let paint = io.color.out(Some(repo));
    writeln!(
        io.out,
        "{} {}: {}..{}",
        paint.green("landed"),
        landing_line(report),
        short_hex(&report.base_old),
        report.landed_tip.map(short).unwrap_or_default(),
    )
    .map_err(Error::io("writing"))?;
    if let (Some(true), Some(containment)) = (report.checks.passed, &report.checks.containment) {
        writeln!(
            io.out,
            "  checks passed in {:.1} s, {containment}",
            report.checks.seconds.unwrap_or_default()
        )
        .map_err(Error::io("writing"))?;
    }
    match &report.receipt {
        None => writeln!(
            io.out,
            "  fast-forward: the agent's commits landed as they are, so they carry no receipt trailers"
        )
        .map_err(Error::io("writing")),
        Some(trailers) => {
            for line in trailers {
                writeln!(io.out, "  {}", paint.dim(line)).map_err(Error::io("writing"))?;
            }
            Ok(())
        }
    }
}

/// Problems after the base moved, on stderr whatever the format.
fn render_warnings(report: &Report, io: &mut Io) -> Result<()> {
    for warning in &report.warnings {
        writeln!(io.err, "{warning}").map_err(Error::io("writing"))?;
    }
    Ok(())
}

/// `land A B C…` or `land --all`: a train.
fn run_train(args: LandArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    let registry = context::registry(&repo).load()?;
    let agents = match args.all {
        true => train::with_something_to_land(&repo, &registry)?,
        false => named_agents(&args.names, &registry)?,
    };
    let options = TrainOptions {
        land: LandOptions {
            strategy: args.strategy.map(Strategy::from),
            no_checks: args.no_checks,
            dry_run: args.dry_run,
            accept: args.accept,
            narrate_on_stderr: args.json,
        },
        order: args.order.into(),
        keep_going: args.keep_going,
    };
    if agents.is_empty() {
        return nothing_to_land(&repo, &options, args.json, io);
    }
    let (base, strategy) = train::vet_input(&repo, &agents, options.land.strategy)?;
    let mut report = match train_refusal(&repo, &agents, &options, (&base, strategy))? {
        Some(refused) => refused,
        None => train::land_train(&repo, &agents, &options, (&base, strategy), io)?,
    };
    let mut outcome = report.outcome();
    if !args.json {
        render_train(&report, &repo, io)?;
    }
    render_lines(&report.warnings, io)?;
    if args.remove && !args.dry_run {
        let removed = remove_landed(&repo, &agents, &mut report, &cwd, args.json, io)?;
        if removed != Outcome::Done {
            outcome = removed;
        }
    }
    if args.json {
        let text = serde_json::to_string_pretty(&report).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
    }
    Ok(outcome)
}

/// `--all` when no agent has anything to land: an empty train.
fn nothing_to_land(
    repo: &gix::Repository,
    options: &TrainOptions,
    json: bool,
    io: &mut Io,
) -> Result<Outcome> {
    if !json {
        writeln!(io.err, "no agent has anything to land").map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    let base = repo::default_base(repo)?;
    let strategy = match repo::load_policy(repo, &base) {
        Ok(policy) => options.land.strategy.unwrap_or(policy.defaults.strategy),
        Err(_) => options.land.strategy.unwrap_or_default(),
    };
    let report = TrainReport::new(&base, strategy, options);
    let text = serde_json::to_string_pretty(&report).expect("serialises");
    writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

/// The named agents, each once and each registered: anything else is bad
/// input, refused before anything runs.
fn named_agents(
    names: &[String],
    registry: &crate::state::registry::Agents,
) -> Result<Vec<crate::state::registry::Agent>> {
    let mut agents = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(Error::usage(
                format!("agent '{name}' is named twice"),
                "name each agent of the train once",
            ));
        }
        let Some(agent) = registry.get(name) else {
            return Err(crate::ops::gate::unknown_agent(name, registry, None));
        };
        agents.push(agent.clone());
    }
    Ok(agents)
}

/// Humans orchestrate: from inside an agent's context the whole train is
/// refused, each agent with the refusal a single landing gives.
fn train_refusal(
    repo: &gix::Repository,
    agents: &[crate::state::registry::Agent],
    options: &TrainOptions,
    (base, strategy): (&str, Strategy),
) -> Result<Option<TrainReport>> {
    let mut report = TrainReport::new(base, strategy, options);
    for agent in agents {
        let action = crate::ops::authority::Action::Land(&agent.name);
        let Some(refusal) = crate::ops::authority::who_may_act(repo, action)? else {
            return Ok(None);
        };
        let mut car = Car::new(agent);
        car.refuse(refusal.report());
        report.order.push(agent.name.clone());
        report.agents.push(car);
    }
    Ok(Some(report))
}

/// `--remove`: each landed agent removed as `git agent rm` would.
fn remove_landed(
    repo: &gix::Repository,
    agents: &[crate::state::registry::Agent],
    report: &mut TrainReport,
    cwd: &std::path::Path,
    json: bool,
    io: &mut Io,
) -> Result<Outcome> {
    let mut outcome = Outcome::Done;
    for car in report.agents.iter_mut() {
        if car.verdict != CarVerdict::Landed {
            continue;
        }
        let Some(agent) = agents.iter().find(|a| a.name == car.agent) else {
            continue;
        };
        let removal = crate::ops::removal::removal_showing(
            repo,
            agent,
            false,
            cwd,
            &crate::ui::progress::Terminal,
        )?;
        if removal.outcome() != Outcome::Done {
            outcome = removal.outcome();
        }
        if json {
            car.removal = Some(removal);
        } else {
            removal.render(io, repo)?;
        }
    }
    Ok(outcome)
}

/// A train for humans: one line per agent, then the totals.
fn render_train(report: &TrainReport, repo: &gix::Repository, io: &mut Io) -> Result<()> {
    let paint = io.color.out(Some(repo));
    for car in &report.agents {
        let commits = car.commits.len();
        let what = format!(
            "'{}' ({} commit{})",
            car.agent,
            commits,
            if commits == 1 { "" } else { "s" }
        );
        let line = match car.verdict {
            CarVerdict::Landed => format!(
                "{} {what}: {}",
                paint.green("landed"),
                short_hex(&car.commit)
            ),
            CarVerdict::WouldLand => format!("{} {what}", paint.green("would land")),
            CarVerdict::NothingToLand => format!("nothing to land for '{}'", car.agent),
            CarVerdict::Refused | CarVerdict::LeftOut => {
                let label = match car.verdict {
                    CarVerdict::Refused => "refused",
                    _ => "left out",
                };
                let text = car.refusal.as_ref().map_or("", |r| r.message.as_str());
                format!("{} {what}: {text}", paint.red(label))
            }
        };
        writeln!(io.out, "{line}").map_err(Error::io("writing"))?;
    }
    if let Some(refusal) = &report.refusal {
        let paint = io.color.err(Some(repo));
        writeln!(io.err, "{}", refusal.text(paint)).map_err(Error::io("writing"))?;
    }
    writeln!(io.out, "{}", train_summary(report)).map_err(Error::io("writing"))
}

/// The train's last line: how many landed, the checks, the base's move.
fn train_summary(report: &TrainReport) -> String {
    let count = |v: CarVerdict| report.agents.iter().filter(|c| c.verdict == v).count();
    let moved = match (&report.base_old, &report.base_new) {
        (Some(old), Some(new)) => format!(
            "; {} moved {}..{}",
            report.base,
            &old[..12.min(old.len())],
            &new[..12.min(new.len())]
        ),
        _ => format!("; {} did not move", report.base),
    };
    let checks = match (report.checks.run, report.dry_run) {
        (false, _) => "no checks ran".to_owned(),
        (true, true) => "the checks would run once".to_owned(),
        (true, false) => format!(
            "checks ran {} time{}",
            report.check_runs,
            if report.check_runs == 1 { "" } else { "s" }
        ),
    };
    let landed = match report.dry_run {
        true => format!("{} would land", count(CarVerdict::WouldLand)),
        false => format!("{} landed", count(CarVerdict::Landed)),
    };
    format!(
        "train on {} ({}): {landed}, {} left out, {} refused; {checks}{moved}",
        report.base,
        strategy_name(report.strategy),
        count(CarVerdict::LeftOut),
        count(CarVerdict::Refused),
    )
}

/// Problems after the base moved, on stderr whatever the format.
fn render_lines(lines: &[String], io: &mut Io) -> Result<()> {
    for line in lines {
        writeln!(io.err, "{line}").map_err(Error::io("writing"))?;
    }
    Ok(())
}
