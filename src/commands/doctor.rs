//! `git agent doctor`: find drift between the registry, git's worktrees and
//! branches, and the leases; print each problem with its fix; `--fix`
//! repairs.

use clap::Parser;
use serde::Serialize;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::health::{self, Problem, Repairs};

/// Find and repair drift: worktrees moved or deleted by hand, registry
/// entries without a branch, agent branches without an entry, stale leases,
/// and an `add` that crashed half-way.
#[derive(Debug, Parser)]
#[command(name = "git-agent-doctor", bin_name = "git agent doctor", version)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub common: Common,
    /// Repair what was found.
    #[arg(long)]
    pub fix: bool,
    /// Accept what unsealed and tampered agents' entries and gates are now,
    /// and seal them: after checking them, or after re-creating the seal key.
    /// Refused from an agent's context.
    #[arg(long)]
    pub reseal: bool,
    /// Print JSON instead of text: each problem, its fix, and with --fix
    /// whether it was repaired.
    #[arg(long)]
    pub json: bool,
}

/// One problem in `doctor --json`.
#[derive(Serialize)]
struct ProblemJson {
    kind: &'static str,
    agent: String,
    /// The directory the problem is about, when it is about one.
    path: Option<String>,
    /// Where git says a moved worktree is now.
    moved_to: Option<String>,
    /// The dead process a stale lease names.
    pid: Option<u32>,
    problem: String,
    fix: String,
    fixed: bool,
    /// The archive ref unlanded work was kept under before a branch was deleted.
    archived: Option<String>,
}

#[derive(Serialize)]
struct Json {
    version: u32,
    fix: bool,
    problems: Vec<ProblemJson>,
}

pub fn run(args: DoctorArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let here = repo::open(&cwd)?;
    let how = Repairs {
        fix: args.fix,
        reseal: args.reseal,
    };
    if (how.fix || how.reseal)
        && let Some(refusal) =
            crate::ops::authority::who_may_act(&here, crate::ops::authority::Action::DoctorFix)?
    {
        refusal.render(io, args.json)?;
        return Ok(Outcome::Refused);
    }
    let repo = repo::open_home(&cwd)?;
    let problems = health::find(&repo)?;
    let outcome = if problems.iter().all(|p| p.fixable(how)) {
        Outcome::Done
    } else {
        Outcome::Refused
    };
    if args.json {
        json_report(&repo, &problems, how, io)?;
    } else {
        text_report(&repo, &problems, how, io)?;
    }
    Ok(outcome)
}

/// Repair what this run may, and print every problem as JSON.
fn json_report(
    repo: &gix::Repository,
    problems: &[Problem],
    how: Repairs,
    io: &mut Io,
) -> Result<()> {
    let mut reports = Vec::new();
    for p in problems {
        // Described before the repair changes what it describes.
        let mut report = problem_json(p);
        if p.fixable(how) {
            report.archived = health::repair(repo, p, how, &crate::ui::progress::Terminal)?
                .map(|(_, reference)| reference);
            report.fixed = true;
            crate::state::crash::point("doctor:after-repair");
        }
        reports.push(report);
    }
    let text = serde_json::to_string_pretty(&Json {
        version: 1,
        fix: how.fix || how.reseal,
        problems: reports,
    })
    .expect("serialises");
    writeln!(io.out, "{text}").map_err(Error::io("writing"))
}

/// Print every problem with its fix, repairing what this run may.
fn text_report(
    repo: &gix::Repository,
    problems: &[Problem],
    how: Repairs,
    io: &mut Io,
) -> Result<()> {
    let paint = io.color.out(Some(repo));
    if problems.is_empty() {
        writeln!(io.out, "{}", paint.green("no problems found")).map_err(Error::io("writing"))?;
        return Ok(());
    }
    for p in problems {
        let (what, fix) = p.describe();
        writeln!(
            io.out,
            "{} {what}\n    fix: {}",
            paint.yellow("problem:"),
            paint.cyan(fix)
        )
        .map_err(Error::io("writing"))?;
        if (how.fix || how.reseal) && !p.fixable(how) {
            writeln!(io.out, "  {}", paint.yellow("left as it is."))
                .map_err(Error::io("writing"))?;
        } else if p.fixable(how) {
            if let Some((branch, reference)) =
                health::repair(repo, p, how, &crate::ui::progress::Terminal)?
            {
                writeln!(io.out, "  archived {branch} as {}", paint.yellow(reference))
                    .map_err(Error::io("writing"))?;
            }
            writeln!(io.out, "  {}", paint.green("fixed.")).map_err(Error::io("writing"))?;
            crate::state::crash::point("doctor:after-repair");
        }
    }
    if !how.fix && !how.reseal {
        writeln!(
            io.out,
            "\n{} problem(s); `git agent doctor --fix` repairs them",
            problems.len()
        )
        .map_err(Error::io("writing"))?;
    }
    Ok(())
}

/// `problem` as `doctor --json` shows it, not yet repaired.
fn problem_json(problem: &Problem) -> ProblemJson {
    let (text, fix) = problem.describe();
    let show = |p: &std::path::Path| Some(p.display().to_string());
    let (agent, path, moved_to, pid) = match problem {
        Problem::HalfAdded(a)
        | Problem::DirectoryMissing(a)
        | Problem::BranchMissing(a)
        | Problem::CloneMissing(a)
        | Problem::GuardrailsMissing(a)
        | Problem::Tampered(a, _)
        | Problem::Unsealed(a) => (a.name.clone(), show(&a.path), None, None),
        Problem::Moved(a, to) => (a.name.clone(), show(&a.path), show(to), None),
        Problem::StrayCopy { name, path, .. } => (name.clone(), show(path), None, None),
        Problem::SharedAdminDir { agent, path, .. } => (agent.name.clone(), show(path), None, None),
        Problem::Unregistered { name, path }
        | Problem::InMainWorktree { name, path }
        | Problem::InvalidName { name, path, .. } => (name.clone(), show(path), None, None),
        Problem::OrphanBranch(name) => (name.clone(), None, None, None),
        Problem::StaleLease { agent, pid } => (agent.clone(), None, None, Some(*pid)),
        Problem::BaseMovedOutsideLand { .. } => (String::new(), None, None, None),
        Problem::ChecksWorktree { path, .. } => (String::new(), show(path), None, None),
    };
    ProblemJson {
        kind: problem.kind(),
        agent,
        path,
        moved_to,
        pid,
        problem: text,
        fix,
        fixed: false,
        archived: None,
    }
}
