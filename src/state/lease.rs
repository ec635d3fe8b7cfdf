//! The single-writer lease: while `git agent exec NAME` runs a command in
//! an agent's directory, it holds `<common>/git-agent/leases/NAME.json`.
//! A second writer is refused; a lease whose process is gone is taken over.
//!
//! The lease names the command `exec` runs and its process group too: it
//! stays live while `exec`, the command or any process of the command's
//! group lives, so a `kill -9` of `exec` does not free a directory that its
//! command is still writing in.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::registry::now_unix;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The process that took the lease (`exec`, or `rm`/`sync` while they
    /// change the agent's directory).
    pub pid: u32,
    pub command: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
    /// The command `exec` runs, once started.
    #[serde(default)]
    pub child: Option<u32>,
    /// The process group the command runs in, when it is the command's own.
    #[serde(default)]
    pub pgid: Option<u32>,
}

/// How to tell whether a process lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Read `/proc`: a zombie counts as gone (it will never write again,
    /// and in a container nobody may reap it).
    #[cfg(target_os = "linux")]
    Proc,
    /// `kill(pid, 0)` and `killpg(pgid, 0)`: portable to every Unix.
    Signal,
}

impl Probe {
    pub fn native() -> Probe {
        #[cfg(target_os = "linux")]
        return Probe::Proc;
        #[cfg(not(target_os = "linux"))]
        return Probe::Signal;
    }
}

impl Lease {
    /// Whether the holder, its command or the command's group still runs.
    pub fn is_live(&self) -> bool {
        self.is_live_by(Probe::native())
    }

    pub fn is_live_by(&self, probe: Probe) -> bool {
        process_lives(self.pid, probe)
            || self.child.is_some_and(|c| process_lives(c, probe))
            || self.pgid.is_some_and(|g| group_lives(g, probe))
    }

    /// The process to name: the holder while it lives, else its command.
    pub fn shown_pid(&self) -> u32 {
        match self.child {
            Some(child) if !process_lives(self.pid, Probe::native()) => child,
            _ => self.pid,
        }
    }
}

/// Whether process `pid` lives.
pub fn process_lives(pid: u32, probe: Probe) -> bool {
    match probe {
        #[cfg(target_os = "linux")]
        Probe::Proc => proc_stat(pid).is_some_and(|(state, _)| state != 'Z'),
        Probe::Signal => signal_reaches(pid as libc::pid_t),
    }
}

/// Whether any process of group `pgid` lives.
pub fn group_lives(pgid: u32, probe: Probe) -> bool {
    match probe {
        #[cfg(target_os = "linux")]
        Probe::Proc => std::fs::read_dir("/proc").is_ok_and(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(proc_stat)
                .any(|(state, group)| group == pgid && state != 'Z')
        }),
        Probe::Signal => pgid > 1 && signal_reaches(-(pgid as libc::pid_t)),
    }
}

/// The state letter and process group of `pid`, from `/proc/PID/stat`.
#[cfg(target_os = "linux")]
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold anything: the fields
    // we want follow its last ')'.
    let mut fields = text.get(text.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// `kill(target, 0)`: a process (or, negative, a group) exists when the
/// signal could be sent, or when we may not send it (another user's).
fn signal_reaches(target: libc::pid_t) -> bool {
    if target == 0 || target == -1 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; kill(2) has no memory preconditions.
    let sent = unsafe { libc::kill(target, 0) };
    sent == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

pub fn lease_path(common_dir: &Path, agent: &str) -> PathBuf {
    common_dir
        .join("git-agent")
        .join("leases")
        .join(format!("{agent}.json"))
}

/// The live holder of `agent`'s lease, if any. A lease left by a process
/// that is gone reads as no lease.
pub fn holder(common_dir: &Path, agent: &str) -> Result<Option<Lease>> {
    Ok(read(&lease_path(common_dir, agent))?.filter(Lease::is_live))
}

/// A lease file whose process is gone (for `doctor`).
pub fn stale(common_dir: &Path, agent: &str) -> Result<Option<Lease>> {
    Ok(read(&lease_path(common_dir, agent))?.filter(|l| !l.is_live()))
}

fn read(path: &Path) -> Result<Option<Lease>> {
    match std::fs::read_to_string(path) {
        // A lease being written has no content yet: treat it as held by nobody
        // we can name, which `acquire` retries.
        Ok(text) => Ok(serde_json::from_str(&text).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()))(e)),
    }
}

/// Held while the guard lives; dropping it releases the lease.
pub struct Guard {
    path: PathBuf,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Remove it only if it is still ours.
        if let Ok(Some(l)) = read(&self.path)
            && l.pid == std::process::id()
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Guard {
    /// Name the command now running under the lease, and its own process
    /// group (if it has one), so that the lease lives as long as they do.
    pub fn record_command(&self, child: u32, pgid: Option<u32>) -> Result<()> {
        let Some(mut lease) = read(&self.path)? else {
            return Ok(());
        };
        lease.child = Some(child);
        lease.pgid = pgid;
        let dir = self.path.parent().expect("lease has a directory");
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(Error::io("creating a lease"))?;
        tmp.write_all(
            serde_json::to_string(&lease)
                .expect("serialises")
                .as_bytes(),
        )
        .map_err(Error::io("writing a lease"))?;
        tmp.persist(&self.path)
            .map_err(|e| Error::io(format!("writing {}", self.path.display()))(e.error))?;
        Ok(())
    }
}

/// The refusal of a command that needs `agent`'s directory while `holder`
/// holds its lease.
pub fn in_use(agent: &str, holder: &Lease) -> crate::error::RefusalReport {
    crate::error::RefusalReport::new(
        "in_use",
        format!(
            "agent '{agent}' is in use: pid {} holds its lease, running `{}` in its directory; wait for it to finish",
            holder.shown_pid(),
            holder.command
        ),
    )
}

/// Take `agent`'s lease for `command`, or return the live holder.
pub fn acquire(
    common_dir: &Path,
    agent: &str,
    command: &str,
) -> Result<std::result::Result<Guard, Lease>> {
    let path = lease_path(common_dir, agent);
    let dir = path.parent().expect("lease has a directory");
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let mine = Lease {
        pid: std::process::id(),
        command: command.to_owned(),
        since: now_unix(),
        child: None,
        pgid: None,
    };
    for _ in 0..100 {
        // Write the whole lease under a temporary name, then link it into
        // place: the link fails if a lease exists, and a reader never sees
        // a half-written one.
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(Error::io("creating a lease"))?;
        tmp.write_all(serde_json::to_string(&mine).expect("serialises").as_bytes())
            .map_err(Error::io("writing a lease"))?;
        match std::fs::hard_link(tmp.path(), &path) {
            Ok(()) => return Ok(Ok(Guard { path })),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match read(&path)? {
                Some(l) if l.is_live() => return Ok(Err(l)),
                Some(_) => {
                    // Its process is gone: take it over. Move it aside first,
                    // so that of two processes taking over, one cannot delete
                    // the lease the other has just written.
                    let aside = dir.join(format!("{agent}.json.stale.{}", std::process::id()));
                    if std::fs::rename(&path, &aside).is_ok() {
                        match read(&aside)? {
                            Some(l) if l.is_live() => {
                                let _ = std::fs::hard_link(&aside, &path);
                                let _ = std::fs::remove_file(&aside);
                                return Ok(Err(l));
                            }
                            _ => {
                                let _ = std::fs::remove_file(&aside);
                            }
                        }
                    }
                }
                None => std::thread::sleep(std::time::Duration::from_millis(5)),
            },
            Err(e) => return Err(Error::io(format!("creating {}", path.display()))(e)),
        }
    }
    Err(Error::RegistryLocked {
        path: path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes() -> Vec<Probe> {
        #[cfg(target_os = "linux")]
        return vec![Probe::Proc, Probe::Signal];
        #[cfg(not(target_os = "linux"))]
        return vec![Probe::Signal];
    }

    fn lease(pid: u32, child: Option<u32>, pgid: Option<u32>) -> Lease {
        Lease {
            pid,
            command: "x".into(),
            since: 1,
            child,
            pgid,
        }
    }

    /// A finished process's pid, reaped.
    fn dead() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    }

    #[test]
    fn a_lease_lives_while_its_holder_its_command_or_its_group_does() {
        use std::os::unix::process::CommandExt;
        // A group of its own, with a member that outlives its leader.
        let mut leader = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & echo $!; exec sleep 30"])
            .stdout(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(leader.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let member: i32 = line.trim().parse().unwrap();
        let group = leader.id();
        let gone = dead();
        for probe in probes() {
            assert!(process_lives(std::process::id(), probe), "{probe:?}");
            assert!(!process_lives(gone, probe), "{probe:?}");
            assert!(
                lease(gone, Some(group), None).is_live_by(probe),
                "{probe:?}"
            );
            assert!(
                lease(gone, None, Some(group)).is_live_by(probe),
                "{probe:?}"
            );
            assert!(
                !lease(gone, Some(gone), None).is_live_by(probe),
                "{probe:?}"
            );
        }
        // The leader ends; its group lives on in the member.
        unsafe { libc::kill(group as i32, libc::SIGKILL) };
        leader.wait().unwrap();
        for probe in probes() {
            assert!(
                !lease(gone, Some(group), None).is_live_by(probe),
                "{probe:?}"
            );
            assert!(
                lease(gone, Some(group), Some(group)).is_live_by(probe),
                "{probe:?}"
            );
        }
        unsafe { libc::kill(member, libc::SIGKILL) };
        // The member is not our child: wait until whoever reaps it has.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while group_lives(group, Probe::native()) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!lease(gone, Some(group), Some(group)).is_live_by(Probe::native()));
    }
}
