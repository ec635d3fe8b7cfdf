//! The one place that runs the user's `git`.
//!
//! gix does the reading and writing; we call git only where gix cannot do a
//! step safely: committing through the user's hooks in the demo (the demo's
//! point is to show the real pre-commit hook firing), and anything that must
//! update a checked-out worktree or index with git's own semantics.

pub mod changes;
pub mod packs;
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

/// The variables that make git look for its repository, index or objects
/// somewhere other than the directory it runs in: what `git rev-parse
/// --local-env-vars` lists (git 2.47), less the `-c` settings
/// (`GIT_CONFIG_PARAMETERS`, `GIT_CONFIG_COUNT`), which are the user's and
/// which git itself passes on to submodules; plus `GIT_NAMESPACE`, since
/// we read and write refs without one.
///
/// We are often started with them set: by a pre-commit hook (`GIT_DIR`,
/// `GIT_INDEX_FILE` of a `git commit -a`) or by `git -C`. Every git we
/// start is aimed at a directory of our choosing, so inheriting them would
/// point it at another repository or index.
pub const REPOSITORY_ENV: &[&str] = &[
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
];

/// Remove [`REPOSITORY_ENV`] from what `cmd` inherits. Callers that mean to
/// pass one (a temporary index) set it afterwards.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    for var in REPOSITORY_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// A `git` command in `dir`, ready to be given arguments, that finds its
/// repository from `dir` alone (see [`scrub`]).
pub fn command(dir: &Path) -> Result<Command> {
    let mut cmd = Command::new(git_binary()?);
    scrub(&mut cmd).current_dir(dir);
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

/// Run git with `args` in `dir`, `input` on its stdin; fail with its
/// stderr unless it succeeds.
pub fn run_with_input(dir: &Path, args: &[&str], input: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let what = || format!("running git {}", args.join(" "));
    let mut child = command(dir)?
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(Error::io(what()))?;
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(input));
    let out = child.wait_with_output().map_err(Error::io(what()))?;
    if !out.status.success() {
        return Err(Error::GitCommand {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    written.transpose().map_err(Error::io(what())).map(|_| ())
}
