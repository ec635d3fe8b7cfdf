//! The registry of live agents: one JSON file inside the git common
//! directory (`<common>/git-agent/agents.json`), outside every worktree.
//!
//! Readers see a consistent file because writers replace it by rename.
//! Writers serialise on a [lock](crate::state::lock), which the kernel
//! releases when its owner dies, so a killed command cannot wedge the
//! registry.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::policy::manifest::Role;
use crate::state::lock::{self, Lock};

/// How the agent's working directory was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Worktree,
    Clone,
}

/// Whether `add` finished. An entry left `adding` means an `add` was
/// interrupted; `git agent doctor` finishes or rolls it back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Adding,
    #[default]
    Ready,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub name: String,
    /// Short branch name, `agent/NAME`.
    pub branch: String,
    /// Absolute path of the agent's working directory.
    pub path: PathBuf,
    /// Short name of the base branch.
    pub base: String,
    /// Patterns given with `--scope` or `scope set|add`.
    #[serde(default)]
    pub scope: Vec<String>,
    /// Areas of the policy, resolved against the base's manifest at check
    /// time so that a committed policy change takes effect.
    #[serde(default)]
    pub areas: Vec<String>,
    #[serde(default)]
    pub task: Option<String>,
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub state: State,
    /// Seconds since the Unix epoch.
    #[serde(default)]
    pub created: u64,
    /// `GIT_AGENT_PORT` for `exec`: fixed at `add`, unique among agents.
    #[serde(default)]
    pub port: Option<u16>,
    /// The process running `add` while the entry is `adding`: `doctor`
    /// leaves an add whose process is alive alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adding_pid: Option<u32>,
    /// A `setup` command failed when the agent was added.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub setup_failed: bool,
    /// Its worktree checks out only its scope and the policy's `context`
    /// (`add --sparse`); `restore` and `doctor` make it sparse again.
    /// Not sealed: it decides what is checked out, never what may change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sparse: bool,
}

impl Agent {
    /// The repository holding the agent's branch: its clone, or `control`
    /// itself for a worktree. A clone borrows `control`'s objects (it is
    /// made with `--shared`), so commits of both are readable through it.
    pub fn branch_repo(&self, control: &gix::Repository) -> Result<gix::Repository> {
        use crate::error::GitContext;
        match self.mode {
            Mode::Worktree => Ok(control.clone()),
            Mode::Clone => gix::open(&self.path).git("opening the agent's clone"),
        }
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or_else(|| default_port(&self.name))
    }
}

/// A stable port per agent name, in 20000..30000.
pub fn default_port(name: &str) -> u16 {
    // FNV-1a: stable across Rust versions, unlike the std hasher.
    let mut hash: u32 = 0x811c9dc5;
    for b in name.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x01000193);
    }
    20000 + (hash % 10000) as u16
}

/// The agent's stable port, moved past ports other agents already have.
pub fn free_port(name: &str, agents: &Agents) -> u16 {
    let taken: std::collections::HashSet<u16> = agents
        .values()
        .filter(|a| a.name != name)
        .map(Agent::port)
        .collect();
    let mut port = default_port(name);
    while taken.contains(&port) {
        port = if port >= 29999 { 20000 } else { port + 1 };
    }
    port
}

#[derive(Serialize, Deserialize)]
struct RegistryFile {
    version: u32,
    agents: BTreeMap<String, Agent>,
}

pub type Agents = BTreeMap<String, Agent>;

pub struct Registry {
    file: PathBuf,
}

impl Registry {
    pub fn new(common_dir: &Path) -> Registry {
        Registry {
            file: common_dir.join("git-agent").join("agents.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.file
    }

    fn dir(&self) -> &Path {
        self.file.parent().expect("registry file has a parent")
    }

    /// Hold this while registering a worktree: gix reads every other
    /// worktree's registration while adding one and fails on one that
    /// another process is half-way through writing.
    pub fn lock_worktree_registration(&self) -> Result<Lock> {
        lock::acquire(&lock::path_in(self.dir(), "worktrees.lock")?)
    }

    /// Hold this while moving `base` at the end of a landing, so landings on
    /// the same base take turns instead of failing each other's
    /// compare-and-swap.
    pub fn lock_landing(&self, base: &str) -> Result<Lock> {
        let file = format!("land-{}.lock", base.replace('/', "%2F"));
        lock::acquire(&lock::path_in(self.dir(), &file)?)
    }

    /// The agents as last written.
    pub fn load(&self) -> Result<Agents> {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Agents::new()),
            Err(e) => return Err(Error::io(format!("reading {}", self.file.display()))(e)),
        };
        let parsed: RegistryFile =
            serde_json::from_str(&text).map_err(|e| Error::RegistryCorrupt {
                path: self.file.display().to_string(),
                why: e.to_string(),
            })?;
        Ok(parsed.agents)
    }

    /// Read the registry under its writers' lock: what a writer writes
    /// beside it under that lock (the seals) agrees with it meanwhile.
    pub fn read_locked<T>(&self, read: impl FnOnce(&Agents) -> Result<T>) -> Result<T> {
        let _lock = lock::acquire(&lock::path_in(self.dir(), "agents.json.lock")?)?;
        read(&self.load()?)
    }

    /// Read, change and write the registry under its lock. When `change`
    /// fails, nothing is written.
    pub fn update<T>(&self, change: impl FnOnce(&mut Agents) -> Result<T>) -> Result<T> {
        let dir = self.dir();
        let _lock = lock::acquire(&lock::path_in(dir, "agents.json.lock")?)?;
        let mut agents = self.load()?;
        let result = change(&mut agents)?;
        let body = serde_json::to_string_pretty(&RegistryFile { version: 1, agents })
            .expect("registry serialises");
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(Error::io("creating a temporary registry file"))?;
        tmp.write_all(body.as_bytes())
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(Error::io("writing the registry"))?;
        crate::state::crash::point("registry:before-rename");
        tmp.persist(&self.file)
            .map_err(|e| Error::io(format!("replacing {}", self.file.display()))(e.error))?;
        Ok(result)
    }
}

/// The refusal for a command on agent `name` while `add` or `restore` is
/// still making it: its checkout may be half-written, its entry unsealed.
pub fn not_ready(name: &str, command: &str) -> crate::error::RefusalReport {
    crate::error::RefusalReport::new(
        "not_ready",
        format!(
            "refusing to {command} '{name}': `git agent add` or `restore` is still making it\n  \
             wait for it to finish; if it was interrupted, `git agent doctor --fix` rolls it back"
        ),
    )
}

/// Whether no process `pid` exists: Linux looks in /proc, other unixes ask
/// the kernel with signal 0.
pub fn process_is_gone(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    return gone_by_proc(pid);
    #[cfg(all(unix, not(target_os = "linux")))]
    return gone_by_signal(pid);
    #[cfg(not(unix))]
    {
        // Without a liveness check, never take a lock over; the timeout
        // error tells the user what to remove.
        let _ = pid;
        false
    }
}

#[cfg(target_os = "linux")]
fn gone_by_proc(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// The portable check, which the tests also run on Linux.
#[cfg(all(unix, any(test, not(target_os = "linux"))))]
fn gone_by_signal(pid: u32) -> bool {
    // 0 would mean our own process group, and no process has a larger pid
    // than pid_t holds.
    let Some(pid) = libc::pid_t::try_from(pid).ok().filter(|p| *p > 0) else {
        return true;
    };
    // Signal 0 sends nothing; EPERM means the process exists but is
    // another user's.
    // SAFETY: kill with signal 0 has no effect on any process.
    let sent = unsafe { libc::kill(pid, 0) } == 0;
    !sent && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

#[cfg(all(test, target_os = "linux"))]
mod liveness_tests {
    /// Both ways agree, on a live process, a dead one and impossible pids.
    #[test]
    fn the_portable_check_agrees_with_proc() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let init_or_other_user = 1;
        for pid in [std::process::id(), dead, init_or_other_user, 0, u32::MAX] {
            assert_eq!(
                super::gone_by_signal(pid),
                super::gone_by_proc(pid),
                "pid {pid}"
            );
        }
        assert!(!super::gone_by_signal(std::process::id()));
        assert!(super::gone_by_signal(dead));
    }
}

/// Name validation is policy (the manifest checks names too); kept
/// reachable here for the registry's callers.
pub use crate::policy::names::validate_name;

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
