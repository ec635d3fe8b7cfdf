//! `git agent exec NAME -- CMD...`: run CMD in the agent's directory with
//! `GIT_AGENT` and `GIT_AGENT_PORT` set, holding the agent's lease, passing
//! signals on to CMD and its exit code back.

use std::process::Command;

use crate::Io;
use crate::cli::ExecArgs;
use crate::error::{Error, Outcome, Result};
use crate::{git::repo, state::lease};

pub fn run(args: ExecArgs, io: &mut Io) -> Result<Outcome> {
    let repo = repo::open_home(&args.common.absolute_dir()?)?;
    let agents = repo::registry(&repo).load()?;
    let Some(agent) = agents.get(&args.name) else {
        return Err(crate::ops::gate::unknown_agent(&args.name, &agents, None));
    };
    if !agent.path.is_dir() {
        return Err(Error::usage(
            format!(
                "agent '{}''s directory {} is missing",
                agent.name,
                agent.path.display()
            ),
            "run `git agent doctor` to find and repair it",
        ));
    }
    let shown: Vec<String> = args
        .command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let shown = shown.join(" ");
    let _guard = match lease::acquire(repo.common_dir(), &agent.name, &shown)? {
        Ok(guard) => guard,
        Err(holder) => {
            writeln!(
                io.err,
                "git-agent: agent '{}' is busy: pid {} holds its lease, running `{}`\nOne writer at a time: wait for it to finish, or stop it (kill {}).",
                agent.name, holder.pid, holder.command, holder.pid
            )
            .map_err(Error::io("writing"))?;
            return Ok(Outcome::Refused);
        }
    };
    // The agent's git finds its own worktree, not one we were pointed at.
    let mut child = match crate::git::scrub(&mut Command::new(&args.command[0]))
        .args(&args.command[1..])
        .current_dir(&agent.path)
        .env("GIT_AGENT", &agent.name)
        .env("GIT_AGENT_PORT", agent.port().to_string())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            writeln!(io.err, "git-agent: cannot run `{shown}`: {e}")
                .map_err(Error::io("writing"))?;
            // As a shell says for a command it cannot find or run.
            return Ok(Outcome::Exited(
                if e.kind() == std::io::ErrorKind::NotFound {
                    127
                } else {
                    126
                },
            ));
        }
    };
    let status = forward_signals_until_exit(&mut child)?;
    Ok(Outcome::Exited(exit_code(status)))
}

/// Wait for `child`, passing on the signals a user or a supervisor sends us.
#[cfg(unix)]
fn forward_signals_until_exit(child: &mut std::process::Child) -> Result<std::process::ExitStatus> {
    use signal_hook::consts::*;
    let pid = child.id() as libc::pid_t;
    let mut signals = signal_hook::iterator::Signals::new([
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
    ])
    .map_err(Error::io("installing signal handlers"))?;
    let handle = signals.handle();
    let forwarder = std::thread::spawn(move || {
        for signal in signals.forever() {
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
fn forward_signals_until_exit(child: &mut std::process::Child) -> Result<std::process::ExitStatus> {
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
