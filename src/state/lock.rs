//! The one lock for git-agent's own state files: the registry, a base's
//! landing, and worktree registration.
//!
//! A lock is an exclusive `flock(2)` (`LockFileEx` on Windows) on a lock file that is never removed.
//! The kernel releases it when its owner's descriptor closes, which happens
//! when the owner drops it or dies however it dies. So a lock is released
//! only by its owner, a dead owner's lock is never in the way, and there is
//! no stale lock to take over: two processes cannot both "take over" one,
//! as they could when a lock was a file whose existence meant "held" and a
//! dead owner's file had to be removed by someone else.
//!
//! The file records the owner's pid, for people reading it; nothing
//! decides on it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Held while it lives; dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// How long to wait for another process's lock; `GIT_AGENT_LOCK_TIMEOUT_MS`
/// overrides it (tests use a short one).
fn timeout() -> Duration {
    std::env::var("GIT_AGENT_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(20))
}

/// Take the lock at `path`, waiting for its owner to release it; after the
/// timeout, fail with [`Error::RegistryLocked`].
pub fn acquire(path: &Path) -> Result<Lock> {
    let start = Instant::now();
    let limit = timeout();
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(lock) = try_acquire(path)? {
            return Ok(lock);
        }
        if start.elapsed() > limit {
            return Err(Error::RegistryLocked {
                path: path.display().to_string(),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Take the lock at `path` if nobody holds it.
pub fn try_acquire(path: &Path) -> Result<Option<Lock>> {
    let io = |e| Error::io(format!("locking {}", path.display()))(e);
    loop {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        if !lock_exclusive(&file).map_err(io)? {
            return Ok(None);
        }
        // Someone removed or replaced the file between our open and our
        // lock: we hold a lock nobody else will look at. Take the new one.
        if !same_file(&file, path) {
            continue;
        }
        let _ = file
            .set_len(0)
            .and_then(|_| writeln!(file, "{}", std::process::id()));
        return Ok(Some(Lock { _file: file }));
    }
}

/// The path of a lock file in `dir` named `name`, creating `dir`.
pub fn path_in(dir: &Path, name: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    Ok(dir.join(name))
}

fn lock_exclusive(file: &File) -> std::io::Result<bool> {
    // flock(2) on Unix, LockFileEx on Windows.
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    // A file open here cannot be removed on Windows.
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    fn dead_pid() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    }

    /// A lock file left by a process that died holding it.
    fn stale(dir: &Path) -> PathBuf {
        let path = dir.join("x.lock");
        std::fs::write(&path, format!("{}\n", dead_pid())).unwrap();
        path
    }

    #[test]
    fn a_dead_owners_lock_is_taken_and_records_the_new_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = stale(dir.path());
        let lock = try_acquire(&path).unwrap();
        assert!(lock.is_some());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
    }

    #[test]
    fn of_many_racing_for_a_stale_lock_exactly_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = stale(dir.path());
        for _ in 0..20 {
            // Never two winners. None at all happens only while a process
            // another test forks still shares the last round's descriptor
            // (until it execs): then the round is run again.
            let winners = (0..50)
                .map(|_| race(&path, 8))
                .find(|&w| w != 0)
                .unwrap_or(0);
            assert_eq!(winners, 1);
        }
    }

    /// `threads` threads try to take the lock at `path` at once, holding
    /// what they got until all have tried; how many got it.
    fn race(path: &Path, threads: usize) -> usize {
        let start = Arc::new(Barrier::new(threads));
        let winners = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (path, start, winners) = (path.to_owned(), start.clone(), winners.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let lock = try_acquire(&path).unwrap();
                    if lock.is_some() {
                        winners.fetch_add(1, Ordering::SeqCst);
                    }
                    // Hold it until every thread has tried.
                    start.wait();
                    drop(lock);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        winners.load(Ordering::SeqCst)
    }

    #[test]
    fn a_live_owners_lock_is_not_taken_until_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = try_acquire(&path).unwrap().unwrap();
        assert!(try_acquire(&path).unwrap().is_none());
        // Whatever the file says, the lock is the owner's.
        std::fs::write(&path, format!("{}\n", dead_pid())).unwrap();
        assert!(try_acquire(&path).unwrap().is_none());
        drop(held);
        assert!(taken_after_release(&path));
    }

    /// A process another test forks at the moment of release shares the
    /// open file until it execs (the descriptor is close-on-exec), so the
    /// release may take a moment to be seen.
    fn taken_after_release(path: &std::path::Path) -> bool {
        (0..200).any(|_| {
            let got = try_acquire(path).unwrap().is_some();
            if !got {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            got
        })
    }

    #[test]
    fn nobody_but_the_owner_releases_a_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = try_acquire(&path).unwrap().unwrap();
        // A waiter that gives up, dropping nothing it owns, releases nothing.
        std::thread::scope(|s| {
            s.spawn(|| assert!(try_acquire(&path).unwrap().is_none()));
        });
        assert!(try_acquire(&path).unwrap().is_none());
        drop(held);
        assert!(taken_after_release(&path));
    }
}
