//! `git agent land`: integrate an agent's branch into its base, checked and
//! atomic (SPEC: Landing). The work is `ops::landing`'s; this renders it.

use clap::Parser;

use crate::Io;
use crate::cli::{AGENT, Common};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::landing::{self, LandOptions, Report, Verdict, short, strategy_name};
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

/// Integrate an agent's branch into its base: every commit re-checked
/// against the scope, the merge forecast in memory, the policy's checks run
/// on the merged result, then the base moved atomically.
#[derive(Debug, Parser)]
#[command(name = "git-agent-land", bin_name = "git agent land", version)]
pub struct LandArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
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
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    if let Some(refusal) =
        crate::ops::authority::who_may_act(&repo, crate::ops::authority::Action::Land(&args.name))?
    {
        let mut report = Report::new(&args.name, None, None, args.dry_run);
        report.refuse(refusal.report());
        render(&report, &repo, args.json, io)?;
        return Ok(report.outcome());
    }
    let agents = context::registry(&repo).load()?;
    let Some(agent) = agents.get(&args.name).cloned() else {
        return Err(crate::ops::gate::unknown_agent(&args.name, &agents, None));
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
