//! `git agent exec NAME -- CMD...`: run CMD in the agent's directory with
//! `GIT_AGENT` and `GIT_AGENT_PORT` set, holding the agent's lease, passing
//! signals on to CMD and its exit code back. With `--sandbox` (or the
//! policy's `defaults.sandbox`), CMD may write only where the agent should.

use std::path::PathBuf;
use std::process::Command;

use clap::Parser;

use crate::Io;
use crate::cli::{AGENT, Common};
use crate::error::{Error, Outcome, Result};
use crate::ops::context;
use crate::ops::sandbox::{self, AgentRoots, Enforcement, Sandbox};
use crate::state::registry::Agent;
use crate::{git::repo, state::lease};

/// Run a command in an agent's directory, holding its single-writer lease.
#[derive(Debug, Parser)]
#[command(name = "git-agent-exec", bin_name = "git agent exec", version)]
pub struct ExecArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// Let CMD and its children write only in the agent's scope, its git
    /// directory, the policy's `sandbox.writable`, temporary directories
    /// and --writable directories (Linux, Landlock). `strict` (the
    /// default) refuses to run where the kernel cannot confine CMD;
    /// `best-effort` runs it unconfined with a warning. The policy's
    /// `defaults.sandbox: true` makes `strict` the default.
    #[arg(
        long,
        value_name = "MODE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "strict"
    )]
    pub sandbox: Option<crate::ops::sandbox::Enforcement>,
    /// With the sandbox, also let CMD write below DIR (repeatable), e.g.
    /// the agent's own state directory.
    #[arg(long, value_name = "DIR")]
    pub writable: Vec<PathBuf>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

pub fn run(args: ExecArgs, io: &mut Io) -> Result<Outcome> {
    let repo = repo::open_home(&args.common.absolute_dir()?)?;
    let agents = context::registry(&repo).load()?;
    let Some(agent) = agents.get(&args.name) else {
        return Err(crate::ops::gate::unknown_agent(&args.name, &agents, None));
    };
    if agent.state == crate::state::registry::State::Adding {
        return say_not_ready(io, &agent.name);
    }
    if !agent.path.is_dir() {
        return Err(context::directory_missing(agent));
    }
    let confinement = confine(&repo, agent, &args, io)?;
    let shown: Vec<String> = args
        .command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let shown = shown.join(" ");
    let _guard = match lease::acquire(repo.common_dir(), &agent.name, &shown)? {
        Ok(guard) => guard,
        Err(holder) => return say_busy(io, &agent.name, &holder),
    };
    crate::state::crash::point("exec:after-lease");
    let mut command = Command::new(&args.command[0]);
    // The agent's git finds its own worktree, not one we were pointed at.
    crate::git::scrub(&mut command)
        .args(&args.command[1..])
        .current_dir(&agent.path)
        .env("GIT_AGENT", &agent.name)
        .env("GIT_AGENT_PORT", agent.port().to_string());
    if let Some(brief) = crate::ops::brief::path_of(&agent.path) {
        command.env("GIT_AGENT_BRIEF", brief);
    }
    let group = own_group(&mut command);
    if let Some(sandbox) = confinement {
        sandbox.install(&mut command);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return say_cannot_run(io, &shown, &e),
    };
    let pgid = match group {
        Group::Ours => Some(current_group()),
        Group::Child => Some(child.id()),
        Group::Shared => None,
    };
    if let Err(e) = _guard.record_command(child.id(), pgid) {
        writeln!(
            io.err,
            "git-agent: warning: the lease does not name the command: {e}"
        )
        .map_err(Error::io("writing"))?;
    }
    let status = forward_signals_until_exit(&mut child, terminal_reaches_child(&group))?;
    Ok(Outcome::Exited(exit_code(status)))
}

/// The agent is still being made (its checkout may be half-written, its
/// index missing): refused, so no command runs in it yet.
fn say_not_ready(io: &mut Io, name: &str) -> Result<Outcome> {
    writeln!(
        io.err,
        "git-agent: agent '{name}' is not ready: `git agent add` or `restore` is still making it\nWait for it to finish; if it was interrupted, `git agent doctor --fix` rolls it back."
    )
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Refused)
}

/// Another process holds the agent's lease: refused, naming it.
fn say_busy(io: &mut Io, name: &str, holder: &lease::Lease) -> Result<Outcome> {
    writeln!(
        io.err,
        "git-agent: agent '{name}' is busy: pid {} holds its lease, running `{}`\nOne writer at a time: wait for it to finish, or stop it (kill {}).",
        holder.shown_pid(),
        holder.command,
        holder.shown_pid()
    )
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Refused)
}

/// CMD could not be started: the exit code a shell gives for a command it
/// cannot find (127) or run (126).
fn say_cannot_run(io: &mut Io, shown: &str, e: &std::io::Error) -> Result<Outcome> {
    writeln!(io.err, "git-agent: cannot run `{shown}`: {e}").map_err(Error::io("writing"))?;
    Ok(Outcome::Exited(
        if e.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        },
    ))
}

/// The process group the command runs in, which the lease follows.
enum Group {
    /// Ours, and only our job's: a shell with job control made it for us.
    Ours,
    /// A new one the command leads.
    Child,
    /// Ours, shared with whoever started us and holding the terminal:
    /// moving the command out of it would stop it from reading the
    /// terminal, so the lease follows the command's pid only.
    Shared,
}

#[cfg(unix)]
fn own_group(command: &mut Command) -> Group {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid, getpgrp and tcgetpgrp only read process state.
    let (pid, pgrp, foreground) = unsafe {
        (
            libc::getpid(),
            libc::getpgrp(),
            libc::tcgetpgrp(libc::STDIN_FILENO),
        )
    };
    if pid == pgrp {
        Group::Ours
    } else if foreground == pgrp {
        Group::Shared
    } else {
        command.process_group(0);
        Group::Child
    }
}

#[cfg(not(unix))]
fn own_group(_: &mut Command) -> Group {
    Group::Shared
}

/// Whether the terminal's own signals (Ctrl-C and the like) reach the
/// command by themselves: it runs in our process group and that group is
/// the terminal's foreground group.
#[cfg(unix)]
fn terminal_reaches_child(group: &Group) -> bool {
    if matches!(group, Group::Child) {
        return false;
    }
    // SAFETY: getpgrp and tcgetpgrp only read process state.
    let (pgrp, foreground) = unsafe { (libc::getpgrp(), libc::tcgetpgrp(libc::STDIN_FILENO)) };
    foreground == pgrp
}

#[cfg(not(unix))]
fn terminal_reaches_child(_: &Group) -> bool {
    false
}

fn current_group() -> u32 {
    #[cfg(unix)]
    // SAFETY: getpgrp only reads process state.
    return unsafe { libc::getpgrp() } as u32;
    #[cfg(not(unix))]
    return std::process::id();
}

/// The sandbox CMD runs in, if any: `--sandbox`, else the policy's
/// default. Refuses (bad input) where strict confinement cannot be had;
/// best effort warns and runs unconfined.
fn confine(
    repo: &gix::Repository,
    agent: &Agent,
    args: &ExecArgs,
    io: &mut Io,
) -> Result<Option<Sandbox>> {
    let Some(subject) = crate::ops::gate::resolve_subject(repo, Some(&agent.name), None)? else {
        return Ok(None);
    };
    let mode = args.sandbox.or(subject
        .manifest
        .defaults
        .sandbox
        .then_some(Enforcement::Strict));
    let Some(mode) = mode else {
        if let Some(dir) = args.writable.first() {
            return Err(Error::usage(
                format!("--writable {} needs the sandbox", dir.display()),
                "add --sandbox, or leave --writable out",
            ));
        }
        return Ok(None);
    };
    let scope = subject.scope(repo)?;
    let cwd = args.common.absolute_dir()?;
    let extra: Vec<_> = args.writable.iter().map(|d| cwd.join(d)).collect();
    let agent_repo = repo::open(&agent.path)?;
    let roots = AgentRoots {
        worktree: &agent.path,
        branch: &agent.branch,
        scope_dirs: scope.writable_dirs(),
        policy_writable: &subject.manifest.sandbox.writable,
        extra: &extra,
    }
    .resolve(&agent_repo)?;
    let mut warn =
        |text: String| writeln!(io.err, "git-agent: warning: {text}").map_err(Error::io("writing"));
    match (sandbox::prepare(&roots), mode) {
        (Ok(sandbox), _) => {
            if let Some(gap) = sandbox.gaps() {
                warn(format!("the sandbox is partial on this kernel: {gap}"))?;
            }
            if let Some(tmp) = sandbox::temporary_dir_holding(agent_repo.common_dir()) {
                warn(format!(
                    "the repository is inside {}, which the sandbox leaves writable: it protects nothing here",
                    tmp.display()
                ))?;
            }
            Ok(Some(sandbox))
        }
        (Err(why), Enforcement::Strict) => Err(Error::usage(
            format!("cannot confine agent '{}''s command: {why}", agent.name),
            "run on Linux 5.13 or later with Landlock enabled, or use --sandbox=best-effort to run unconfined",
        )),
        (Err(why), Enforcement::BestEffort) => {
            warn(format!("running unconfined: {why}"))?;
            Ok(None)
        }
    }
}

/// Wait for `child`, passing on the signals a user or a supervisor sends us.
#[cfg(unix)]
fn forward_signals_until_exit(
    child: &mut std::process::Child,
    terminal_reaches_child: bool,
) -> Result<std::process::ExitStatus> {
    use signal_hook::consts::*;
    let pid = child.id() as libc::pid_t;
    let mut signals = signal_hook::iterator::Signals::new([
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
    ])
    .map_err(Error::io("installing signal handlers"))?;
    let handle = signals.handle();
    let forwarder = std::thread::spawn(move || {
        for signal in signals.forever() {
            // Ctrl-C, Ctrl-\ and a resize reach the whole foreground
            // group, the command included: passing them on would deliver
            // them twice.
            if terminal_reaches_child && [SIGINT, SIGQUIT, SIGWINCH].contains(&signal) {
                continue;
            }
            // SAFETY: kill(2) with a pid we spawned and a valid signal number
            // has no memory-safety preconditions.
            unsafe {
                libc::kill(pid, signal);
            }
        }
    });
    let status = child.wait().map_err(Error::io("waiting for the command"));
    handle.close();
    let _ = forwarder.join();
    status
}

#[cfg(not(unix))]
fn forward_signals_until_exit(
    child: &mut std::process::Child,
    _: bool,
) -> Result<std::process::ExitStatus> {
    child.wait().map_err(Error::io("waiting for the command"))
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}
