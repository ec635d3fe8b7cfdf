//! `git agent hooks install|uninstall|status`: the pre-commit gate and the
//! ref guard (git's `reference-transaction` hook, see [`super::ref_guard`]).
//!
//! The hooks go where git will run them (`core.hooksPath` if set, else the
//! common directory's `hooks/`, shared by every worktree). Another tool's
//! hook is never replaced: our lines go in a marked block at its top, right
//! after its `#!` line, where no `exec` or `exit` of the hook can skip them
//! (the pre-commit framework's hooks end with both), and uninstall removes
//! only that block.

use std::path::{Path, PathBuf};

use crate::Io;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::context;

/// A hook git-agent installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `pre-commit`: `scope check --staged --hook`.
    Gate,
    /// `reference-transaction`: `hooks ref-guard`.
    RefGuard,
}

impl Hook {
    pub fn file(self) -> &'static str {
        match self {
            Hook::Gate => "pre-commit",
            Hook::RefGuard => "reference-transaction",
        }
    }

    fn begin(self) -> &'static str {
        match self {
            Hook::Gate => "# >>> git-agent pre-commit gate >>>",
            Hook::RefGuard => "# >>> git-agent ref guard >>>",
        }
    }

    fn end(self) -> &'static str {
        match self {
            Hook::Gate => "# <<< git-agent pre-commit gate <<<",
            Hook::RefGuard => "# <<< git-agent ref guard <<<",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Hook::Gate => "the pre-commit gate",
            Hook::RefGuard => "the ref guard",
        }
    }

    fn block(self) -> String {
        match self {
            Hook::Gate => gate_block(),
            Hook::RefGuard => ref_guard_block(),
        }
    }
}

/// A person changed the hooks: the agents' seals record the new ones, so
/// `land` does not take the change for an agent's tampering.
pub fn reseal(repo: &gix::Repository, outcome: Outcome) -> Result<Outcome> {
    if outcome != Outcome::Done || !crate::ops::sealing::any_sealed(repo.common_dir()) {
        return Ok(outcome);
    }
    let dir = hooks_dir(repo);
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    context::registry(repo)
        .update(|_| crate::ops::sealing::reseal_hooks(repo.common_dir(), &dir))?;
    Ok(outcome)
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
    hook_path(repo, Hook::Gate)
}

pub fn hook_path(repo: &gix::Repository, hook: Hook) -> PathBuf {
    hooks_dir(repo).join(hook.file())
}

/// git-agent on PATH, else the one installed next to the running binary.
fn fallback_engine() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("git-agent")))
        .map(|p| crate::ops::gate::shell_quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "git-agent".into())
}

/// Our block. It prefers git-agent on PATH and falls back to the one
/// installed next to the running binary, and fails closed when neither is
/// there: a gate that silently lets everything through is worse than none.
/// It runs the gate in `git-agent` itself, one process, not through the
/// `git-agent-scope` launcher (which blocks from older versions still call).
fn gate_block() -> String {
    let fallback = fallback_engine();
    let (begin, end) = (Hook::Gate.begin(), Hook::Gate.end());
    format!(
        "{begin}
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
{end}
"
    )
}

/// The ref guard's block. Outside an agent's context it costs no process
/// beyond the shell git starts: `GIT_AGENT` is unset and the mark that
/// `git agent add` leaves in an agent's git directory is absent (git sets
/// GIT_DIR for a hook in a linked worktree, and runs it from the
/// worktree's root, where `.git` is, otherwise). Only `prepared` can abort
/// the transaction. The updates are read with the shell's own `read` (no
/// process), reach the engine as a here-document (no `printf |` pipeline,
/// which costs a fork) and go back on stdin for the lines of the hook
/// after ours.
///
/// In the agent's own marked worktree (and `GIT_AGENT`, if set, naming the
/// same agent), a transaction of only per-worktree pseudo-refs other than
/// `HEAD` (`AUTO_MERGE`, `ORIG_HEAD`, …: names of capitals, digits and
/// `_`), which the engine would allow there, passes without starting it:
/// that is every commit's second transaction. The mark is the agent's to
/// forge, so nothing that a forged mark lets through matters: only those
/// pseudo-refs of the worktree it sits in.
fn ref_guard_block() -> String {
    let fallback = fallback_engine();
    let (begin, end) = (Hook::RefGuard.begin(), Hook::RefGuard.end());
    let mark = crate::state::marker::FILE;
    format!(
        "{begin}
# Installed by `git agent hooks install`; `git agent hooks uninstall` removes this block.
git_agent_mark=\"${{GIT_DIR:-.git}}/{mark}\"
if [ \"$1\" = prepared ] && {{ [ -n \"$GIT_AGENT\" ] || [ -f \"$git_agent_mark\" ]; }}; then
  git_agent_updates= git_agent_engine=
  if [ -f \"$git_agent_mark\" ]; then
    IFS= read -r git_agent_home < \"$git_agent_mark\" || :
    [ -z \"$GIT_AGENT\" ] || [ \"$GIT_AGENT\" = \"$git_agent_home\" ] || git_agent_engine=1
  else
    git_agent_engine=1
  fi
  while IFS= read -r git_agent_line; do
    git_agent_updates=\"$git_agent_updates$git_agent_line
\"
    case \"${{git_agent_line##* }}\" in
      HEAD|*[!A-Z0-9_]*|'') git_agent_engine=1 ;;
    esac
  done
  if [ -n \"$git_agent_engine\" ]; then
    if command -v git-agent >/dev/null 2>&1; then
      git-agent hooks ref-guard \"$1\" <<GIT_AGENT_UPDATES || exit $?
${{git_agent_updates%?}}
GIT_AGENT_UPDATES
    elif [ -x {fallback} ]; then
      {fallback} hooks ref-guard \"$1\" <<GIT_AGENT_UPDATES || exit $?
${{git_agent_updates%?}}
GIT_AGENT_UPDATES
    else
      echo 'git-agent: git-agent was not found, so the ref guard cannot run.' >&2
      echo 'Install git-agent (cargo install git-agent), or remove it: git agent hooks uninstall' >&2
      exit 1
    fi
  fi
  exec 0<<GIT_AGENT_UPDATES
${{git_agent_updates%?}}
GIT_AGENT_UPDATES
fi
{end}
"
    )
}

fn find_block(text: &str, hook: Hook) -> Option<(usize, usize)> {
    let (begin, end) = (hook.begin(), hook.end());
    let start = text.find(begin)?;
    let end_marker = text[start..].find(end)? + start;
    let mut end = end_marker + end.len();
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

/// Install both hooks; refused when either could not be written.
pub fn install(repo: &gix::Repository, io: &mut Io) -> Result<Outcome> {
    let gate = install_gate(repo, io)?;
    // husky owns its hooks directory and runs no reference-transaction
    // hook of the team's: nothing is written there (the gate's message
    // says what to do).
    let guard = if husky_pre_commit(repo).is_some() {
        writeln!(
            io.err,
            "note: the ref guard (git's reference-transaction hook) is not installed: husky does not run that hook.\n\
             To have it, write {}/reference-transaction yourself, calling `{REF_GUARD_LINE} \"$1\"` with the hook's stdin.",
            hooks_dir(repo).display()
        )
        .map_err(Error::io("writing"))?;
        Outcome::Done
    } else {
        install_block(repo, Hook::RefGuard, io)?
    };
    mark_agents(repo)?;
    Ok(if gate == Outcome::Done && guard == Outcome::Done {
        Outcome::Done
    } else {
        Outcome::Refused
    })
}

/// Mark the git directory of every registered agent (those added before
/// the mark existed), so the ref guard's block knows their worktrees.
fn mark_agents(repo: &gix::Repository) -> Result<()> {
    if repo::control(repo)?.is_some() {
        return Ok(());
    }
    for agent in context::registry(repo).load()?.values() {
        crate::state::marker::mark_checkout(&agent.path, &agent.name)?;
    }
    Ok(())
}

fn install_gate(repo: &gix::Repository, io: &mut Io) -> Result<Outcome> {
    let Some(husky) = husky_pre_commit(repo) else {
        return install_block(repo, Hook::Gate, io);
    };
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
    Ok(Outcome::Refused)
}

/// Put `hook`'s block first in its hook file, never replacing another
/// tool's lines.
fn install_block(repo: &gix::Repository, hook: Hook, io: &mut Io) -> Result<Outcome> {
    let path = hook_path(repo, hook);
    let ours = hook.block();
    let what = hook.what();
    let w = |io: &mut Io, msg: String| writeln!(io.out, "{msg}").map_err(Error::io("writing"));
    match read(&path)? {
        None => {
            write_hook(&path, &format!("#!/bin/sh\n{ours}"))?;
            w(io, format!("installed {what} in {}", path.display()))?;
        }
        Some(text) => match find_block(&text, hook) {
            Some((s, e)) if text[s..e] == ours && block_runs(&text, s) => {
                w(
                    io,
                    format!("{what} is already installed in {}", path.display()),
                )?;
            }
            Some((s, e)) => {
                write_hook(&path, &at_top(&without_block(&text, s, e), &ours))?;
                w(
                    io,
                    format!(
                        "updated {what} in {}, first in the hook so that it runs",
                        path.display()
                    ),
                )?;
            }
            None if !is_shell_script(&text) => {
                let line = match hook {
                    Hook::Gate => GATE_LINE.to_owned(),
                    Hook::RefGuard => format!("{REF_GUARD_LINE} \"$1\" (with the hook's stdin)"),
                };
                writeln!(
                    io.err,
                    "git-agent: {} is not a shell script, so {what} cannot be added to it.\n\
                     Call it from there yourself: run `{line}` and fail when it exits non-zero.",
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
                        "added {what} to the existing hook {}, before its own lines so that no exec or exit of theirs skips it (they are untouched)",
                        path.display()
                    ),
                )?;
            }
        },
    }
    Ok(Outcome::Done)
}

/// The command the ref guard's block runs, with the phase as argument.
pub const REF_GUARD_LINE: &str = "git-agent hooks ref-guard";

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

/// Remove both blocks.
pub fn uninstall(repo: &gix::Repository, io: &mut Io) -> Result<Outcome> {
    uninstall_block(repo, Hook::Gate, io)?;
    uninstall_block(repo, Hook::RefGuard, io)
}

fn uninstall_block(repo: &gix::Repository, hook: Hook, io: &mut Io) -> Result<Outcome> {
    let path = hook_path(repo, hook);
    let what = hook.what();
    let text = read(&path)?;
    let Some((text, (s, e))) = text
        .as_ref()
        .and_then(|t| find_block(t, hook).map(|b| (t, b)))
    else {
        writeln!(io.out, "{what} is not installed in {}", path.display())
            .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    };
    let rest = without_block(text, s, e);
    if rest.trim().is_empty() || rest.trim() == "#!/bin/sh" {
        std::fs::remove_file(&path).map_err(Error::io(format!("removing {}", path.display())))?;
    } else {
        write_hook(&path, &rest)?;
    }
    writeln!(io.out, "removed {what} from {}", path.display()).map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

/// Whether our block is in the pre-commit hook git will run, where it runs
/// (or, under husky, the gate's line in husky's pre-commit file).
pub fn is_installed(repo: &gix::Repository) -> Result<bool> {
    Ok(placement(repo, Hook::Gate)? == Placement::Runs)
}

/// Where a block stands in the hook git runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Missing,
    /// Our block is there, after commands of the hook that may end it.
    Skipped,
    Runs,
}

fn placement(repo: &gix::Repository, hook: Hook) -> Result<Placement> {
    if hook == Hook::Gate
        && let Some(husky) = husky_pre_commit(repo)
    {
        let present = read(&husky)?.is_some_and(|text| has_gate_line(&text));
        return Ok(if present {
            Placement::Runs
        } else {
            Placement::Missing
        });
    }
    let text = read(&hook_path(repo, hook))?.unwrap_or_default();
    Ok(match find_block(&text, hook) {
        None => Placement::Missing,
        Some((s, _)) if block_runs(&text, s) => Placement::Runs,
        Some(_) => Placement::Skipped,
    })
}

/// Where the hooks stand, for `hooks status`.
pub struct Status {
    /// The file that holds the gate, or would: the pre-commit hook git
    /// runs, or under husky the pre-commit file the team commits.
    pub path: PathBuf,
    /// The directory git runs hooks from.
    pub hooks_dir: PathBuf,
    /// The hook manager that owns `core.hooksPath`, when we know it.
    pub manager: Option<&'static str>,
    pub gate: Placement,
    pub ref_guard: Placement,
    pub ref_guard_path: PathBuf,
    /// The pre-receive gate: in a bare repository, or where a block of
    /// ours is in the pre-receive hook.
    pub pre_receive: Option<PreReceive>,
}

/// Where the pre-receive gate stands.
pub struct PreReceive {
    /// `None` when the hook has no block of ours.
    pub installed: Option<bool>,
    pub path: PathBuf,
}

pub fn status(repo: &gix::Repository) -> Result<Status> {
    let husky = husky_pre_commit(repo);
    let manager = husky.as_ref().map(|_| "husky");
    let installed = crate::ops::receive::installed(repo)?;
    Ok(Status {
        path: husky.unwrap_or_else(|| pre_commit_path(repo)),
        hooks_dir: hooks_dir(repo),
        manager,
        gate: placement(repo, Hook::Gate)?,
        ref_guard: placement(repo, Hook::RefGuard)?,
        ref_guard_path: hook_path(repo, Hook::RefGuard),
        pre_receive: (installed.is_some() || repo.is_bare()).then(|| PreReceive {
            installed,
            path: crate::ops::receive::pre_receive_path(repo),
        }),
    })
}
