//! Opening the repository and reading what every command needs from it:
//! the base branch, the policy committed on it, and the agent whose
//! worktree we are in.

use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

use crate::error::{Error, GitContext, Result};
use crate::policy::manifest::{MANIFEST_FILE, Manifest};

/// Open the repository containing `dir`, honouring `GIT_DIR`,
/// `GIT_WORK_TREE` and `GIT_INDEX_FILE` (a pre-commit hook of `git commit -a`
/// or `git commit PATH` runs with a temporary index named by the latter).
pub fn open(dir: &Path) -> Result<gix::Repository> {
    gix::discover_with_environment_overrides(dir)
        .map_err(|e| Error::NotARepository(format!("{}: {e}", dir.display())))
}

/// `core.ignoreCase`, which decides whether scope matching folds case.
pub fn ignore_case(repo: &gix::Repository) -> bool {
    repo.config_snapshot()
        .boolean("core.ignoreCase")
        .unwrap_or(false)
}

/// Where to run a git command that acts on the whole repository: the main
/// worktree, or the common directory when it is bare.
pub fn home_for_commands(repo: &gix::Repository) -> PathBuf {
    main_workdir(repo).unwrap_or_else(|| repo.common_dir().to_owned())
}

/// The root of the main worktree (where `.git` lives), if the repository has one.
pub fn main_workdir(repo: &gix::Repository) -> Option<PathBuf> {
    match repo.main_repo() {
        Ok(main) => main.workdir().map(Path::to_owned),
        Err(_) => None,
    }
}

/// The commit at the tip of local branch `base`, if it exists.
/// Delete the ref `full` (`refs/heads/...`) if it is still at `old`;
/// gone already is fine. git deletes it, not gix: gix reads `packed-refs`
/// before it locks them, so two deletions at once can write back a ref the
/// other deleted, or fail ("Could not commit packed-ref transaction", seen
/// in the soak test); git locks first.
pub fn delete_ref(repo: &gix::Repository, full: &str, old: gix::ObjectId) -> Result<()> {
    crate::git::run(
        repo.common_dir(),
        &["update-ref", "--no-deref", "-d", full, &old.to_string()],
    )
    .map(drop)
}

/// [`delete_ref`] of the ref `full` as it is now, if it exists.
pub fn delete_ref_if_present(repo: &gix::Repository, full: &str) -> Result<()> {
    let found = repo
        .try_find_reference(full)
        .git("looking up the branch")?
        .and_then(|r| r.target().try_id().map(|id| id.to_owned()));
    match found {
        Some(old) => delete_ref(repo, full, old),
        None => Ok(()),
    }
}

pub fn branch_tip(repo: &gix::Repository, base: &str) -> Result<Option<gix::ObjectId>> {
    let name = format!("refs/heads/{base}");
    let Some(mut reference) = repo
        .try_find_reference(name.as_str())
        .git("looking up the base branch")?
    else {
        return Ok(None);
    };
    let id = reference.peel_to_id().git("resolving the base branch")?;
    Ok(Some(id.detach()))
}

/// The policy as committed on branch `base`. A base without a manifest, or a
/// repository without commits, has the empty policy.
pub fn load_policy(repo: &gix::Repository, base: &str) -> Result<Manifest> {
    let Some(tip) = branch_tip(repo, base)? else {
        return Err(Error::UnknownBase {
            base: base.to_owned(),
        });
    };
    load_policy_at(repo, tip, &format!("{MANIFEST_FILE} on {base}"))
}

/// The policy committed in `commit`'s tree.
pub fn load_policy_at(
    repo: &gix::Repository,
    commit: gix::ObjectId,
    origin: &str,
) -> Result<Manifest> {
    match committed_manifest_text(repo, commit)? {
        Some(text) => Manifest::parse(&text, origin),
        None => Ok(Manifest::default()),
    }
}

pub fn committed_manifest_text(
    repo: &gix::Repository,
    commit: gix::ObjectId,
) -> Result<Option<String>> {
    let tree = repo
        .find_commit(commit)
        .git("reading the base commit")?
        .tree()
        .git("reading the base tree")?;
    let Some(entry) = tree
        .lookup_entry_by_path(MANIFEST_FILE)
        .git("looking up the policy")?
    else {
        return Ok(None);
    };
    // Refuse an oversized blob before reading it into memory.
    let size = repo
        .find_header(entry.object_id())
        .git("reading the policy's size")?
        .size();
    if size > crate::policy::manifest::MAX_MANIFEST_BYTES as u64 {
        return Err(crate::policy::manifest::oversized(size, MANIFEST_FILE));
    }
    let blob = entry.object().git("reading the policy")?;
    Ok(Some(blob.data.to_str_lossy().into_owned()))
}

/// The base branch when none is given: `defaults.base` of the manifest
/// committed at HEAD, else the branch checked out in the main worktree, else
/// `init.defaultBranch`, else `main`.
pub fn default_base(repo: &gix::Repository) -> Result<String> {
    if let Ok(head) = repo.head_id()
        && let Ok(Some(text)) = committed_manifest_text(repo, head.detach())
        && let Ok(m) = Manifest::parse(&text, MANIFEST_FILE)
        && let Some(base) = m.defaults.base
    {
        return Ok(base);
    }
    if let Ok(main) = repo.main_repo()
        && let Ok(Some(name)) = main.head_name()
        && let Some(short) = name
            .as_bstr()
            .to_str()
            .ok()
            .and_then(|n| n.strip_prefix("refs/heads/"))
    {
        return Ok(short.to_owned());
    }
    if let Some(name) = repo.config_snapshot().string("init.defaultBranch") {
        return Ok(name.to_str_lossy().into_owned());
    }
    Ok("main".to_owned())
}

/// The short name of the branch checked out here, if HEAD is on a branch.
pub fn current_branch(repo: &gix::Repository) -> Option<String> {
    let name = repo.head_name().ok()??;
    name.as_bstr()
        .to_str()
        .ok()?
        .strip_prefix("refs/heads/")
        .map(str::to_owned)
}

/// In an agent's clone, this config key names the git directory of the
/// repository it belongs to, which holds the registry and the policy.
pub const HOME_KEY: &str = "gitagent.home";

/// The repository that holds the registry and the policy: for an agent's
/// clone, the repository it was cloned from; `None` means `repo` itself.
pub fn control(repo: &gix::Repository) -> Result<Option<gix::Repository>> {
    let Some(home) = repo.config_snapshot().trusted_path(HOME_KEY).ok().flatten() else {
        return Ok(None);
    };
    gix::open(&home).map(Some).map_err(|e| {
        Error::NotARepository(format!(
            "{} (the repository this clone belongs to): {e}",
            home.display()
        ))
    })
}

/// The repository whose registry and policy a command run in `dir` works
/// on: `dir`'s own, or for an agent's clone, the repository it belongs to.
/// Every command that reads the registry from where it runs opens it here,
/// so all of them agree on it.
pub fn open_home(dir: &Path) -> Result<gix::Repository> {
    let here = open(dir)?;
    Ok(control(&here)?.unwrap_or(here))
}

/// A commit's summary: the first line of its message, lossily UTF-8.
pub fn summary(commit: &gix::Commit<'_>) -> String {
    use gix::bstr::ByteSlice;
    commit
        .message_raw_sloppy()
        .lines()
        .next()
        .map(|l| l.to_str_lossy().into_owned())
        .unwrap_or_default()
}
