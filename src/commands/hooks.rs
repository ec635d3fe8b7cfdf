//! `git agent hooks install|uninstall|status`, and the hooks' own entries
//! (`ref-guard`, `pre-receive`). The work is in [`crate::ops::hooks`],
//! [`crate::ops::ref_guard`] and [`crate::ops::receive`]; this module
//! parses and renders.

use std::path::Path;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::authority::{self, Action};
use crate::ops::hooks::{self, Placement, Status};
use crate::ops::receive::{self, Push, RefusedRef};
use crate::ui::color::Paint;

/// Install, remove or inspect the pre-commit gate.
#[derive(Debug, Parser)]
#[command(name = "git-agent-hooks", bin_name = "git agent hooks", version)]
pub struct HooksArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: HooksCommand,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install the pre-commit gate and the ref guard (reference-transaction hook) where git looks for hooks (core.hooksPath honoured).
    Install(HooksWhich),
    /// Remove git-agent's blocks from the pre-commit and reference-transaction hooks, leaving the rest.
    Uninstall(HooksWhich),
    /// Run as a shared repository's pre-receive hook (reads `OLD NEW REF` lines).
    #[command(hide = true)]
    PreReceive,
    /// Say whether the gate is installed, and where.
    Status(HooksStatusArgs),
    /// The ref guard, as git's reference-transaction hook runs it (the
    /// updates come on stdin, one `<old> <new> <ref>` a line).
    #[command(hide = true, name = "ref-guard")]
    RefGuard(RefGuardArgs),
}

#[derive(Debug, Args)]
pub struct RefGuardArgs {
    /// The transaction's phase: prepared, committed or aborted.
    pub phase: String,
}

#[derive(Debug, Args)]
pub struct HooksWhich {
    /// The pre-receive hook of a shared (bare) repository instead: every pushed commit is checked against the scope of the agent that owns its branch.
    #[arg(long)]
    pub server: bool,
}

#[derive(Debug, Args)]
pub struct HooksStatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: HooksArgs, io: &mut Io) -> Result<Outcome> {
    // The ref guard runs on every ref update: it opens what it needs itself.
    if let HooksCommand::RefGuard(guard) = &args.command {
        return crate::ops::ref_guard::run(&guard.phase, io);
    }
    let repo = repo::open(&args.common.absolute_dir()?)?;
    let action = match args.command {
        HooksCommand::Install(_) => Some(Action::InstallHooks),
        HooksCommand::Uninstall(_) => Some(Action::UninstallHooks),
        HooksCommand::Status(_) | HooksCommand::RefGuard(_) | HooksCommand::PreReceive => None,
    };
    if let Some(action) = action
        && let Some(refusal) = authority::who_may_act(&repo, action)?
    {
        refusal.say(io)?;
        return Ok(Outcome::Refused);
    }
    match args.command {
        HooksCommand::Install(w) if w.server => receive::install(&repo, io),
        HooksCommand::Uninstall(w) if w.server => receive::uninstall(&repo, io),
        HooksCommand::Install(_) => hooks::install(&repo, io).and_then(|o| hooks::reseal(&repo, o)),
        HooksCommand::Uninstall(_) => {
            hooks::uninstall(&repo, io).and_then(|o| hooks::reseal(&repo, o))
        }
        HooksCommand::Status(status_args) => status(&repo, status_args.json, io),
        HooksCommand::RefGuard(_) => Ok(Outcome::Done),
        HooksCommand::PreReceive => pre_receive(repo, io),
    }
}

/// The shared repository's pre-receive hook: each refused ref's refusal,
/// as the pre-commit gate words it, on stderr.
fn pre_receive(repo: gix::Repository, io: &mut Io) -> Result<Outcome> {
    let err = &mut *io.err;
    let color = io.color;
    let push = receive::run(repo, |repo, refused| {
        say_refused(color.err(Some(repo)), &refused, err)
    })?;
    match push {
        Push::Unparsed { base, error } => refuse_unparsed(&base, &error, io),
        Push::Checked {
            refused,
            base_refusals,
        } => {
            for why in base_refusals {
                writeln!(io.err, "{why}").map_err(Error::io("writing"))?;
            }
            Ok(if refused {
                Outcome::Refused
            } else {
                Outcome::Done
            })
        }
    }
}

fn say_refused(paint: Paint, refused: &RefusedRef<'_>, w: &mut dyn std::io::Write) -> Result<()> {
    let RefusedRef {
        refname,
        report,
        subject,
    } = refused;
    let res = (|| {
        writeln!(
            w,
            "git-agent: push of {refname} refused (agent '{}', policy on {})",
            report.agent, subject.base
        )?;
        crate::ui::refusal::render(report, subject, paint, w)
    })();
    res.map_err(Error::io("writing"))
}

fn refuse_unparsed(base: &str, e: &crate::error::ManifestError, io: &mut Io) -> Result<Outcome> {
    writeln!(
        io.err,
        "git-agent: push refused: the policy on {base} does not parse, so no agent's push can be checked.\n  {}{}\n\
         Fix .git-agent.yaml on {base} in this repository (or run `git agent hooks uninstall --server` here while you push the fix).",
        e.message,
        e.help
            .as_deref()
            .map(|h| format!("\n  help: {h}"))
            .unwrap_or_default()
    )
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Refused)
}

#[derive(Serialize)]
struct StatusJson {
    version: u32,
    /// Whether the pre-commit gate runs.
    installed: bool,
    /// The file that holds the gate, or would: the pre-commit hook git
    /// runs, or under husky the pre-commit file the team commits.
    path: String,
    /// The directory git runs hooks from.
    hooks_dir: String,
    /// The hook manager that owns `core.hooksPath`, when we know it.
    manager: Option<&'static str>,
    /// The reference-transaction hook.
    ref_guard: RefGuardJson,
    /// The shared repository's gate (`hooks install --server`): in a bare
    /// repository, or where a block of ours is in the pre-receive hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pre_receive: Option<PreReceiveJson>,
}

#[derive(Serialize)]
struct RefGuardJson {
    installed: bool,
    path: String,
}

#[derive(Serialize)]
struct PreReceiveJson {
    installed: bool,
    path: String,
}

fn status(repo: &gix::Repository, json: bool, io: &mut Io) -> Result<Outcome> {
    let status = hooks::status(repo)?;
    if json {
        let text = serde_json::to_string_pretty(&status_json(&status)).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    let paint = io.color.out(Some(repo));
    let dir = &status.hooks_dir;
    say_placement(paint, status.gate, "", &status.path, dir, io)?;
    say_placement(
        paint,
        status.ref_guard,
        "ref guard ",
        &status.ref_guard_path,
        dir,
        io,
    )?;
    pre_receive_line(&status, paint, io)?;
    Ok(Outcome::Done)
}

fn status_json(status: &Status) -> StatusJson {
    StatusJson {
        version: 1,
        installed: status.gate == Placement::Runs,
        path: status.path.display().to_string(),
        hooks_dir: status.hooks_dir.display().to_string(),
        manager: status.manager,
        ref_guard: RefGuardJson {
            installed: status.ref_guard == Placement::Runs,
            path: status.ref_guard_path.display().to_string(),
        },
        pre_receive: status.pre_receive.as_ref().map(|p| PreReceiveJson {
            installed: p.installed == Some(true),
            path: p.path.display().to_string(),
        }),
    }
}

fn say_placement(
    paint: Paint,
    placement: Placement,
    prefix: &str,
    path: &Path,
    hooks_dir: &Path,
    io: &mut Io,
) -> Result<()> {
    match placement {
        Placement::Runs => writeln!(
            io.out,
            "{}{} {}",
            prefix,
            paint.green("installed:"),
            path.display()
        ),
        Placement::Skipped => writeln!(
            io.out,
            "{prefix}{} the block in {} comes after the hook's own commands, which may exec or exit before it\n  run `git agent hooks install` to move it first",
            paint.yellow("not installed (never runs):"),
            path.display()
        ),
        Placement::Missing => writeln!(
            io.out,
            "{prefix}{} (git runs hooks from {})",
            paint.yellow("not installed"),
            hooks_dir.display()
        ),
    }
    .map_err(Error::io("writing"))
}

/// The line for the pre-receive gate: always in a bare repository,
/// elsewhere only when a block of ours is there.
fn pre_receive_line(status: &Status, paint: Paint, io: &mut Io) -> Result<()> {
    let Some(pre) = &status.pre_receive else {
        return Ok(());
    };
    let path = &pre.path;
    match pre.installed {
        Some(true) => writeln!(io.out, "{} {}", paint.green("pre-receive installed:"), path.display()),
        Some(false) => writeln!(
            io.out,
            "{} the gate's block in {} comes after the hook's own commands\n  run `git agent hooks install --server` to move it first",
            paint.yellow("pre-receive not installed (never runs):"),
            path.display()
        ),
        None => writeln!(
            io.out,
            "{} (install it with `git agent hooks install --server`)",
            paint.yellow("pre-receive not installed")
        ),
    }
    .map_err(Error::io("writing"))
}
