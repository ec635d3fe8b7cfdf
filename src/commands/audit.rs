//! `git agent audit`: classify the base's first-parent history as landed,
//! direct or suspicious (see `ops::audit`).

use clap::Parser;
use serde::Serialize;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, GitContext, Outcome, Result};
use crate::git::repo;
use crate::ops::audit::{self, Audit, Class, Evidence};

/// Check the base's history against its policy: each first-parent commit is
/// landed (its receipt verifies), direct (no receipt, no sign of an agent)
/// or suspicious; so is a move of the base in the reflog not made by land.
/// Exits 1 when anything is suspicious.
#[derive(Debug, Parser)]
#[command(name = "git-agent-audit", bin_name = "git agent audit", version)]
pub struct AuditArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only the commits after REV (a commit, branch or tag it reaches).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// The branch to audit [default: the policy's defaults.base].
    #[arg(long, value_name = "BRANCH")]
    pub base: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Counts {
    landed: usize,
    direct: usize,
    suspicious: usize,
}

#[derive(Serialize)]
struct Json<'a> {
    version: u32,
    ok: bool,
    counts: Counts,
    #[serde(flatten)]
    audit: &'a Audit,
}

pub fn run(args: AuditArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open_home(&cwd)?;
    let base = match args.base {
        Some(b) => b,
        None => repo::default_base(&repo)?,
    };
    let since = match &args.since {
        Some(rev) => Some(
            repo.rev_parse_single(rev.as_str())
                .map_err(|e| {
                    Error::usage(
                        format!("--since '{rev}' names no commit: {e}"),
                        "give a commit id, branch or tag, e.g. --since v1.0",
                    )
                })?
                .object()
                .git("reading --since")?
                .peel_to_commit()
                .git("reading --since")?
                .id,
        ),
        None => None,
    };
    let report = audit::audit(&repo, &base, since)?;
    let outcome = if report.suspicious() {
        Outcome::Refused
    } else {
        Outcome::Done
    };
    if args.json {
        let json = Json {
            version: 1,
            ok: !report.suspicious(),
            counts: Counts {
                landed: report.count(Class::Landed),
                direct: report.count(Class::Direct),
                suspicious: report.count(Class::Suspicious),
            },
            audit: &report,
        };
        let text = serde_json::to_string_pretty(&json).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
    } else {
        print_text(&report, io)?;
    }
    Ok(outcome)
}

fn print_text(report: &Audit, io: &mut Io) -> Result<()> {
    let paint = io.color.out(None);
    let w = |e| Error::io("writing")(e);
    for c in &report.commits {
        let label = match c.class {
            Class::Landed => paint.green("landed    "),
            Class::Direct => "direct    ".to_owned(),
            Class::Suspicious => paint.red("suspicious"),
        };
        let by = match (&c.agent, c.evidence) {
            (Some(a), Some(Evidence::Reflog)) => format!(" (agent '{a}', fast-forward landing)"),
            (Some(a), _) => format!(" (agent '{a}')"),
            (None, _) => String::new(),
        };
        writeln!(io.out, "{label} {} {}{by}", &c.commit[..12], c.summary).map_err(w)?;
        for p in &c.problems {
            writeln!(io.out, "             {p}").map_err(w)?;
        }
    }
    for m in &report.moves {
        writeln!(
            io.out,
            "{} {} moved {}..{}: {}",
            paint.red("suspicious"),
            report.base,
            &m.old[..12],
            &m.new[..12],
            m.problem
        )
        .map_err(w)?;
    }
    let suspicious = report.count(Class::Suspicious) + report.moves.len();
    writeln!(
        io.out,
        "{}: {} landed, {} direct, {} suspicious",
        report.base,
        report.count(Class::Landed),
        report.count(Class::Direct),
        suspicious
    )
    .map_err(w)?;
    Ok(())
}
