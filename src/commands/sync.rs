//! `git agent sync`: bring the base's new commits into an agent's branch,
//! in its own worktree.

use clap::Parser;

use crate::Io;
use crate::cli::{AGENT, Common};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::syncing::{self, Ended, How, Report};

/// Bring the base's new commits into an agent's branch, in its worktree.
#[derive(Debug, Parser)]
#[command(name = "git-agent-sync", bin_name = "git agent sync", version)]
pub struct SyncArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// Rebase the agent's commits onto the base (the default).
    #[arg(long, conflicts_with = "merge")]
    pub rebase: bool,
    /// Merge the base into the agent's branch instead of rebasing.
    #[arg(long)]
    pub merge: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: SyncArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let here = repo::open(&cwd)?;
    let how = if args.merge { How::Merge } else { How::Rebase };
    let (report, repo) = syncing::sync(here, &args.name, how)?;
    if args.json {
        let text = serde_json::to_string_pretty(&report).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
    } else {
        render(&report, &repo, io)?;
    }
    Ok(report.outcome())
}

/// The text report: what happened on stdout, a stop or refusal on stderr.
fn render(report: &Report, repo: &gix::Repository, io: &mut Io) -> Result<()> {
    let (out_paint, err_paint) = (io.color.out(Some(repo)), io.color.err(Some(repo)));
    let short = |t: &Option<String>| {
        t.as_deref()
            .map_or("?".to_owned(), |t| t[..12.min(t.len())].to_owned())
    };
    match report.result {
        Ended::Synced => writeln!(
            io.out,
            "{} agent '{}' with {} at {} ({}): {} {}..{}",
            out_paint.green("synced"),
            report.agent,
            report.base,
            &report.base_tip[..12],
            report.how.name(),
            report.branch,
            short(&report.old_tip),
            short(&report.new_tip),
        ),
        Ended::UpToDate => writeln!(
            io.out,
            "agent '{}' is {} with {}",
            report.agent,
            out_paint.green("up to date"),
            report.base
        ),
        Ended::Stopped => writeln!(
            io.err,
            "git-agent: {} with {} in:\n{}\n  resolve them in {}, `git add` them, then `{}` (or `{}` to go back)",
            err_paint.red(format!("sync of agent '{}' stopped on a conflict", report.agent)),
            report.base,
            report
                .conflicts
                .iter()
                .map(|f| format!("  {}", err_paint.red(f)))
                .collect::<Vec<_>>()
                .join("\n"),
            report.path,
            report.go_on.unwrap_or_default(),
            report.abort.unwrap_or_default(),
        ),
        Ended::Refused => writeln!(
            io.err,
            "{}",
            report
                .refusal
                .as_ref()
                .map_or_else(String::new, |r| r.text(err_paint))
        ),
    }
    .map_err(Error::io("writing"))
}
