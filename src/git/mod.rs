//! The one place that runs the user's `git`.
//!
//! gix does the reading and writing; we call git only where gix cannot do a
//! step safely: committing through the user's hooks in the demo (the demo's
//! point is to show the real pre-commit hook firing), and anything that must
//! update a checked-out worktree or index with git's own semantics.

pub mod changes;
pub mod repo;
pub mod scan;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::{Error, Result};

/// The user's git, as `which` finds it on PATH.
pub fn git_binary() -> Result<PathBuf> {
    which::which("git").map_err(|_| {
        Error::usage(
            "git was not found on PATH",
            "install git, or put it on PATH",
        )
    })
}

/// A `git` command in `dir`, ready to be given arguments.
pub fn command(dir: &Path) -> Result<Command> {
    let mut cmd = Command::new(git_binary()?);
    cmd.current_dir(dir);
    Ok(cmd)
}

/// Run git with `args` in `dir`, returning its output whatever the status.
pub fn output(dir: &Path, args: &[&str]) -> Result<Output> {
    command(dir)?
        .args(args)
        .output()
        .map_err(Error::io(format!("running git {}", args.join(" "))))
}

/// Run git with `args` in `dir`; fail with its stderr unless it succeeds.
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    let out = output(dir, args)?;
    if !out.status.success() {
        return Err(Error::GitCommand {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
