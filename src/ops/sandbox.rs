//! The write sandbox: a command and all its children may write only below
//! a list of directories, and read everything. On Linux it is Landlock,
//! applied in the child between fork and exec; elsewhere there is none yet.
//!
//! [`prepare`] builds the rules in the parent (opening each directory, so
//! errors are reported before anything runs); [`Sandbox::install`] makes a
//! [`Command`] restrict itself just before it executes. Checks can reuse it
//! with their own roots.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// How hard `--sandbox` insists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Enforcement {
    /// Refuse to run the command where the kernel cannot confine it.
    Strict,
    /// Run it anyway, unconfined, with a warning.
    BestEffort,
}

/// Why no sandbox can be had here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Not Linux: nothing is implemented for this system yet.
    System,
    /// The running kernel has no Landlock, or has it disabled.
    NoLandlock,
    /// Setting up the rules failed.
    Setup(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::System => {
                f.write_str("the write sandbox exists only on Linux (with Landlock) so far")
            }
            Unavailable::NoLandlock => f.write_str(
                "this kernel has no Landlock (Linux 5.13 or later, with `landlock` in the `lsm=` boot list)",
            ),
            Unavailable::Setup(why) => write!(f, "cannot set up the Landlock rules: {why}"),
        }
    }
}

/// Rules ready to apply to a command.
pub struct Sandbox {
    #[cfg(target_os = "linux")]
    ruleset: linux::Ruleset,
    /// The kernel's Landlock ABI version.
    pub abi: i32,
}

impl Sandbox {
    /// What the kernel cannot enforce at this ABI version, if anything.
    pub fn gaps(&self) -> Option<&'static str> {
        match self.abi {
            1 => Some(
                "renaming or linking files between directories is refused everywhere, and truncating files outside the writable directories is not blocked (Landlock ABI 1)",
            ),
            2 => Some(
                "truncating files outside the writable directories is not blocked (Landlock ABI 2)",
            ),
            _ => None,
        }
    }

    /// Make `command` confine itself, and every process it starts, just
    /// before it executes.
    pub fn install(self, command: &mut Command) {
        #[cfg(target_os = "linux")]
        linux::install(self.ruleset, command);
        #[cfg(not(target_os = "linux"))]
        let _ = command;
    }
}

/// Rules letting a command write only below `roots` (missing ones are
/// skipped) and in the few device files every program writes to.
pub fn prepare(roots: &[PathBuf]) -> Result<Sandbox, Unavailable> {
    let abi = kernel_abi().ok_or(Unavailable::NoLandlock)?;
    #[cfg(target_os = "linux")]
    {
        let mut all: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
        all.extend(DEVICES.iter().map(Path::new));
        let ruleset = linux::ruleset(&all).map_err(|e| Unavailable::Setup(e.to_string()))?;
        Ok(Sandbox { ruleset, abi })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (roots, abi);
        Err(Unavailable::System)
    }
}

/// Devices and their directories that programs open for writing as a
/// matter of course (terminals, null, shared memory).
pub const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
];

/// The temporary directories: /tmp, /var/tmp and `$TMPDIR`.
pub fn temporary_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/tmp"), PathBuf::from("/var/tmp")];
    if let Some(dir) = std::env::var_os("TMPDIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    dirs
}

/// The running kernel's Landlock ABI version, `None` without Landlock.
pub fn kernel_abi() -> Option<i32> {
    // Debug builds only: lets the tests see the refusal a kernel without
    // Landlock causes, on a kernel that has it.
    #[cfg(debug_assertions)]
    if std::env::var_os("GIT_AGENT_TEST_NO_LANDLOCK").is_some() {
        return None;
    }
    #[cfg(target_os = "linux")]
    {
        linux::abi()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::path::Path;
    use std::process::Command;

    use landlock::{
        ABI, AccessFs, RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetError,
        RulesetStatus, path_beneath_rules,
    };

    pub type Ruleset = RulesetCreated;

    /// The ABI version, asked of the kernel as landlock_create_ruleset(2)
    /// documents (the crate keeps its own probe private).
    pub fn abi() -> Option<i32> {
        const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
        // SAFETY: with a null attribute, size 0 and the VERSION flag the
        // call only returns a number; it reads and writes no memory.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                LANDLOCK_CREATE_RULESET_VERSION,
            )
        };
        (v > 0).then_some(v as i32)
    }

    /// Handle every write right up to ABI 5 (refer, truncate, ioctl on
    /// devices); the crate drops, best effort, those the kernel predates.
    /// Later ABIs add no write right but restrict sockets, which is not
    /// this sandbox's business.
    pub fn ruleset(roots: &[&Path]) -> Result<RulesetCreated, RulesetError> {
        let write = AccessFs::from_write(ABI::V5);
        landlock::Ruleset::default()
            .handle_access(write)?
            .create()?
            .add_rules(path_beneath_rules(roots, write))
    }

    pub fn install(ruleset: RulesetCreated, command: &mut Command) {
        use std::os::unix::process::CommandExt;
        let mut ruleset = Some(ruleset);
        // SAFETY: between fork and exec the closure only makes the prctl
        // and landlock_restrict_self system calls (the ruleset was built in
        // the parent) and allocates nothing on success.
        unsafe {
            command.pre_exec(move || {
                let Some(ruleset) = ruleset.take() else {
                    return Err(std::io::Error::other("the sandbox was applied twice"));
                };
                match ruleset.restrict_self() {
                    Ok(status) if status.ruleset != RulesetStatus::NotEnforced => Ok(()),
                    Ok(_) => Err(std::io::Error::from_raw_os_error(libc::EOPNOTSUPP)),
                    Err(_) => Err(std::io::Error::last_os_error()),
                }
            });
        }
    }
}

/// What an agent's sandbox lets it write, before the temporary
/// directories and devices.
pub struct AgentRoots<'a> {
    /// The agent's worktree (or clone).
    pub worktree: &'a Path,
    /// Its short branch name, `agent/NAME`.
    pub branch: &'a str,
    /// The scope's directories relative to the worktree, `None` for all of it.
    pub scope_dirs: Option<Vec<&'a str>>,
    /// The policy's `sandbox.writable`, relative to the worktree.
    pub policy_writable: &'a [String],
    /// `--writable DIR`, as the person gave them.
    pub extra: &'a [PathBuf],
}

impl AgentRoots<'_> {
    /// Resolve every root to an existing directory, creating the missing
    /// ones that belong to the worktree or the branch's refs so that a rule
    /// can hold them. A root in the worktree that resolves outside it
    /// (through a symbolic link) is bad input.
    pub fn resolve(&self, agent_repo: &gix::Repository) -> Result<Vec<PathBuf>> {
        let worktree = canonical(self.worktree)?;
        let mut roots = Vec::new();
        let in_worktree = self
            .scope_dirs
            .clone()
            .unwrap_or_else(|| vec![""])
            .into_iter()
            .map(|d| (d, "the scope"))
            .chain(
                self.policy_writable
                    .iter()
                    .map(|w| (w.as_str(), "sandbox.writable")),
            );
        for (rel, origin) in in_worktree {
            let path = worktree.join(rel);
            std::fs::create_dir_all(&path).map_err(Error::io("creating a sandbox directory"))?;
            let real = canonical(&path)?;
            if !real.starts_with(&worktree) {
                return Err(Error::usage(
                    format!(
                        "{} (from {origin}) resolves to {}, outside the agent's worktree",
                        path.display(),
                        real.display()
                    ),
                    "a symbolic link leads out of the worktree: remove it, or name that directory with `--writable DIR`",
                ));
            }
            roots.push(real);
        }
        roots.extend(commit_dirs(agent_repo, self.branch)?);
        for dir in self.extra {
            if !dir.is_dir() {
                return Err(Error::usage(
                    format!("--writable {}: no such directory", dir.display()),
                    "create the directory first, or leave it out",
                ));
            }
            roots.push(canonical(dir)?);
        }
        roots.extend(temporary_dirs());
        Ok(roots)
    }
}

/// What `git commit` in the agent's worktree writes: its own git
/// directory (index, HEAD's reflog, COMMIT_EDITMSG), the object store, and
/// the directory of the branch's loose ref and of its reflog. A clone's
/// git directory is all its own, so it is writable whole.
fn commit_dirs(agent_repo: &gix::Repository, branch: &str) -> Result<Vec<PathBuf>> {
    let git_dir = canonical(agent_repo.git_dir())?;
    let common = canonical(agent_repo.common_dir())?;
    if git_dir == common {
        return Ok(vec![git_dir]);
    }
    let branch_dir = Path::new(branch).parent().unwrap_or(Path::new(""));
    let refs = common.join("refs/heads").join(branch_dir);
    let logs = common.join("logs/refs/heads").join(branch_dir);
    // `pack-refs` may have removed them; git would create them, but that
    // would need the right to write in refs/heads.
    for dir in [&refs, &logs] {
        std::fs::create_dir_all(dir).map_err(Error::io("creating the branch's ref directory"))?;
    }
    Ok(vec![git_dir, common.join("objects"), refs, logs])
}

fn canonical(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).map_err(|e| Error::Io {
        context: format!("resolving {}", path.display()),
        source: e,
    })
}

/// A temporary directory that holds `path`, if one does: a repository
/// there is writable whatever the sandbox says.
pub fn temporary_dir_holding(path: &Path) -> Option<PathBuf> {
    let path = std::fs::canonicalize(path).ok()?;
    temporary_dirs()
        .into_iter()
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .find(|d| path.starts_with(d))
}
