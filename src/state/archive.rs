//! Archives of removed agents: `refs/agent-archive/NAME/<UTC timestamp>`.
//!
//! The archive commit has the branch tip as its first parent. When the
//! worktree had uncommitted or untracked files, its tree is the worktree
//! (untracked, non-ignored files included) and its second parent a commit of
//! the index, as `git stash --include-untracked` keeps them. Its message
//! carries the registry entry, so `restore` can rebuild the agent.

use std::path::Path;

use gix::ObjectId;

use crate::error::{Error, GitContext, Result};
use crate::git;
use crate::state::registry::Agent;

pub const PREFIX: &str = "refs/agent-archive/";
const METADATA: &str = "Agent-Metadata: ";

/// `YYYYMMDDTHHMMSSZ` for `secs` since the Unix epoch.
pub fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Write the archive of `agent` and return its ref name. `tip` is the
/// branch tip (or the worktree's HEAD when the branch is gone).
pub fn write(
    repo: &gix::Repository,
    agent: &Agent,
    tip: ObjectId,
    worktree_dirty: bool,
) -> Result<String> {
    let meta = serde_json::to_string(agent).expect("serialises");
    let message = format!(
        "git-agent: archive of agent {}\n\nRestore with: git agent restore {}\n\n{METADATA}{meta}\n",
        agent.name, agent.name
    );
    let commit = if worktree_dirty {
        snapshot_worktree(&agent.path, tip, &message)?
    } else {
        commit_tree(
            &agent.path,
            repo,
            &tree_of(&agent.branch_repo(repo)?, tip)?,
            &[tip],
            &message,
        )?
    };
    let name = free_name(repo, &agent.name)?;
    if agent.mode == crate::state::registry::Mode::Clone {
        // The commits live in the clone: fetch them into this repository,
        // so the archive outlives the clone.
        let pending = "refs/agent-archive/pending";
        // Written with gix, not `git update-ref`: git would run the ref
        // guard's hook, which refuses this ref in the agent's clone.
        gix::open(&agent.path)
            .git("opening the agent's clone")?
            .reference(
                pending,
                commit,
                gix::refs::transaction::PreviousValue::Any,
                format!("git-agent: archive {}", agent.name),
            )
            .git("writing the archive's pending ref")?;
        let refspec = format!("{pending}:{name}");
        let clone = agent.path.to_string_lossy().into_owned();
        git::run(
            repo.git_dir(),
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                &clone,
                &refspec,
            ],
        )?;
        return Ok(name);
    }
    repo.reference(
        name.as_str(),
        commit,
        gix::refs::transaction::PreviousValue::MustNotExist,
        format!("git-agent: archive {}", agent.name),
    )
    .git("writing the archive ref")?;
    Ok(name)
}

/// `refs/agent-archive/NAME/<UTC timestamp>`, made unique: two removals in
/// one second keep both archives.
fn free_name(repo: &gix::Repository, agent: &str) -> Result<String> {
    let stamp = utc_stamp(crate::state::registry::now_unix());
    let mut name = format!("{PREFIX}{agent}/{stamp}");
    let mut n = 1;
    while repo
        .try_find_reference(name.as_str())
        .git("looking up archives")?
        .is_some()
    {
        n += 1;
        name = format!("{PREFIX}{agent}/{stamp}-{n}");
    }
    Ok(name)
}

fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<String> {
    Ok(repo
        .find_commit(commit)
        .git("reading a commit")?
        .tree_id()
        .git("reading a tree")?
        .to_string())
}

fn commit_tree(
    dir: &Path,
    repo: &gix::Repository,
    tree: &str,
    parents: &[ObjectId],
    message: &str,
) -> Result<ObjectId> {
    let dir = if dir.is_dir() {
        dir.to_owned()
    } else {
        repo.git_dir().to_owned()
    };
    let mut args = vec!["commit-tree".to_owned(), tree.to_owned()];
    for p in parents {
        args.push("-p".into());
        args.push(p.to_string());
    }
    args.push("-m".into());
    args.push(message.to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = git::run(&dir, &args)?;
    ObjectId::from_hex(out.trim().as_bytes()).git("reading the new commit id")
}

/// Commit the worktree at `dir` as `git stash --include-untracked` would,
/// without touching its index or files: git does the staging, into a
/// temporary copy of the index (gix never writes a user's index).
fn snapshot_worktree(dir: &Path, head: ObjectId, message: &str) -> Result<ObjectId> {
    let repo = gix::open(dir).git("opening the agent's worktree")?;
    let index_tree = git::run(dir, &["write-tree"])
        .map(|s| s.trim().to_owned())
        // An index with conflicts has no tree; keep HEAD's.
        .or_else(|_| tree_of(&repo, head))?;
    let index_commit = commit_tree(
        dir,
        &repo,
        &index_tree,
        &[head],
        "git-agent: index at archive time",
    )?;
    let tmp = tempfile::Builder::new()
        .prefix("git-agent-index.")
        .tempdir()
        .map_err(Error::io("creating a temporary directory"))?;
    let tmp_index = tmp.path().join("index");
    let real_index = repo.index_path();
    if real_index.exists() {
        std::fs::copy(&real_index, &tmp_index).map_err(Error::io("copying the index"))?;
    }
    let with_tmp_index = |args: &[&str]| -> Result<String> {
        let out = git::command(dir)?
            .args(args)
            .env("GIT_INDEX_FILE", &tmp_index)
            .output()
            .map_err(Error::io(format!("running git {}", args.join(" "))))?;
        if !out.status.success() {
            return Err(Error::GitCommand {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    // Untracked files, but not ignored ones, as `stash --include-untracked`.
    with_tmp_index(&["add", "--all", "--", "."])?;
    let worktree_tree = with_tmp_index(&["write-tree"])?;
    commit_tree(dir, &repo, &worktree_tree, &[head, index_commit], message)
}

/// One archive: its ref, the agent it held, and what to rebuild from.
pub struct Archive {
    pub reference: String,
    pub commit: ObjectId,
    pub agent: Agent,
    /// The branch tip.
    pub tip: ObjectId,
    /// The index commit, when the worktree had uncommitted work.
    pub index: Option<ObjectId>,
}

/// The archives of `name`, oldest first.
pub fn list(repo: &gix::Repository, name: &str) -> Result<Vec<String>> {
    let prefix = format!("{PREFIX}{name}/");
    let refs = repo.references().git("reading refs")?;
    let mut names: Vec<String> = refs
        .prefixed(prefix.as_str())
        .git("reading refs")?
        .filter_map(|r| r.ok())
        .map(|r| r.name().as_bstr().to_string())
        .collect();
    names.sort();
    Ok(names)
}

pub fn read(repo: &gix::Repository, reference: &str) -> Result<Archive> {
    let bad = |why: &str| {
        Error::usage(
            format!("{reference} is not a git-agent archive: {why}"),
            "list the archives with `git for-each-ref refs/agent-archive/`",
        )
    };
    let id = repo
        .rev_parse_single(reference)
        .map_err(|_| bad("no such ref"))?
        .detach();
    let commit = repo.find_commit(id).map_err(|_| bad("not a commit"))?;
    let message = commit.message_raw_sloppy().to_string();
    let meta = message
        .lines()
        .find_map(|l| l.strip_prefix(METADATA))
        .ok_or_else(|| bad("its message has no Agent-Metadata line"))?;
    let agent: Agent =
        serde_json::from_str(meta).map_err(|_| bad("its Agent-Metadata line is not readable"))?;
    let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
    let tip = *parents.first().ok_or_else(|| bad("it has no parent"))?;
    Ok(Archive {
        reference: reference.to_owned(),
        commit: id,
        agent,
        tip,
        index: parents.get(1).copied(),
    })
}
