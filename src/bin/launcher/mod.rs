//! The body of every `git-agent-<command>` program. git, man and hooks know
//! the commands by these names, but the commands all live in `git-agent`:
//! this program only execs the `git-agent` beside it with the command's name
//! put first. It uses neither the git_agent library nor gix, so each one is
//! small and quick to link.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

/// Replace this process with `git-agent COMMAND ARGS...`, so the exit code
/// and signals are the command's own.
pub fn exec(command: &str) -> ! {
    let engine = engine();
    let mut cmd = Command::new(&engine);
    cmd.arg(command).args(std::env::args_os().skip(1));
    let error = run(&mut cmd);
    eprintln!(
        "git-agent-{command}: cannot run {}: {error}\n  help: git-agent-{command} runs the git-agent installed beside it; reinstall git-agent (cargo install git-agent)",
        engine.to_string_lossy()
    );
    std::process::exit(2)
}

/// `git-agent` in this program's directory, else by name on PATH.
fn engine() -> OsString {
    let name = format!("git-agent{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .filter(|path| path.is_file())
        .map_or_else(|| OsString::from(&name), PathBuf::into_os_string)
}

#[cfg(unix)]
fn run(cmd: &mut Command) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    cmd.exec()
}

#[cfg(not(unix))]
fn run(cmd: &mut Command) -> std::io::Error {
    // No exec here: wait and pass the exit code on.
    match cmd.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    }
}
