//! `git agent unland`: take an agent's latest landing back off its base
//! (SPEC: Landing). The work is `ops::unlanding`'s; this renders it.

use clap::Parser;

use crate::Io;
use crate::cli::{AGENT, Common};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::unlanding::{self, Kept, Mode, Report, UnlandOptions, Verdict};

/// Take an agent's latest landing back off its base, keeping its work.
///
/// A revert commit, checked like a landing and carrying a receipt; or with
/// --hard the base moved back, while nothing was built on the landing. The
/// agent's branch keeps the work, so it can fix it and land again.
#[derive(Debug, Parser)]
#[command(name = "git-agent-unland", bin_name = "git agent unland", version)]
pub struct UnlandArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent (also one removed since it landed).
    #[arg(value_name = AGENT)]
    pub name: String,
    /// Move the base back to before the landing instead of reverting it;
    /// only while the landing is still the base's tip.
    #[arg(long)]
    pub hard: bool,
    /// Do not run the policy's checks on the revert; its receipt says they
    /// were skipped.
    #[arg(long)]
    pub no_checks: bool,
    /// Report what would happen, and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Print JSON instead of text (see README).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: UnlandArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    let options = UnlandOptions {
        hard: args.hard,
        no_checks: args.no_checks,
        dry_run: args.dry_run,
    };
    if let Some(refusal) = crate::ops::authority::who_may_act(
        &repo,
        crate::ops::authority::Action::Unland(&args.name),
    )? {
        let mut report = Report::new(&args.name, &options);
        report.refuse(refusal.report());
        return render(&report, &repo, args.json, io);
    }
    let agents = context::registry(&repo).load()?;
    let agent = agents.get(&args.name);
    let report = unlanding::unland(&repo, &args.name, agent, &options, io)?;
    render(&report, &repo, args.json, io)
}

fn render(report: &Report, repo: &gix::Repository, json: bool, io: &mut Io) -> Result<Outcome> {
    if json {
        let text = serde_json::to_string_pretty(report).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
    } else {
        render_text(report, repo, io)?;
    }
    for warning in &report.warnings {
        writeln!(io.err, "{warning}").map_err(Error::io("writing"))?;
    }
    Ok(report.outcome())
}

/// The first 12 digits of a full id in the report.
fn short_hex(id: &Option<String>) -> &str {
    id.as_deref().map_or("", |id| &id[..12.min(id.len())])
}

fn render_text(report: &Report, repo: &gix::Repository, io: &mut Io) -> Result<()> {
    if report.verdict == Verdict::Refused {
        if let Some(refusal) = &report.refusal {
            let paint = io.color.err(Some(repo));
            writeln!(io.err, "{}", refusal.text(paint)).map_err(Error::io("writing"))?;
        }
        return Ok(());
    }
    let paint = io.color.out(Some(repo));
    let verb = match report.verdict {
        Verdict::WouldUnland => paint.green("would unland"),
        _ => paint.green("unlanded"),
    };
    let how = match report.mode {
        Mode::Revert => "reverted",
        Mode::Hard => "moved back",
    };
    writeln!(
        io.out,
        "{verb} agent '{}' from {} ({how}): {} \"{}\"\n  {}: {} -> {}",
        report.agent,
        report.base.as_deref().unwrap_or_default(),
        short_hex(&report.landing),
        report.summary.as_deref().unwrap_or_default(),
        report.base.as_deref().unwrap_or_default(),
        short_hex(&report.base_old),
        match &report.base_new {
            Some(_) => short_hex(&report.base_new),
            None => "a revert commit",
        },
    )
    .map_err(Error::io("writing"))?;
    render_checks(report, io)?;
    for line in report.receipt.iter().flatten() {
        writeln!(io.out, "  {}", paint.dim(line)).map_err(Error::io("writing"))?;
    }
    render_work(report, io)
}

fn render_checks(report: &Report, io: &mut Io) -> Result<()> {
    let checks = &report.checks;
    let line = match (report.verdict, checks.run, checks.passed) {
        (_, true, Some(true)) => format!(
            "checks passed in {:.1} s, {}",
            checks.seconds.unwrap_or_default(),
            checks.containment.as_deref().unwrap_or_default()
        ),
        (Verdict::WouldUnland, true, _) => format!(
            "would run checks: {}, {}",
            checks.commands.join(", "),
            checks.containment.as_deref().unwrap_or_default()
        ),
        _ => return Ok(()),
    };
    writeln!(io.out, "  {line}").map_err(Error::io("writing"))
}

/// Where the agent's work is now.
fn render_work(report: &Report, io: &mut Io) -> Result<()> {
    let Some(work) = &report.work else {
        return Ok(());
    };
    let line = match work.kept {
        Kept::Branch => format!(
            "{} still holds the work: fix it there and land again",
            work.branch
        ),
        Kept::Reapplied => format!(
            "{} now re-applies the work on top of the revert ({}): fix it there and land again",
            work.branch,
            short_hex(&work.commit)
        ),
        Kept::Archived => format!(
            "the agent was removed: its work is archived as {}\n  bring it back with: {}",
            work.archive.as_deref().unwrap_or_default(),
            work.restore.as_deref().unwrap_or_default()
        ),
        // The warning on stderr says why and what to run.
        Kept::NotMoved => return Ok(()),
    };
    writeln!(io.out, "  {line}").map_err(Error::io("writing"))
}
