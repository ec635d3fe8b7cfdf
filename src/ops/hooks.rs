//! `git agent hooks install|uninstall|status`: the pre-commit gate.
//!
//! The hook goes where git will run it (`core.hooksPath` if set, else the
//! common directory's `hooks/`, shared by every worktree). Another tool's
//! hook is never replaced: our lines go in a marked block at its top, right
//! after its `#!` line, where no `exec` or `exit` of the hook can skip them
//! (the pre-commit framework's hooks end with both), and uninstall removes
//! only that block.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Io;
use crate::cli::{HooksArgs, HooksCommand};
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::authority::{self, Action};

const BEGIN: &str = "# >>> git-agent pre-commit gate >>>";
const END: &str = "# <<< git-agent pre-commit gate <<<";

pub fn run(args: HooksArgs, io: &mut Io) -> Result<Outcome> {
    let repo = repo::open(&args.common.absolute_dir()?)?;
    let action = match args.command {
        HooksCommand::Install(_) => Some(Action::InstallHooks),
        HooksCommand::Uninstall(_) => Some(Action::UninstallHooks),
        HooksCommand::Status(_) | HooksCommand::PreReceive => None,
    };
    if let Some(action) = action
        && let Some(refusal) = authority::who_may_act(&repo, action)?
    {
        refusal.say(io)?;
        return Ok(Outcome::Refused);
    }
    match args.command {
        HooksCommand::Install(w) if w.server => crate::ops::receive::install(&repo, io),
        HooksCommand::Uninstall(w) if w.server => crate::ops::receive::uninstall(&repo, io),
        HooksCommand::Install(_) => install(&repo, io),
        HooksCommand::Uninstall(_) => uninstall(&repo, io),
        HooksCommand::Status(status_args) => status(&repo, status_args.json, io),
        HooksCommand::PreReceive => crate::ops::receive::run(repo, io),
    }
}

/// The directory git runs hooks from.
pub fn hooks_dir(repo: &gix::Repository) -> PathBuf {
    let configured = repo
        .config_snapshot()
        .trusted_path("core.hooksPath")
        .ok()
        .flatten();
    match configured {
        // git runs hooks from the worktree root, so a relative hooksPath is
        // relative to it (to the git dir in a bare repository).
        Some(p) if p.is_relative() => repo.workdir().unwrap_or_else(|| repo.git_dir()).join(p),
        Some(p) => p,
        None => repo.common_dir().join("hooks"),
    }
}

pub fn pre_commit_path(repo: &gix::Repository) -> PathBuf {
    hooks_dir(repo).join("pre-commit")
}

/// Our block. It prefers git-agent on PATH and falls back to the one
/// installed next to the running binary, and fails closed when neither is
/// there: a gate that silently lets everything through is worse than none.
/// It runs the gate in `git-agent` itself, one process, not through the
/// `git-agent-scope` launcher (which blocks from older versions still call).
fn block() -> String {
    let fallback = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("git-agent")))
        .map(|p| crate::ops::gate::shell_quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "git-agent".into());
    format!(
        "{BEGIN}
# Installed by `git agent hooks install`; `git agent hooks uninstall` removes this block.
if command -v git-agent >/dev/null 2>&1; then
  {GATE_LINE} || exit $?
elif [ -x {fallback} ]; then
  {fallback} scope check --staged --hook || exit $?
else
  echo 'git-agent: git-agent was not found, so the scope gate cannot run.' >&2
  echo 'Install git-agent (cargo install git-agent), or remove the gate: git agent hooks uninstall' >&2
  exit 1
fi
{END}
"
    )
}

fn find_block(text: &str) -> Option<(usize, usize)> {
    let start = text.find(BEGIN)?;
    let end_marker = text[start..].find(END)? + start;
    let mut end = end_marker + END.len();
    if text[end..].starts_with('\n') {
        end += 1;
    }
    Ok::<_, ()>((start, end)).ok()
}

pub(crate) fn read(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()))(e)),
    }
}

pub(crate) fn write_hook(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().expect("hook has a directory");
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(Error::io("creating a temporary hook"))?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(Error::io("writing the hook"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() | 0o111)
            .unwrap_or(0o755);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(Error::io("making the hook executable"))?;
    }
    tmp.persist(path)
        .map_err(|e| Error::io(format!("writing {}", path.display()))(e.error))?;
    Ok(())
}

pub(crate) fn is_shell_script(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    !first.starts_with("#!")
        || ["sh", "bash", "dash", "zsh", "ksh"].iter().any(|s| {
            first
                .split(|c: char| c == '/' || c.is_whitespace())
                .any(|w| w == *s)
        })
}

/// The line a hook manager's own pre-commit hook should run.
pub const GATE_LINE: &str = "git-agent scope check --staged --hook";
/// The same gate as older versions wrote it, through the launcher.
const OLD_GATE_LINE: &str = "git-agent-scope check --staged --hook";

fn has_gate_line(text: &str) -> bool {
    text.contains(GATE_LINE) || text.contains(OLD_GATE_LINE)
}

/// When husky owns `core.hooksPath` (`.husky/_` since husky 9, `.husky`
/// before), the pre-commit file the team edits and commits.
fn husky_pre_commit(repo: &gix::Repository) -> Option<PathBuf> {
    let configured = repo
        .config_snapshot()
        .trusted_path("core.hooksPath")
        .ok()
        .flatten()?;
    let parts: Vec<String> = configured
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let husky = match parts.as_slice() {
        [.., h, last] if h == ".husky" && last == "_" => hooks_dir(repo).parent()?.to_owned(),
        [.., h] if h == ".husky" => hooks_dir(repo),
        _ => return None,
    };
    Some(husky.join("pre-commit"))
}

pub fn install(repo: &gix::Repository, io: &mut Io) -> Result<Outcome> {
    if let Some(husky) = husky_pre_commit(repo) {
        if read(&husky)?.is_some_and(|text| has_gate_line(&text)) {
            writeln!(
                io.out,
                "the pre-commit gate is already in {}",
                husky.display()
            )
            .map_err(Error::io("writing"))?;
            return Ok(Outcome::Done);
        }
        // husky regenerates its hooks directory; the team's hooks live in
        // .husky/ and are committed, so the line belongs there, by hand.
        writeln!(
            io.err,
            "git-agent: husky manages this repository's hooks (core.hooksPath = {}), so nothing was written.\n\
             Add this line to {} (and commit it):\n\n    {GATE_LINE}",
            hooks_dir(repo).display(),
            husky.display()
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Refused);
    }
    let path = pre_commit_path(repo);
    let ours = block();
    let w = |io: &mut Io, msg: String| writeln!(io.out, "{msg}").map_err(Error::io("writing"));
    match read(&path)? {
        None => {
            write_hook(&path, &format!("#!/bin/sh\n{ours}"))?;
            w(
                io,
                format!("installed the pre-commit gate in {}", path.display()),
            )?;
        }
        Some(text) => match find_block(&text) {
            Some((s, e)) if text[s..e] == ours && block_runs(&text, s) => {
                w(
                    io,
                    format!(
                        "the pre-commit gate is already installed in {}",
                        path.display()
                    ),
                )?;
            }
            Some((s, e)) => {
                write_hook(&path, &at_top(&without_block(&text, s, e), &ours))?;
                w(
                    io,
                    format!(
                        "updated the pre-commit gate in {}, first in the hook so that it runs",
                        path.display()
                    ),
                )?;
            }
            None if !is_shell_script(&text) => {
                writeln!(
                    io.err,
                    "git-agent: {} is not a shell script, so the gate cannot be added to it.\n\
                     Call the gate from it yourself: run `{GATE_LINE}` and fail the commit when it exits non-zero.",
                    path.display()
                )
                .map_err(Error::io("writing"))?;
                return Ok(Outcome::Refused);
            }
            None => {
                write_hook(&path, &at_top(&text, &ours))?;
                w(
                    io,
                    format!(
                        "added the pre-commit gate to the existing hook {}, before its own lines so that no exec or exit of theirs skips it (they are untouched)",
                        path.display()
                    ),
                )?;
            }
        },
    }
    Ok(Outcome::Done)
}

/// `text` with our block (at `s..e`) taken out, and the blank line an
/// earlier version put before an appended block.
pub(crate) fn without_block(text: &str, s: usize, e: usize) -> String {
    let mut rest = format!("{}{}", &text[..s], &text[e..]);
    if rest.ends_with("\n\n") {
        rest.pop();
    }
    rest
}

/// `ours` placed first in the hook `text`: after its `#!` line.
pub(crate) fn at_top(text: &str, ours: &str) -> String {
    if !text.starts_with("#!") {
        return format!("{ours}{text}");
    }
    match text.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{ours}{rest}"),
        None => format!("{text}\n{ours}"),
    }
}

/// Whether the block starting at `start` runs whenever the hook does:
/// nothing but the `#!` line, comments and blank lines come before it, so
/// no command of the hook can end it first.
pub(crate) fn block_runs(text: &str, start: usize) -> bool {
    text[..start].lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#')
    })
}

pub fn uninstall(repo: &gix::Repository, io: &mut Io) -> Result<Outcome> {
    let path = pre_commit_path(repo);
    let text = read(&path)?;
    let Some((text, (s, e))) = text.as_ref().and_then(|t| find_block(t).map(|b| (t, b))) else {
        writeln!(
            io.out,
            "the pre-commit gate is not installed in {}",
            path.display()
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    };
    let rest = without_block(text, s, e);
    if rest.trim().is_empty() || rest.trim() == "#!/bin/sh" {
        std::fs::remove_file(&path).map_err(Error::io(format!("removing {}", path.display())))?;
    } else {
        write_hook(&path, &rest)?;
    }
    writeln!(
        io.out,
        "removed the pre-commit gate from {}",
        path.display()
    )
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

/// Whether our block is in the pre-commit hook git will run, where it runs
/// (or, under husky, the gate's line in husky's pre-commit file).
pub fn is_installed(repo: &gix::Repository) -> Result<bool> {
    Ok(gate(repo)? == Gate::Runs)
}

/// Where the gate stands in the hook git runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Missing,
    /// Our block is there, after commands of the hook that may end it.
    Skipped,
    Runs,
}

fn gate(repo: &gix::Repository) -> Result<Gate> {
    if let Some(husky) = husky_pre_commit(repo) {
        let present = read(&husky)?.is_some_and(|text| has_gate_line(&text));
        return Ok(if present { Gate::Runs } else { Gate::Missing });
    }
    let text = read(&pre_commit_path(repo))?.unwrap_or_default();
    Ok(match find_block(&text) {
        None => Gate::Missing,
        Some((s, _)) if block_runs(&text, s) => Gate::Runs,
        Some(_) => Gate::Skipped,
    })
}

#[derive(Serialize)]
struct StatusJson {
    version: u32,
    installed: bool,
    /// The file that holds the gate, or would: the pre-commit hook git
    /// runs, or under husky the pre-commit file the team commits.
    path: String,
    /// The directory git runs hooks from.
    hooks_dir: String,
    /// The hook manager that owns `core.hooksPath`, when we know it.
    manager: Option<&'static str>,
    /// The shared repository's gate (`hooks install --server`): in a bare
    /// repository, or where a block of ours is in the pre-receive hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pre_receive: Option<PreReceiveJson>,
}

#[derive(Serialize)]
struct PreReceiveJson {
    installed: bool,
    path: String,
}

fn pre_receive_json(repo: &gix::Repository) -> Result<Option<PreReceiveJson>> {
    let installed = crate::ops::receive::installed(repo)?;
    Ok(
        (installed.is_some() || repo.is_bare()).then(|| PreReceiveJson {
            installed: installed == Some(true),
            path: crate::ops::receive::pre_receive_path(repo)
                .display()
                .to_string(),
        }),
    )
}

pub fn status(repo: &gix::Repository, json: bool, io: &mut Io) -> Result<Outcome> {
    let husky = husky_pre_commit(repo);
    let manager = husky.as_ref().map(|_| "husky");
    let path = husky.unwrap_or_else(|| pre_commit_path(repo));
    let gate = gate(repo)?;
    let installed = gate == Gate::Runs;
    if json {
        let text = serde_json::to_string_pretty(&StatusJson {
            version: 1,
            installed,
            path: path.display().to_string(),
            hooks_dir: hooks_dir(repo).display().to_string(),
            manager,
            pre_receive: pre_receive_json(repo)?,
        })
        .expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    let paint = io.color.out(Some(repo));
    crate::ops::receive::status_line(repo, paint, io)?;
    if installed {
        writeln!(io.out, "{} {}", paint.green("installed:"), path.display())
    } else if gate == Gate::Skipped {
        writeln!(
            io.out,
            "{} the gate's block in {} comes after the hook's own commands, which may exec or exit before it\n  run `git agent hooks install` to move it first",
            paint.yellow("not installed (never runs):"),
            path.display()
        )
    } else {
        writeln!(
            io.out,
            "{} (git runs hooks from {})",
            paint.yellow("not installed"),
            hooks_dir(repo).display()
        )
    }
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}
