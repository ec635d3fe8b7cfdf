//! Tamper evidence: every change `git agent` makes to an agent's rights is
//! sealed with an HMAC-SHA256 keyed by a secret outside every repository,
//! so an entry widened by hand in `agents.json` (or a gate disabled by
//! hand) is told apart from one the orchestrator set.
//!
//! The seal record, `<common>/git-agent/seals.json`, keeps the sealed values
//! themselves, so what changed can be named and put back. Its MAC covers
//! every record and the repository's common directory, so a record cannot
//! be edited, nor copied from another repository.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::policy::manifest::Role;
use crate::state::registry::{Agent, Mode};

/// Length of the key in bytes; the file holds it as hex.
const KEY_LEN: usize = 32;
/// Domain separation: a MAC of this format is never valid for another.
const CONTEXT: &[u8] = b"git-agent seal v1\n";

/// What defines an agent's rights, as `git agent` last set them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub branch: String,
    pub path: PathBuf,
    pub base: String,
    pub scope: Vec<String>,
    pub areas: Vec<String>,
    pub role: Role,
    pub mode: Mode,
    /// What decides the gate's reach in the agent's directory; `None` when
    /// the directory did not exist when sealed.
    pub gate: Option<Gate>,
}

/// The gate as git sees it from the agent's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    /// The directory git runs hooks from (`core.hooksPath` from any config
    /// level, the worktree's `config.worktree` included).
    pub hooks_dir: PathBuf,
    /// Per gate hook (`pre-commit`, `reference-transaction`): a digest of
    /// its bytes and executable bit, `None` when it did not exist.
    pub hooks: BTreeMap<String, Option<String>>,
    /// `core.ignoreCase` as set, which decides whether the gate folds case.
    pub ignore_case: Option<String>,
}

impl Sealed {
    pub fn of(agent: &Agent, gate: Option<Gate>) -> Sealed {
        Sealed {
            branch: agent.branch.clone(),
            path: agent.path.clone(),
            base: agent.base.clone(),
            scope: agent.scope.clone(),
            areas: agent.areas.clone(),
            role: agent.role,
            mode: agent.mode,
            gate,
        }
    }

    /// Put the sealed values back into `agent`.
    pub fn restore_into(&self, agent: &mut Agent) {
        agent.branch = self.branch.clone();
        agent.path = self.path.clone();
        agent.base = self.base.clone();
        agent.scope = self.scope.clone();
        agent.areas = self.areas.clone();
        agent.role = self.role;
        agent.mode = self.mode;
    }
}

pub type Seals = BTreeMap<String, Sealed>;

/// The seal record as found on disk.
#[derive(Debug)]
pub enum Record {
    /// No record: nothing was ever sealed here, or it was deleted.
    Missing,
    /// The record does not verify: edited, copied, or sealed with another key.
    Forged(String),
    Valid(Seals),
}

#[derive(Serialize, Deserialize)]
struct SealFile {
    version: u32,
    seals: Seals,
    mac: String,
}

/// The secret the seals are keyed with.
pub struct Key(Vec<u8>);

/// Where the key lives: `$XDG_CONFIG_HOME/git-agent/seal.key`, else
/// `~/.config/git-agent/seal.key`.
pub fn key_path() -> Result<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let config = match (xdg, home) {
        (Some(x), _) => x,
        (None, Some(h)) => h.join(".config"),
        (None, None) => {
            return Err(Error::usage(
                "cannot find the seal key: neither XDG_CONFIG_HOME nor HOME is set to an absolute path",
                "set HOME (or XDG_CONFIG_HOME) so git-agent can keep its seal key under it",
            ));
        }
    };
    Ok(config.join("git-agent").join("seal.key"))
}

fn key_error(path: &Path, problem: impl Into<String>, help: impl Into<String>) -> Error {
    Error::SealKey {
        path: path.display().to_string(),
        problem: problem.into(),
        help: help.into(),
    }
}

const RECREATE: &str = "move it aside (the next git-agent command creates a new key), then run `git agent doctor --reseal` in each repository after checking its agents with `git agent list -l`";

impl Key {
    /// The key, created (mode 0600, in a 0700 directory) on first use.
    pub fn load_or_create() -> Result<Key> {
        let path = key_path()?;
        match Key::read(&path)? {
            Some(key) => Ok(key),
            None => Key::create(&path),
        }
    }

    fn read(path: &Path) -> Result<Option<Key>> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(key_error(path, format!("cannot be read: {e}"), RECREATE)),
        };
        if !meta.is_file() {
            return Err(key_error(path, "is not a regular file", RECREATE));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(key_error(
                    path,
                    format!("is readable or writable by other users (mode {mode:o})"),
                    format!(
                        "make it private with `chmod 600 {}`; if others may have read it, {RECREATE}",
                        path.display()
                    ),
                ));
            }
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| key_error(path, format!("cannot be read: {e}"), RECREATE))?;
        match decode_hex(text.trim_end_matches('\n')) {
            Some(bytes) if bytes.len() == KEY_LEN => Ok(Some(Key(bytes))),
            _ => Err(key_error(
                path,
                format!("is not a seal key ({} hex digits expected)", KEY_LEN * 2),
                RECREATE,
            )),
        }
    }

    /// Create the key atomically: written in full to a private temporary
    /// file, then linked into place, which fails if another process got
    /// there first (then its key is the one).
    fn create(path: &Path) -> Result<Key> {
        let dir = path.parent().expect("key path has a directory");
        create_private_dir(dir)?;
        let mut bytes = vec![0u8; KEY_LEN];
        getrandom::fill(&mut bytes).map_err(|e| {
            key_error(
                path,
                format!("cannot be created: no randomness ({e})"),
                "retry",
            )
        })?;
        let tmp = tempfile::Builder::new()
            .prefix(".seal.key.")
            .tempfile_in(dir)
            .map_err(|e| {
                key_error(
                    path,
                    format!("cannot be created: {e}"),
                    "check that the directory is writable",
                )
            })?;
        let written = (|| {
            let mut f = tmp.as_file();
            f.write_all(format!("{}\n", encode_hex(&bytes)).as_bytes())?;
            f.sync_all()?;
            std::fs::hard_link(tmp.path(), path)
        })();
        match written {
            Ok(()) => Ok(Key(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Key::read(path)?
                .ok_or_else(|| key_error(path, "vanished while being created", "retry")),
            Err(e) => Err(key_error(
                path,
                format!("cannot be created: {e}"),
                "check that the directory is writable",
            )),
        }
    }

    fn mac(&self, common_dir: &Path, seals: &Seals) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(CONTEXT);
        mac.update(common_dir.as_os_str().as_encoded_bytes());
        mac.update(b"\n");
        mac.update(&serde_json::to_vec(seals).expect("seals serialise"));
        mac
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(Error::io(format!("creating {}", dir.display())))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))
}

/// The seal record of one repository.
pub struct Store {
    file: PathBuf,
    common_dir: PathBuf,
}

impl Store {
    pub fn new(common_dir: &Path) -> Store {
        Store {
            file: common_dir.join("git-agent").join("seals.json"),
            common_dir: std::fs::canonicalize(common_dir).unwrap_or_else(|_| common_dir.to_owned()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.file
    }

    pub fn load(&self, key: &Key) -> Result<Record> {
        let bytes = match std::fs::read(&self.file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Record::Missing),
            Err(e) => return Err(Error::io(format!("reading {}", self.file.display()))(e)),
        };
        let Ok(parsed) = serde_json::from_slice::<SealFile>(&bytes) else {
            return Ok(Record::Forged("it is not a seal record".into()));
        };
        let Some(tag) = decode_hex(&parsed.mac) else {
            return Ok(Record::Forged("its MAC is malformed".into()));
        };
        if parsed.version != 1
            || key
                .mac(&self.common_dir, &parsed.seals)
                .verify_slice(&tag)
                .is_err()
        {
            return Ok(Record::Forged(
                "its MAC does not verify (edited by hand, copied from elsewhere, or sealed with another key)".into(),
            ));
        }
        Ok(Record::Valid(parsed.seals))
    }

    /// Replace the record. Callers hold the registry's lock.
    pub fn write(&self, key: &Key, seals: &Seals) -> Result<()> {
        let dir = self.file.parent().expect("seal file has a parent");
        std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        let mac = encode_hex(&key.mac(&self.common_dir, seals).finalize().into_bytes());
        let body = serde_json::to_string_pretty(&SealFile {
            version: 1,
            seals: seals.clone(),
            mac,
        })
        .expect("seal record serialises");
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(Error::io("creating a temporary seal record"))?;
        tmp.write_all(body.as_bytes())
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(Error::io("writing the seal record"))?;
        tmp.persist(&self.file)
            .map_err(|e| Error::io(format!("replacing {}", self.file.display()))(e.error))?;
        Ok(())
    }
}

/// A digest of a file's bytes (SHA-256, hex), with its executable bit.
pub fn file_digest(path: &Path) -> Option<String> {
    use sha2::Digest;
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return None;
        }
        // git cannot run it either: a change like any other.
        Err(e) => return Some(format!("unreadable ({})", e.kind())),
    };
    let digest = encode_hex(&Sha256::digest(&bytes));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let exec = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
        if !exec {
            return Some(format!("{digest} (not executable)"));
        }
    }
    Some(digest)
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        assert_eq!(
            decode_hex(&encode_hex(&[0, 1, 254, 255])),
            Some(vec![0, 1, 254, 255])
        );
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
