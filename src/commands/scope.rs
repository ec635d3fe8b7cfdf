//! `git agent scope`: show and edit an agent's scope, and `scope check`,
//! the gate that the pre-commit hook and `land` run. The work is in
//! [`crate::ops::gate`]; this module parses and renders.

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::Io;
use crate::cli::{AGENT, Common};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::ci;
use crate::ops::gate::{self, CheckRequest, Checked, Edit, Edited, Report, Subject};
use crate::policy::scope::Origin;
use crate::ui::refusal;

/// Show or edit an agent's scope, or check changes against it (the gate).
#[derive(Debug, Parser)]
#[command(
    name = "git-agent-scope",
    bin_name = "git agent scope",
    version,
    subcommand_precedence_over_arg = true
)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Option<ScopeCommand>,
    /// The agent whose scope to show [default: the agent of the current worktree].
    #[arg(value_name = AGENT)]
    pub name: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScopeCommand {
    /// Replace the agent's own patterns.
    Set(ScopeEdit),
    /// Add patterns to the agent's scope.
    Add(ScopeEdit),
    /// Remove patterns from the agent's scope.
    Rm(ScopeEdit),
    /// The gate: exit 1 and name every changed path outside the scope.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct ScopeEdit {
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// Patterns in .gitignore syntax.
    #[arg(required = true, value_name = "PAT")]
    pub patterns: Vec<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").args(["staged", "range", "paths"])))]
pub struct CheckArgs {
    /// Check the staged changes (index against HEAD). The default.
    #[arg(long)]
    pub staged: bool,
    /// Check every commit in A..B, each against its first parent.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Check the given paths.
    #[arg(long, num_args = 1.., value_name = "P")]
    pub paths: Vec<String>,
    /// The agent, registered or standing in the committed manifest
    /// [default: the agent of the current worktree, or for --range, the agent that owns the range's end branch].
    #[arg(long, value_name = AGENT)]
    pub agent: Option<String>,
    /// The agent that owns BRANCH (`branches:` of a standing agent, or agent/NAME); with no owner there is nothing to check. For CI, where HEAD is not the branch.
    #[arg(long, value_name = "BRANCH", conflicts_with = "agent")]
    pub agent_from_branch: Option<String>,
    /// Print JSON instead of text (as --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// How to report: text, json, github (workflow-command annotations) or gitlab (code-quality JSON).
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub format: Option<CheckFormat>,
    /// Run as the pre-commit hook: allow everything outside agent worktrees.
    #[arg(long, hide = true)]
    pub hook: bool,
    /// Run as Claude Code's PreToolUse hook: read its JSON on stdin, exit 2 with the refusal on stderr when the edited path is outside the scope, 0 and silent when inside.
    #[arg(long, conflicts_with_all = ["staged", "range", "paths", "agent", "agent_from_branch", "json", "format", "hook"])]
    pub claude_hook: bool,
}

/// How `scope check` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// GitHub Actions workflow commands (`::error file=...::`), one per refused path.
    Github,
    /// GitLab code-quality JSON, for `artifacts: reports: codequality`.
    Gitlab,
}

pub fn run(args: ScopeArgs, io: &mut Io) -> Result<Outcome> {
    if let (Some(name), Some(_)) = (&args.name, &args.command) {
        return Err(Error::usage(
            format!("unexpected agent name '{name}' before the subcommand"),
            "name the agent after the subcommand (`scope add NAME PAT`), or with --agent for `scope check`",
        ));
    }
    // The Claude Code hook finds its worktree from the hook's JSON, not from
    // where it was started.
    if let Some(ScopeCommand::Check(c)) = &args.command
        && c.claude_hook
    {
        return claude_hook(io);
    }
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    match args.command {
        None => show(&repo, args.name.as_deref(), args.json, io),
        Some(ScopeCommand::Check(check_args)) => check(&repo, &cwd, &check_args, io),
        Some(ScopeCommand::Set(edit)) => edit_scope(&repo, edit, Edit::Set, io),
        Some(ScopeCommand::Add(edit)) => edit_scope(&repo, edit, Edit::Add, io),
        Some(ScopeCommand::Rm(edit)) => edit_scope(&repo, edit, Edit::Remove, io),
    }
}

/// Claude Code blocks a tool call when its hook exits with this code, and
/// shows the model what the hook wrote on stderr.
const CLAUDE_BLOCKS: i32 = 2;

fn claude_hook(io: &mut Io) -> Result<Outcome> {
    use crate::ops::claude_hook::{Judgement, judge};
    match judge(&mut std::io::stdin().lock())? {
        Judgement::Allowed => Ok(Outcome::Done),
        Judgement::Blocked(why) => {
            writeln!(io.err, "{why}").map_err(Error::io("writing"))?;
            Ok(Outcome::Exited(CLAUDE_BLOCKS))
        }
        Judgement::Refused {
            repo,
            report,
            subject,
        } => {
            let paint = io.color.err(Some(&repo));
            crate::ui::refusal::render(&report, &subject, paint, io.err)
                .map_err(Error::io("writing"))?;
            Ok(Outcome::Exited(CLAUDE_BLOCKS))
        }
    }
}

fn edit_scope(repo: &gix::Repository, edit: ScopeEdit, how: Edit, io: &mut Io) -> Result<Outcome> {
    let scope = match gate::edit_scope(repo, &edit.name, &edit.patterns, how, io)? {
        Edited::Refused => return Ok(Outcome::Refused),
        Edited::Scope(scope) => scope,
    };
    // The agent's guardrails follow its scope. The scope is saved by now,
    // so a settings file we cannot merge into is a warning.
    if let Err(e) = crate::ops::guardrails::refresh(repo, &edit.name) {
        writeln!(
            io.err,
            "warning: the guardrails of agent '{}' were not rewritten: {e}; fix that, then run `git agent guard {}`",
            edit.name, edit.name
        )
        .map_err(Error::io("writing"))?;
    }
    crate::state::crash::point("scope:after-guardrails");
    // A sparse worktree checks out what the scope now holds: git writes
    // the files `scope add` brings in. The scope is saved by now, so a
    // checkout git cannot update is a warning too.
    let agent = crate::ops::context::registry(repo)
        .load()?
        .remove(&edit.name);
    if let Some(agent) = agent
        && let Err(e) = crate::ops::sparse::refresh(repo, &agent)
    {
        writeln!(
            io.err,
            "warning: the sparse checkout of agent '{}' was not updated: {e}; fix that, then make the scope edit again",
            edit.name
        )
        .map_err(Error::io("writing"))?;
    }
    writeln!(
        io.out,
        "scope of {}: {}",
        edit.name,
        if scope.is_empty() {
            "(empty)".to_owned()
        } else {
            scope.join(", ")
        }
    )
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

/// `scope check`: the gate, rendered in the format asked for.
fn check(
    repo: &gix::Repository,
    cwd: &std::path::Path,
    args: &CheckArgs,
    io: &mut Io,
) -> Result<Outcome> {
    let request = CheckRequest {
        range: args.range.as_deref(),
        paths: &args.paths,
        agent: args.agent.as_deref(),
        agent_from_branch: args.agent_from_branch.as_deref(),
        hook: args.hook,
    };
    match gate::check(repo, cwd, &request)? {
        Checked::Away(why) => refuse_away(&why, format(args) == CheckFormat::Json, io),
        Checked::NoAgent => Ok(Outcome::Done),
        Checked::Unowned(branch) => no_owner(&branch, format(args), io),
        Checked::Judged(report, subject) => {
            render_report(&report, &subject, repo, args, io)?;
            Ok(if report.ok {
                Outcome::Done
            } else {
                Outcome::Refused
            })
        }
    }
}

#[derive(Serialize)]
struct ShowJson<'a> {
    version: u32,
    agent: &'a str,
    base: &'a str,
    registered: bool,
    patterns: Vec<PatternJson<'a>>,
    protected: &'a [String],
}

#[derive(Serialize)]
struct PatternJson<'a> {
    pattern: &'a str,
    origin: &'a Origin,
}

fn show(repo: &gix::Repository, name: Option<&str>, json: bool, io: &mut Io) -> Result<Outcome> {
    let Some(subject) = gate::resolve_subject(repo, name, None)? else {
        return Err(gate::no_agent());
    };
    if json {
        let value = ShowJson {
            version: 1,
            agent: &subject.name,
            base: &subject.base,
            registered: subject.registered.is_some(),
            patterns: subject
                .patterns
                .iter()
                .map(|(p, o)| PatternJson {
                    pattern: p,
                    origin: o,
                })
                .collect(),
            protected: &subject.manifest.protected,
        };
        writeln!(
            io.out,
            "{}",
            serde_json::to_string_pretty(&value).expect("serialises")
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    let paint = io.color.out(Some(repo));
    let w = &mut io.out;
    let res: std::io::Result<()> = (|| {
        writeln!(
            w,
            "agent {} (base {})",
            paint.bold(&subject.name),
            subject.base
        )?;
        if subject.patterns.is_empty() {
            writeln!(w, "  (empty scope: every change is refused)")?;
        }
        for (p, o) in &subject.patterns {
            writeln!(w, "  {p:<30} {}", paint.dim(o))?;
        }
        if !subject.manifest.protected.is_empty() {
            writeln!(
                w,
                "protected (no agent may change): {}",
                subject.manifest.protected.join(", ")
            )?;
        }
        Ok(())
    })();
    res.map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

fn format(args: &CheckArgs) -> CheckFormat {
    match (args.json, args.format) {
        (true, _) => CheckFormat::Json,
        (false, f) => f.unwrap_or(CheckFormat::Text),
    }
}

fn no_owner(branch: &str, format: CheckFormat, io: &mut Io) -> Result<Outcome> {
    let note = format!("no agent owns branch '{branch}', so there is nothing to check");
    match format {
        CheckFormat::Gitlab => writeln!(io.out, "[]"),
        CheckFormat::Github => writeln!(io.out, "::notice::{}", ci::escape_data(&note)),
        CheckFormat::Json => writeln!(
            io.out,
            "{}",
            serde_json::json!({"version": 1, "ok": true, "agent": null, "branch": branch, "checked": 0})
        ),
        CheckFormat::Text => writeln!(io.out, "git-agent: {note}"),
    }
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

/// The report in the format asked for. Refusals always go to stderr as
/// text too, for the person reading a CI log.
fn render_report(
    report: &Report,
    subject: &Subject,
    repo: &gix::Repository,
    args: &CheckArgs,
    io: &mut Io,
) -> Result<()> {
    let machine = match format(args) {
        CheckFormat::Text => None,
        CheckFormat::Json => Some(serde_json::to_string_pretty(report).expect("serialises")),
        CheckFormat::Github => Some(ci::github(report)),
        CheckFormat::Gitlab => Some(ci::gitlab(report)),
    };
    if let Some(text) = &machine {
        write!(io.out, "{text}").map_err(Error::io("writing"))?;
        if !text.ends_with('\n') {
            writeln!(io.out).map_err(Error::io("writing"))?;
        }
    }
    if report.ok {
        if !args.hook && machine.is_none() {
            let paint = io.color.out(Some(repo));
            writeln!(
                io.out,
                "{}: {} {} in the scope of agent '{}'",
                paint.green("ok"),
                report.checked,
                if report.checked == 1 {
                    "change is"
                } else {
                    "changes are"
                },
                &report.agent
            )
            .map_err(Error::io("writing"))?;
        }
    } else if format(args) != CheckFormat::Json {
        let paint = io.color.err(Some(repo));
        refusal::render(report, subject, paint, io.err).map_err(Error::io("writing"))?;
    }
    Ok(())
}

/// The staged gate's refusal of an agent committing outside its own
/// worktree (`GIT_AGENT` set elsewhere).
fn refuse_away(why: &str, json: bool, io: &mut Io) -> Result<Outcome> {
    if json {
        let agent = std::env::var("GIT_AGENT").unwrap_or_default();
        let report = Report {
            version: 1,
            agent,
            base: String::new(),
            mode: "staged",
            ok: false,
            checked: 0,
            refused: Vec::new(),
            problems: vec![why.to_owned()],
            scope: Vec::new(),
        };
        let text = serde_json::to_string_pretty(&report).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
    } else {
        writeln!(io.err, "git-agent: commit refused: {why}").map_err(Error::io("writing"))?;
    }
    Ok(Outcome::Refused)
}
