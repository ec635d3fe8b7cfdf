//! The policy's checks on a landing's result (SPEC: Landing), in a
//! persistent checks worktree and, where the kernel allows, in the write
//! sandbox.
//!
//! Each base has a small pool of checks worktrees in git-agent's state,
//! `<common dir>/git-agent/checks/<base>.<n>`, registered with git as
//! detached worktrees. A landing takes a free one under its lock, moves it
//! from the tree it last checked to the one to check with a two-tree
//! update (`git checkout --force --detach`, which writes only the files
//! that differ and drops what the last checks changed), removes the
//! untracked files the last checks left that are not ignored, and runs the
//! checks there. Ignored build output (`target/`, `node_modules/`) stays,
//! so the next landing's checks build incrementally. A checks worktree that
//! is missing or broken (deleted by hand, killed half-made) is made again.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gix::ObjectId;

use crate::Io;
use crate::error::GitContext;
use crate::error::{Error, Result};
use crate::git::{self, changes, repo};
use crate::ops::{context, sandbox, status};
use crate::policy::manifest::Manifest;
use crate::state::lock::{self, Lock};

/// How many checks worktrees one base has at most: landings on one base
/// beyond this many wait for a free one.
pub const POOL: usize = 4;

/// The directory, in the common directory, that holds every checks worktree.
fn pool_dir(common_dir: &Path) -> PathBuf {
    common_dir.join("git-agent").join("checks")
}

/// Where the checks run, decided before the receipt that records it is
/// written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Containment {
    /// In the Landlock write sandbox, at this ABI version.
    Landlock { abi: i32 },
    /// Unconfined: the policy says `checks_sandbox: false`.
    TurnedOff,
    /// Unconfined: the kernel or system has no sandbox.
    Unavailable(String),
}

impl Containment {
    /// The policy's choice and what this system offers.
    pub fn for_policy(policy: &Manifest) -> Containment {
        if policy.checks_unsandboxed {
            return Containment::TurnedOff;
        }
        match sandbox::kernel_abi() {
            Some(abi) => Containment::Landlock { abi },
            None if cfg!(target_os = "linux") => {
                Containment::Unavailable(sandbox::Unavailable::NoLandlock.to_string())
            }
            None => Containment::Unavailable(sandbox::Unavailable::System.to_string()),
        }
    }

    pub fn sandboxed(&self) -> bool {
        matches!(self, Containment::Landlock { .. })
    }

    /// One line for the receipt and the landing's output.
    pub fn describe(&self) -> String {
        match self {
            Containment::Landlock { abi } => format!("sandboxed (Landlock ABI {abi})"),
            Containment::TurnedOff => "unsandboxed (checks_sandbox: false)".to_owned(),
            Containment::Unavailable(why) => format!("unsandboxed ({why})"),
        }
    }
}

/// A check that did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub check: String,
    /// "exited with 3", "was killed by a signal".
    pub how: String,
}

/// How the checks of one landing went.
#[derive(Debug)]
pub struct CheckRun {
    pub failed: Option<Failure>,
    /// How long the checks themselves ran, without preparing the worktree.
    pub duration: Duration,
}

/// What to check and for whom.
pub struct Request<'a> {
    /// The base the result lands on; its pool is used.
    pub base: &'a str,
    /// Who is landing, set as `GIT_AGENT_LANDING` for the checks: an
    /// agent's name, or the names of a train's agents.
    pub landing: &'a str,
    /// The commit whose tree is checked.
    pub commit: ObjectId,
    pub policy: &'a Manifest,
    pub containment: &'a Containment,
}

/// Run the policy's checks on `request.commit` in a checks worktree of the
/// base's pool. Their output streams to stderr.
pub fn run(repo: &gix::Repository, request: &Request, io: &mut Io) -> Result<CheckRun> {
    let slot = Slot::take(repo, request.base, io)?;
    slot.prepare(repo, request.commit)?;
    crate::state::crash::point("land:during-checks");
    let started = Instant::now();
    let failed = run_each(request, &slot.dir, io)?;
    Ok(CheckRun {
        failed,
        duration: started.elapsed(),
    })
}

/// One checks worktree, held while its lock lives.
struct Slot {
    dir: PathBuf,
    _lock: Lock,
}

impl Slot {
    /// The first free checks worktree of `base`'s pool; when all are busy,
    /// wait for one.
    fn take(repo: &gix::Repository, base: &str, io: &mut Io) -> Result<Slot> {
        let pool = pool_dir(repo.common_dir());
        std::fs::create_dir_all(&pool).map_err(Error::io(format!(
            "creating the checks worktrees' directory {}",
            pool.display()
        )))?;
        let stem = base.replace('%', "%25").replace('/', "%2F");
        let mut told = false;
        loop {
            for n in 0..POOL {
                let dir = pool.join(format!("{stem}.{n}"));
                if let Some(lock) = lock::try_acquire(&lock_path(&dir))? {
                    return Ok(Slot { dir, _lock: lock });
                }
            }
            if !told {
                writeln!(
                    io.err,
                    "git-agent: all {POOL} checks worktrees of {base} are in use; waiting for one"
                )
                .map_err(Error::io("writing"))?;
                told = true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Make the worktree hold exactly `commit`'s tree, plus ignored files
    /// earlier checks left: reuse it when it is sound, else make it anew.
    fn prepare(&self, repo: &gix::Repository, commit: ObjectId) -> Result<()> {
        if self.sound(repo) && self.update(commit).is_ok() {
            return Ok(());
        }
        self.recreate(repo, commit)
    }

    /// Registered with git, of this repository, and not mid-operation.
    fn sound(&self, repo: &gix::Repository) -> bool {
        let Some(admin) = admin_dir(&self.dir) else {
            return false;
        };
        if !points_home(repo, &admin) {
            return false;
        }
        // We hold the slot: an index lock here is a killed landing's.
        let _ = std::fs::remove_file(admin.join("index.lock"));
        true
    }

    /// The two-tree update from what was checked last to `commit`. When
    /// the last checks left the tree as they found it (the usual case),
    /// that is all: git writes only the files that differ. Otherwise their
    /// changes to tracked files are undone on the way, and the untracked
    /// files they left removed (ignored ones stay).
    fn update(&self, commit: ObjectId) -> Result<()> {
        let dir = &self.dir;
        // The scan's directory cache is safe here: the worst a stale entry
        // could do is leave a stray file for the next checks to see.
        let (dirty, _) = status::dirty_and_staged(dir, true)?;
        if dirty.is_clean() && self.move_clean(commit).is_ok() {
            return Ok(());
        }
        let commit = commit.to_string();
        git::run(
            dir,
            &["checkout", "--force", "--detach", "--quiet", &commit],
        )?;
        git::run(dir, &["clean", "-ffdq"])?;
        Ok(())
    }

    /// Move a clean checks worktree from `HEAD` to `commit`, touching only
    /// the paths that differ: git's own two-tree commands (`read-tree -m
    /// -u`, `checkout`) walk every tree or stat every file of a large
    /// worktree. A failure leaves it for `update`'s full reset.
    fn move_clean(&self, commit: ObjectId) -> Result<()> {
        let wt = repo::open(&self.dir)?;
        let from = wt
            .head_tree_id()
            .git("reading the checks worktree's HEAD")?;
        let to = wt
            .find_commit(commit)
            .git("reading the commit to check")?
            .tree()
            .git("reading the commit to check")?;
        let mut diff = Vec::new();
        changes::diff_trees(&wt, Some(from.detach()), Some(to.id), "".into(), &mut diff)?;
        let (mut index_info, mut written) = (Vec::new(), Vec::new());
        for change in &diff {
            let entry = to
                .lookup_entry(change.path.split(|&b| b == b'/'))
                .git("looking up a path")?;
            match entry {
                Some(e) if e.mode().is_commit() => {
                    return Err(Error::usage("a submodule changed", "reset fully"));
                }
                Some(e) => {
                    index_info
                        .extend(format!("{:o} {}\t", e.mode().value(), e.object_id()).bytes());
                    written.extend_from_slice(&change.path);
                    written.push(0);
                }
                None => {
                    remove_with_empty_parents(&self.dir, &change.path);
                    index_info.extend(format!("0 {}\t", wt.object_hash().null()).bytes());
                }
            }
            index_info.extend_from_slice(&change.path);
            index_info.push(0);
        }
        git::run_with_input(
            &self.dir,
            &["update-index", "-z", "--index-info"],
            &index_info,
        )?;
        git::run_with_input(
            &self.dir,
            &["checkout-index", "-f", "-u", "-z", "--stdin"],
            &written,
        )?;
        git::run(
            &self.dir,
            &["update-ref", "--no-deref", "HEAD", &commit.to_string()],
        )?;
        Ok(())
    }

    /// Forget the broken worktree and add it again at `commit`.
    fn recreate(&self, repo: &gix::Repository, commit: ObjectId) -> Result<()> {
        let home = repo::home_for_commands(repo);
        let registry = context::registry(repo);
        let _registration = registry.lock_worktree_registration()?;
        forget_registration(repo.common_dir(), &self.dir);
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).map_err(Error::io(format!(
                "removing the broken checks worktree {}",
                self.dir.display()
            )))?;
        }
        let dir = self.dir.to_string_lossy();
        git::run(
            &home,
            &[
                "worktree",
                "add",
                "--detach",
                "--quiet",
                &dir,
                &commit.to_string(),
            ],
        )?;
        Ok(())
    }
}

/// Remove the file at `rel` (bytes, slash-separated) below `root`, and the
/// directories it leaves empty.
fn remove_with_empty_parents(root: &Path, rel: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let path = root.join(std::ffi::OsStr::from_bytes(rel));
    let _ = std::fs::remove_file(&path);
    let mut dir = path.parent();
    while let Some(d) = dir.filter(|d| *d != root) {
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// The worktree's administrative directory, from its `.git` file.
fn admin_dir(worktree: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(worktree.join(".git")).ok()?;
    let path = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
    let path = if path.is_relative() {
        worktree.join(path)
    } else {
        path
    };
    path.join("HEAD").is_file().then_some(path)
}

/// Remove the registrations (`<common>/worktrees/<id>`) that point at
/// `dir`, and only those: `git worktree prune` would also forget agents'
/// moved worktrees, which doctor finds by their registration.
fn forget_registration(common_dir: &Path, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(common_dir.join("worktrees")) else {
        return;
    };
    let wanted = dir.join(".git");
    for entry in entries.flatten() {
        let Ok(gitdir) = std::fs::read_to_string(entry.path().join("gitdir")) else {
            continue;
        };
        if Path::new(gitdir.trim()) == wanted {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The sandbox a check runs in: it may write its checks worktree and the
/// temporary directories, and nothing else (not the registry, the refs,
/// the hooks, the objects or any other worktree).
fn sandbox_for(dir: &Path) -> Result<sandbox::Sandbox> {
    let dir = std::fs::canonicalize(dir).map_err(Error::io(format!(
        "resolving the checks worktree {}",
        dir.display()
    )))?;
    let mut roots = vec![dir];
    roots.extend(sandbox::temporary_dirs());
    sandbox::prepare(&roots).map_err(|why| {
        Error::usage(
            format!("cannot confine the checks: {why}"),
            "set `checks_sandbox: false` in .git-agent.yaml to run them unconfined",
        )
    })
}

/// Each check in turn, stopping at the first that fails.
fn run_each(request: &Request, dir: &Path, io: &mut Io) -> Result<Option<Failure>> {
    for check in &request.policy.checks {
        writeln!(io.err, "check: {check}").map_err(Error::io("writing"))?;
        io.err.flush().map_err(Error::io("writing"))?;
        // A ruleset is consumed by the command it confines.
        let sandbox = match request.containment.sandboxed() {
            true => Some(sandbox_for(dir)?),
            false => None,
        };
        let status = run_shell(check, dir, request.landing, sandbox)?;
        if status.code() == Some(127) && !command_found(check, dir)? {
            return Err(Error::usage(
                format!("check `{check}` could not run: command not found"),
                format!(
                    "fix the `checks:` entry in .git-agent.yaml on {}, or land with --no-checks",
                    request.base
                ),
            ));
        }
        if !status.success() {
            let how = status.code().map_or_else(
                || "was killed by a signal".to_owned(),
                |c| format!("exited with {c}"),
            );
            return Ok(Some(Failure {
                check: check.clone(),
                how,
            }));
        }
    }
    Ok(None)
}

/// Whether the command a check starts with can be started: a shell
/// builtin or keyword, a function, a path, or a program on `PATH`, as
/// `command -v` finds it. A check exits 127 when the shell could not find
/// a command; only when that command is the check's own (its first word,
/// after any `NAME=value` assignments) is the check itself wrong. A tool
/// missing further in is the check failing.
fn command_found(check: &str, dir: &Path) -> Result<bool> {
    let is_assignment = |word: &&str| {
        word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        })
    };
    let Some(first) = check.split_whitespace().find(|w| !is_assignment(w)) else {
        return Ok(true);
    };
    let first = first.trim_matches(['"', '\'']);
    // `(…)`, `{ …; }`, `$CMD` and the like: the shell ran something.
    if !first.starts_with(|c: char| c.is_alphanumeric() || "./_-~".contains(c)) {
        return Ok(true);
    }
    let status = git::scrub(&mut std::process::Command::new("sh"))
        .args(["-c", "command -v -- \"$1\" >/dev/null 2>&1", "sh", first])
        .current_dir(dir)
        .status()
        .map_err(Error::io(format!(
            "looking for the command of check `{check}`"
        )))?;
    Ok(status.success())
}

fn run_shell(
    command: &str,
    dir: &Path,
    landing: &str,
    sandbox: Option<sandbox::Sandbox>,
) -> Result<std::process::ExitStatus> {
    let mut cmd = std::process::Command::new("sh");
    // Its git commands find the checked tree, not a repository we were
    // pointed at.
    git::scrub(&mut cmd)
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env_remove("GIT_AGENT")
        .env("GIT_AGENT_LANDING", landing);
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        // Our stdout carries the receipt; the checks' output goes beside
        // their names on stderr.
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            cmd.stdout(std::process::Stdio::from(fd));
        }
    }
    if let Some(sandbox) = sandbox {
        sandbox.install(&mut cmd);
    }
    cmd.status()
        .map_err(Error::io(format!("running check `{command}`")))
}

/// What is wrong with a checks worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakage {
    /// Registered with git, but its directory is gone (deleted by hand).
    DirectoryMissing,
    /// Its directory is there but is no worktree of this repository
    /// (killed half-made, or its `.git` file was changed).
    NotAWorktree,
}

impl Breakage {
    pub fn describe(self) -> &'static str {
        match self {
            Breakage::DirectoryMissing => "its directory is missing",
            Breakage::NotAWorktree => "it is not a worktree of this repository",
        }
    }
}

/// The broken checks worktrees, and how each is broken. One a landing
/// holds right now is left alone.
pub fn broken(repo: &gix::Repository) -> Vec<(PathBuf, Breakage)> {
    let pool = pool_dir(repo.common_dir());
    let pool = std::fs::canonicalize(&pool).unwrap_or(pool);
    let mut found: Vec<(PathBuf, Breakage)> = Vec::new();
    for dir in registered_in_pool(repo.common_dir(), &pool) {
        if !dir.exists() {
            found.push((dir, Breakage::DirectoryMissing));
        }
    }
    let Ok(entries) = std::fs::read_dir(&pool) else {
        return found;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        if dir.extension().is_some_and(|e| e == "lock") || !dir.is_dir() {
            continue;
        }
        if !admin_dir(&dir).is_some_and(|admin| points_home(repo, &admin)) {
            found.push((dir, Breakage::NotAWorktree));
        }
    }
    found.retain(|(dir, _)| !in_use(dir));
    found
}

/// Whether `admin` belongs to this repository.
fn points_home(repo: &gix::Repository, admin: &Path) -> bool {
    let ours = std::fs::canonicalize(repo.common_dir()).ok();
    let theirs = std::fs::read_to_string(admin.join("commondir"))
        .ok()
        .map(|c| admin.join(c.trim()))
        .and_then(|c| std::fs::canonicalize(c).ok());
    ours.is_some() && theirs == ours
}

/// Whether a landing holds the checks worktree `dir` now.
fn in_use(dir: &Path) -> bool {
    !matches!(lock::try_acquire(&lock_path(dir)), Ok(Some(_)))
}

/// The lock a landing holds while it uses the checks worktree `dir`.
fn lock_path(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    dir.with_file_name(name)
}

/// The registered worktrees whose directory is in the pool.
fn registered_in_pool(common_dir: &Path, pool: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(common_dir.join("worktrees")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("gitdir")).ok())
        .filter_map(|gitdir| Path::new(gitdir.trim()).parent().map(Path::to_owned))
        .filter(|dir| dir.parent() == Some(pool))
        .collect()
}

/// Make the broken checks worktree `dir` anew at its base's tip (or only
/// remove it when the base is gone), under its lock.
pub fn repair(repo: &gix::Repository, dir: &Path) -> Result<()> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(lock) = lock::try_acquire(&lock_path(dir))? else {
        // A landing took it since: it makes it anew itself.
        return Ok(());
    };
    let slot = Slot {
        dir: dir.to_owned(),
        _lock: lock,
    };
    let base = name
        .rsplit_once('.')
        .map(|(stem, _)| stem.replace("%2F", "/").replace("%25", "%"))
        .unwrap_or_default();
    match repo::branch_tip(repo, &base)? {
        Some(tip) => slot.recreate(repo, tip),
        None => {
            let registry = context::registry(repo);
            let _registration = registry.lock_worktree_registration()?;
            forget_registration(repo.common_dir(), dir);
            std::fs::remove_dir_all(dir)
                .or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                })
                .map_err(Error::io(format!("removing {}", dir.display())))
        }
    }
}
