//! `git agent rm` and `git agent restore`: removing an agent never loses
//! work without keeping a way back (SPEC: Nothing is lost).

use std::path::{Path, PathBuf};

use gix::ObjectId;
use serde::Serialize;

use crate::Io;
use crate::error::{Error, GitContext, Outcome, RefusalReport, Result};
use crate::ops::context;
use crate::ops::gate::shell_quote;
use crate::ops::provision::{Progress, Quiet};
use crate::state::archive;
use crate::state::registry::{self, Agent, State};
use crate::{git, git::repo, ops::status, state::lease};

/// Commits on the agent's branch whose work the base does not have. A branch
/// landed by squash or rebase has commits the base lacks by id but not by
/// content: merging it into the base would change nothing, and then nothing
/// is unlanded.
pub fn unlanded_commits(
    control: &gix::Repository,
    agent: &Agent,
) -> Result<Vec<(ObjectId, String)>> {
    let repo = &context::branch_repo(control, agent)?;
    let Some(tip) = repo::branch_tip(repo, &agent.branch)? else {
        return Ok(Vec::new());
    };
    let hidden: Vec<ObjectId> = match repo::branch_tip(control, &agent.base)? {
        Some(base) => vec![base],
        // The base is gone: anything no other branch holds would be lost.
        None => other_branch_tips(control, &agent.branch)?,
    };
    let walk = repo
        .rev_walk([tip])
        .with_hidden(hidden.clone())
        .all()
        .git("walking the branch")?;
    let mut commits = Vec::new();
    for info in walk {
        let info = info.git("walking the branch")?;
        let summary =
            crate::git::repo::summary(&repo.find_commit(info.id).git("reading a commit")?);
        commits.push((info.id, summary));
    }
    if !commits.is_empty()
        && let [base] = hidden.as_slice()
        && merge_changes_nothing(repo, *base, tip)?
    {
        return Ok(Vec::new());
    }
    Ok(commits)
}

fn other_branch_tips(repo: &gix::Repository, except: &str) -> Result<Vec<ObjectId>> {
    let except = format!("refs/heads/{except}");
    let refs = repo.references().git("reading refs")?;
    let mut tips = Vec::new();
    for r in refs.local_branches().git("reading branches")? {
        let mut r = r.git("reading a branch")?;
        if r.name().as_bstr() != except.as_str()
            && let Ok(id) = r.peel_to_id()
        {
            tips.push(id.detach());
        }
    }
    Ok(tips)
}

/// Whether merging `tip` into `base` would leave `base`'s tree as it is,
/// worked out in memory so nothing is written.
fn merge_changes_nothing(repo: &gix::Repository, base: ObjectId, tip: ObjectId) -> Result<bool> {
    let repo = repo.clone().with_object_memory();
    let options = repo.tree_merge_options().git("reading merge options")?;
    let mut outcome = repo
        .merge_commits(base, tip, Default::default(), options.into())
        .git("merging in memory")?;
    if outcome
        .tree_merge
        .has_unresolved_conflicts(gix::merge::tree::TreatAsUnresolved::git())
    {
        return Ok(false);
    }
    let merged = outcome
        .tree_merge
        .tree
        .write()
        .git("writing the merged tree")?
        .detach();
    let base_tree = repo
        .find_commit(base)
        .git("reading the base")?
        .tree_id()
        .git("reading the base tree")?
        .detach();
    Ok(merged == base_tree)
}

/// A commit of the agent's branch that its base lacks.
#[derive(Debug, Clone, Serialize)]
pub struct Unlanded {
    pub commit: String,
    pub summary: String,
}

/// What `rm` removed and archived, or why it refused: rendered once for
/// humans and once as JSON (`land --remove` embeds it).
#[derive(Debug, Serialize)]
pub struct Removal {
    pub agent: String,
    pub branch: String,
    pub path: String,
    pub removed: bool,
    /// The work at stake: archived under `--force`, or the reason to refuse.
    pub unlanded: Vec<Unlanded>,
    pub uncommitted: Vec<String>,
    pub untracked: Vec<String>,
    /// The archive ref the work was recorded under, and how to restore it.
    pub archive: Option<String>,
    pub restore: Option<String>,
    pub refusal: Option<RefusalReport>,
}

impl Removal {
    pub fn outcome(&self) -> Outcome {
        if self.removed {
            Outcome::Done
        } else {
            Outcome::Refused
        }
    }

    /// The text report: the refusal on stderr, what was done on stdout.
    pub fn render(&self, io: &mut Io, repo: &gix::Repository) -> Result<()> {
        if let Some(refusal) = &self.refusal {
            let paint = io.color.err(Some(repo));
            writeln!(io.err, "{}", refusal.text(paint)).map_err(Error::io("writing"))?;
            return Ok(());
        }
        let paint = io.color.out(Some(repo));
        writeln!(
            io.out,
            "{} agent '{}' (worktree {}, branch {})",
            paint.green("removed"),
            self.agent,
            self.path,
            self.branch
        )
        .map_err(Error::io("writing"))?;
        if let (Some(reference), Some(restore)) = (&self.archive, &self.restore) {
            writeln!(
                io.out,
                "its work is archived as {}\nrestore it with: {}",
                paint.yellow(reference),
                paint.cyan(restore)
            )
            .map_err(Error::io("writing"))?;
        }
        Ok(())
    }
}

/// Remove `agent` (the safe path `land --remove` takes too), printing the
/// text report.
pub fn remove(
    repo: &gix::Repository,
    agent: &Agent,
    force: bool,
    cwd: &Path,
    io: &mut Io,
) -> Result<Outcome> {
    let removal = removal(repo, agent, force, cwd)?;
    removal.render(io, repo)?;
    Ok(removal.outcome())
}

/// Remove `agent`, or refuse when work would be lost (unless `force`, which
/// archives it first). Prints nothing, and shows no progress.
pub fn removal(repo: &gix::Repository, agent: &Agent, force: bool, cwd: &Path) -> Result<Removal> {
    removal_showing(repo, agent, force, cwd, &Quiet)
}

/// [`removal`], showing its slow steps on `progress`.
pub fn removal_showing(
    repo: &gix::Repository,
    agent: &Agent,
    force: bool,
    cwd: &Path,
    progress: &dyn Progress,
) -> Result<Removal> {
    let mut report = Removal {
        agent: agent.name.clone(),
        branch: agent.branch.clone(),
        path: agent.path.display().to_string(),
        removed: false,
        unlanded: Vec::new(),
        uncommitted: Vec::new(),
        untracked: Vec::new(),
        archive: None,
        restore: None,
        refusal: None,
    };
    // Hold the agent's lease while its directory goes: no `exec` may start
    // in it, and none may be running.
    let _lease = match lease::acquire(repo.common_dir(), &agent.name, "git agent rm")? {
        Ok(guard) => guard,
        Err(holder) => return Ok(report.refused(lease::in_use(&agent.name, &holder))),
    };
    crate::state::crash::point("rm:after-lease");
    if let Some(refusal) = inside_worktree(agent, cwd) {
        return Ok(report.refused(refusal));
    }
    if agent.mode == crate::state::registry::Mode::Clone && !agent.path.is_dir() {
        // The clone, and its branch with it, is already gone: nothing is
        // left to archive, and the entry names nothing.
        forget(repo, agent)?;
        report.removed = true;
        return Ok(report);
    }
    let unlanded = unlanded_commits(repo, agent)?;
    let dirty = if agent.path.is_dir() {
        status::dirty(&agent.path)?
    } else {
        status::Dirty::default()
    };
    report.unlanded = unlanded
        .iter()
        .map(|(id, summary)| Unlanded {
            commit: id.to_string(),
            summary: summary.clone(),
        })
        .collect();
    report.uncommitted = dirty.uncommitted.clone();
    report.untracked = dirty.untracked.clone();
    let nested = if agent.path.is_dir() {
        nested_work(&agent.path, &dirty)?
    } else {
        Vec::new()
    };
    if !nested.is_empty() {
        return Ok(report.refused(nested_refusal(agent, nested)));
    }
    if !force && (!unlanded.is_empty() || !dirty.is_clean()) {
        return Ok(report.refused(lost_work_refusal(agent, &unlanded, &dirty)));
    }
    // Archive first: from here on, the work is recoverable whatever happens.
    let archived = archive_work(repo, agent, !unlanded.is_empty(), !dirty.is_clean())?;
    crate::state::crash::point("rm:after-archive");
    delete(repo, agent, progress)?;
    crate::state::crash::point("rm:after-registry-update");
    report.removed = true;
    if let Some(reference) = archived {
        report.restore = Some(format!(
            "git agent restore {} --archive {}",
            agent.name,
            shell_quote(&reference)
        ));
        report.archive = Some(reference);
    }
    Ok(report)
}

impl Removal {
    fn refused(mut self, refusal: RefusalReport) -> Removal {
        self.refusal = Some(refusal);
        self
    }
}

/// The refusal when `cwd` is inside the agent's own worktree.
fn inside_worktree(agent: &Agent, cwd: &Path) -> Option<RefusalReport> {
    let canonical_cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_owned());
    let inside = agent.path.is_dir()
        && canonical_cwd
            .starts_with(std::fs::canonicalize(&agent.path).unwrap_or(agent.path.clone()));
    inside.then(|| {
        RefusalReport::new(
            "inside_worktree",
            format!(
                "cannot remove agent '{}' from inside its own worktree; run this from the main worktree",
                agent.name
            ),
        )
    })
}

/// The refusal naming the work a removal without `--force` would lose.
fn lost_work_refusal(
    agent: &Agent,
    unlanded: &[(ObjectId, String)],
    dirty: &status::Dirty,
) -> RefusalReport {
    let mut msg = format!(
        "refusing to remove agent '{}': work would be lost",
        agent.name
    );
    if !unlanded.is_empty() {
        msg.push_str(&format!(
            "\n  {} commit(s) on {} are not in {}:",
            unlanded.len(),
            agent.branch,
            agent.base
        ));
        for (id, summary) in unlanded.iter().take(10) {
            msg.push_str(&format!("\n    {} {summary}", &id.to_string()[..12]));
        }
    }
    for (what, paths) in [
        ("uncommitted", &dirty.uncommitted),
        ("untracked", &dirty.untracked),
    ] {
        if !paths.is_empty() {
            msg.push_str(&format!(
                "\n  {} {what} file(s) in {}:",
                paths.len(),
                agent.path.display()
            ));
            for p in paths.iter().take(10) {
                msg.push_str(&format!("\n    {p}"));
            }
        }
    }
    msg.push_str(&format!(
        "\nLand the work first (git agent land {0}), or archive it and remove anyway: git agent rm {0} --force",
        agent.name
    ));
    let paths = dirty
        .uncommitted
        .iter()
        .chain(&dirty.untracked)
        .cloned()
        .collect();
    RefusalReport::new("work_would_be_lost", msg).with_paths(paths)
}

/// Archive the agent's unlanded commits and (when `dirty`) its files, when
/// there is any such work and a commit to archive it on: the archive ref.
fn archive_work(
    repo: &gix::Repository,
    agent: &Agent,
    unlanded: bool,
    dirty: bool,
) -> Result<Option<String>> {
    let tip = match repo::branch_tip(&context::branch_repo(repo, agent)?, &agent.branch)? {
        Some(t) => Some(t),
        None if agent.path.is_dir() => gix::open(&agent.path)
            .ok()
            .and_then(|r| r.head_id().ok().map(|i| i.detach())),
        None => None,
    };
    match tip {
        Some(tip) if unlanded || dirty => Ok(Some(archive::write(repo, agent, tip, dirty)?)),
        _ => Ok(None),
    }
}

/// Delete the agent's worktree, its branch and its entry.
fn delete(repo: &gix::Repository, agent: &Agent, progress: &dyn Progress) -> Result<()> {
    remove_worktree(repo, agent, progress)?;
    crate::state::crash::point("rm:after-worktree-removal");
    repo::delete_ref_if_present(repo, &format!("refs/heads/{}", agent.branch))?;
    crate::state::crash::point("rm:after-branch-deletion");
    forget(repo, agent)
}

/// Drop the agent's registry entry and its seal.
fn forget(repo: &gix::Repository, agent: &Agent) -> Result<()> {
    context::registry(repo).update(|agents| {
        agents.remove(&agent.name);
        // Only tidies a record no entry uses any more: never fails the removal.
        let _ = crate::ops::sealing::seal(repo.common_dir(), agents, &[&agent.name]);
        Ok(())
    })
}

/// Nested repositories and initialised submodules in `dir` holding work
/// an archive cannot keep: their commits live in their own git directory
/// (a nested repository's `.git`, a submodule's under the worktree's admin
/// directory), and the archive records only a gitlink to them.
fn nested_work(dir: &Path, dirty: &status::Dirty) -> Result<Vec<String>> {
    let mut paths: Vec<String> = dirty
        .untracked
        .iter()
        .filter(|p| p.ends_with('/') && dir.join(p).join(".git").exists())
        .cloned()
        .collect();
    if !dir.join(".gitmodules").is_file() {
        return Ok(paths);
    }
    // git's own view of submodules: gix has no recursive submodule status.
    let out = git::run(dir, &["submodule", "status", "--recursive"])?;
    for line in out.lines() {
        let Some(flag) = line.chars().next() else {
            continue;
        };
        let Some(path) = line[flag.len_utf8()..].split_whitespace().nth(1) else {
            continue;
        };
        let changed = match flag {
            // Not initialised: nothing of the agent's in it.
            '-' => false,
            // On another commit than recorded, or conflicted.
            '+' | 'U' => true,
            _ => !git::run(&dir.join(path), &["status", "--porcelain"])?.is_empty(),
        };
        if changed {
            paths.push(path.to_owned());
        }
    }
    Ok(paths)
}

fn nested_refusal(agent: &Agent, nested: Vec<String>) -> RefusalReport {
    let mut msg = format!(
        "refusing to remove agent '{}', even with --force: {} nested repositor{} hold work an archive cannot keep:",
        agent.name,
        nested.len(),
        if nested.len() == 1 { "y" } else { "ies" }
    );
    for p in &nested {
        msg.push_str(&format!(
            "
    {p}"
        ));
    }
    msg.push_str(&format!(
        "
Their commits live in their own .git (a nested repository's, or a submodule's in the worktree's admin directory), which the archive does not hold.
Commit and push them, or move them out of {}, then remove the agent again.",
        agent.path.display()
    ));
    RefusalReport::new("nested_repository", msg).with_paths(nested)
}

/// Delete the agent's directory and git's registration of it. git does
/// this (gix has no worktree removal); `--force` twice also removes a
/// locked worktree, and dirty files were archived before we got here.
pub fn remove_worktree(
    repo: &gix::Repository,
    agent: &Agent,
    progress: &dyn Progress,
) -> Result<()> {
    let main = repo::main_workdir(repo).unwrap_or_else(|| repo.common_dir().to_owned());
    let _bar = progress.spinner("removing the worktree");
    if agent.path.is_dir() {
        let path = agent.path.to_string_lossy().into_owned();
        let out = git::output(&main, &["worktree", "remove", "--force", "--force", &path])?;
        if out.status.success() {
            return Ok(());
        }
        // Not a registered worktree (a clone, or registration lost): delete it.
        std::fs::remove_dir_all(&agent.path)
            .map_err(Error::io(format!("removing {}", agent.path.display())))?;
    }
    prune_worktrees(repo, &main)
}

/// `git worktree prune`, under the lock `add` holds while it registers a
/// worktree: prune deletes a registration whose directory has no `.git`
/// yet, so one made at the same moment would vanish under `add`.
pub fn prune_worktrees(repo: &gix::Repository, main: &Path) -> Result<()> {
    let _registration = context::registry(repo).lock_worktree_registration()?;
    git::run(main, &["worktree", "prune"])?;
    Ok(())
}

/// What `restore` is asked for.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub name: String,
    /// The archive ref [default: the newest of the agent's].
    pub archive: Option<String>,
    /// Where to put the worktree, relative to `cwd` [default: where it was].
    pub path: Option<PathBuf>,
}

/// What `restore` did, or why it made nothing.
#[derive(Debug)]
pub enum Restored {
    /// Refused, with the message; nothing changed.
    Refused(String),
    /// The agent is back from `archive`, its worktree at `path`;
    /// `unguarded` says why its guardrails could not be written, if not.
    Done {
        name: String,
        archive: String,
        unguarded: Option<String>,
        path: PathBuf,
    },
}

/// Bring an agent back from its archive: its entry, its branch, its
/// worktree with the archived files. Never half-applies.
pub fn restore(
    repo: &gix::Repository,
    cwd: &Path,
    request: &RestoreRequest,
    progress: &dyn Progress,
    io: &mut Io,
) -> Result<Restored> {
    let reference = archive_to_restore(repo, request)?;
    let archived = archive::read(repo, &reference)?;
    let mut agent = restored_entry(repo, cwd, request, &archived, &reference)?;
    let registry = context::registry(repo);
    if let Some(refusal) = restore_refusal(repo, &registry, &agent, archived.tip)? {
        return Ok(Restored::Refused(refusal));
    }
    agent.state = State::Adding;
    agent.adding_pid = Some(std::process::id());
    registry.update(|agents| {
        // The archived port may belong to another agent by now.
        agent.port = Some(match agent.port {
            Some(p) if !agents.values().any(|a| a.port() == p) => p,
            _ => registry::free_port(&agent.name, agents),
        });
        agents.insert(agent.name.clone(), agent.clone());
        Ok(())
    })?;
    crate::state::crash::point("restore:after-reserve");
    recreate(repo, &registry, &agent, &archived, progress)?;
    let path = std::fs::canonicalize(&agent.path).unwrap_or(agent.path.clone());
    registry.update(|agents| {
        if let Some(a) = agents.get_mut(&agent.name) {
            a.state = State::Ready;
            a.adding_pid = None;
            a.path = path.clone();
        }
        crate::ops::sealing::seal(repo.common_dir(), agents, &[&agent.name])
    })?;
    crate::state::crash::point("restore:after-ready");
    init_submodules(&path, io)?;
    // As `add` writes them: the archive does not say which tools it had.
    let unguarded =
        crate::ops::guardrails::provide(repo, &agent.name, &path, &crate::ops::guardrails::ALL)
            .err()
            .map(|e| e.to_string());
    Ok(Restored::Done {
        name: agent.name,
        archive: reference,
        unguarded,
        path,
    })
}

/// The archive ref asked for, or the agent's newest.
fn archive_to_restore(repo: &gix::Repository, request: &RestoreRequest) -> Result<String> {
    if let Some(r) = &request.archive {
        return Ok(r.clone());
    }
    archive::list(repo, &request.name)?.pop().ok_or_else(|| {
        Error::usage(
            format!("agent '{}' has no archive", request.name),
            "archives are written by `git agent rm NAME --force`; list them with `git for-each-ref refs/agent-archive/`",
        )
    })
}

/// The archived entry as it comes back: checked to be the agent asked
/// for, in its new place, as a worktree.
fn restored_entry(
    repo: &gix::Repository,
    cwd: &Path,
    request: &RestoreRequest,
    archived: &archive::Archive,
    reference: &str,
) -> Result<Agent> {
    let mut agent = archived.agent.clone();
    if agent.name != request.name {
        return Err(Error::usage(
            format!(
                "{reference} holds agent '{}', not '{}'",
                agent.name, request.name
            ),
            format!("run git agent restore {} --archive {reference}", agent.name),
        ));
    }
    if let Some(p) = &request.path {
        agent.path = cwd.join(p);
    } else if agent.path.as_os_str().is_empty() {
        // An archive of a branch that had no worktree (doctor archives
        // orphan branches): it comes back where `add` would put it.
        let manifest = repo::load_policy(repo, &agent.base).unwrap_or_default();
        agent.path = crate::ops::provision::default_path(
            repo,
            manifest.defaults.worktrees.as_deref(),
            &agent.name,
        )?;
    }
    // The archive holds the branch; it comes back as a worktree, whatever
    // the agent was before.
    agent.mode = crate::state::registry::Mode::Worktree;
    Ok(agent)
}

/// Why the agent cannot come back as it is: its name, its branch or its
/// directory is taken.
fn restore_refusal(
    repo: &gix::Repository,
    registry: &registry::Registry,
    agent: &Agent,
    tip: ObjectId,
) -> Result<Option<String>> {
    if registry.load()?.contains_key(&agent.name) {
        return Ok(Some(format!(
            "agent '{0}' exists, so its archive cannot come back under that name; remove it first (git agent rm {0}), then restore again",
            agent.name
        )));
    }
    if repo::branch_tip(repo, &agent.branch)?.is_some_and(|t| t != tip) {
        return Ok(Some(format!(
            "branch {} exists and points elsewhere; rename or delete it first",
            agent.branch
        )));
    }
    if agent.path.exists()
        && std::fs::read_dir(&agent.path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Ok(Some(format!(
            "{} already exists; restore elsewhere with --path DIR",
            agent.path.display()
        )));
    }
    Ok(None)
}

/// The branch (unless it is still there) and the worktree with the
/// archived files; on failure, what this made goes again, entry included.
fn recreate(
    repo: &gix::Repository,
    registry: &registry::Registry,
    agent: &Agent,
    archived: &archive::Archive,
    progress: &dyn Progress,
) -> Result<()> {
    let full_branch = format!("refs/heads/{}", agent.branch);
    let made_branch = repo::branch_tip(repo, &agent.branch)?.is_none();
    let result = (|| -> Result<()> {
        if made_branch {
            repo.reference(
                full_branch.as_str(),
                archived.tip,
                gix::refs::transaction::PreviousValue::MustNotExist,
                format!("git-agent: restore {}", agent.name),
            )
            .git("recreating the branch")?;
        }
        crate::state::crash::point("restore:after-branch");
        crate::ops::provision::check_out_agent(repo, registry, agent, progress)?;
        crate::state::crash::point("restore:after-checkout");
        if let Some(index) = archived.index {
            reapply_worktree(&agent.path, archived.commit, index, agent.sparse)?;
        }
        crate::state::crash::point("restore:after-reapply");
        Ok(())
    })();
    if let Err(e) = result {
        // Never half-apply: what this restore made goes again.
        if made_branch {
            let _ = repo::delete_ref_if_present(repo, &full_branch);
        }
        let _ = registry.update(|agents| {
            agents.remove(&agent.name);
            Ok(())
        });
        return Err(e);
    }
    Ok(())
}

/// Check the restored worktree's submodules out, as `add` does; a failure
/// is a warning, the agent is restored either way.
fn init_submodules(dir: &Path, io: &mut Io) -> Result<()> {
    if !dir.join(".gitmodules").is_file() {
        return Ok(());
    }
    // Checking out submodules updates worktrees and indexes: git's job.
    let out = git::output(dir, &["submodule", "update", "--init", "--recursive"])?;
    if !out.status.success() {
        writeln!(
            io.err,
            "warning: submodules were not initialized: {}\n         run `git submodule update --init --recursive` in {}",
            String::from_utf8_lossy(&out.stderr).trim(),
            dir.display()
        )
        .map_err(Error::io("writing"))?;
    }
    Ok(())
}

/// Put the archived files back in a fresh worktree of the branch tip: the
/// worktree's files from the archive commit, then the index as it was. git
/// updates the worktree and index here, as only it can do safely.
fn reapply_worktree(
    dir: &Path,
    worktree_commit: ObjectId,
    index_commit: ObjectId,
    sparse: bool,
) -> Result<()> {
    let w = worktree_commit.to_string();
    let deleted = git::run(
        dir,
        &[
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--diff-filter=D",
            "HEAD",
            &w,
        ],
    )?;
    git::run(dir, &["checkout", &w, "--", "."])?;
    for path in deleted.split('\0').filter(|p| !p.is_empty()) {
        let _ = std::fs::remove_file(dir.join(path));
    }
    git::run(dir, &["read-tree", &format!("{index_commit}^{{tree}}")])?;
    if sparse {
        // read-tree forgets which files are not checked out: without this
        // they would show as deleted.
        git::run(dir, &["sparse-checkout", "reapply"])?;
    }
    Ok(())
}
