//! The single-writer lease: while `git agent exec NAME` runs a command in
//! an agent's directory, it holds `<common>/git-agent/leases/NAME.json`.
//! A second writer is refused; a lease whose process is gone is taken over.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::registry::{now_unix, process_is_gone};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub pid: u32,
    pub command: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
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
    Ok(read(&lease_path(common_dir, agent))?.filter(|l| !process_is_gone(l.pid)))
}

/// A lease file whose process is gone (for `doctor`).
pub fn stale(common_dir: &Path, agent: &str) -> Result<Option<Lease>> {
    Ok(read(&lease_path(common_dir, agent))?.filter(|l| process_is_gone(l.pid)))
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
                Some(l) if !process_is_gone(l.pid) => return Ok(Err(l)),
                Some(_) => {
                    // Its process is gone: take it over. Move it aside first,
                    // so that of two processes taking over, one cannot delete
                    // the lease the other has just written.
                    let aside = dir.join(format!("{agent}.json.stale.{}", std::process::id()));
                    if std::fs::rename(&path, &aside).is_ok() {
                        match read(&aside)? {
                            Some(l) if !process_is_gone(l.pid) => {
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
