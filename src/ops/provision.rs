//! `git agent add NAME`: branch `agent/NAME` from the base, a worktree for
//! it, and a registry entry with its scope.
//!
//! Order matters for "never half-apply": the name is reserved in the
//! registry first (marked `adding`), then the branch and the worktree are
//! made, and the entry is marked ready last. A failure undoes what was done;
//! a crash leaves an `adding` entry that `git agent doctor` can finish or
//! roll back.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::Io;
use crate::error::{Error, GitContext, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::gate::unknown_area;
use crate::policy::manifest::{MANIFEST_FILE, Manifest, Role};
use crate::policy::pattern::Pattern;
use crate::state::registry::{self, Agent, Mode, State};

/// How ops show the progress of slow steps. ops cannot draw (the terminal
/// belongs to the commands above them), so the command hands in what draws;
/// [`Quiet`] draws nothing.
pub trait Progress {
    /// A spinner with the elapsed time, shown until the guard is dropped.
    fn spinner(&self, message: &str) -> Box<dyn std::any::Any>;
    /// A bar following gix's checkout, shown until the guard is dropped,
    /// and the progress item to hand to gix.
    fn checkout(&self, message: &str) -> (Box<dyn std::any::Any>, gix::progress::tree::Item);
}

/// Progress nobody sees.
pub struct Quiet;

impl Progress for Quiet {
    fn spinner(&self, _message: &str) -> Box<dyn std::any::Any> {
        Box::new(())
    }
    fn checkout(&self, message: &str) -> (Box<dyn std::any::Any>, gix::progress::tree::Item) {
        let root = gix::progress::tree::Root::new();
        let item = root.add_child(message);
        (Box::new(root), item)
    }
}

/// What `add` is asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub name: String,
    /// The branch to start from [default: the policy's defaults.base].
    pub base: Option<String>,
    pub scope: Vec<String>,
    pub areas: Vec<String>,
    /// Where to put the worktree, relative to `cwd` [default: the policy's].
    pub path: Option<PathBuf>,
    pub task: Option<String>,
    /// A writer request yields to the role the policy's `agents` give the
    /// name; a proposer request is kept.
    pub role: Role,
    /// A local clone instead of a worktree.
    pub clone: bool,
    /// Check out only the scope and the policy's `context`
    /// [default: the policy's defaults.sparse].
    pub sparse: Option<bool>,
}

/// What `add` did, or why it made nothing.
#[derive(Debug)]
pub enum Added {
    /// Refused, with the message; nothing changed.
    Refused(String),
    Created(Created),
}

/// A new agent, ready.
#[derive(Debug)]
pub struct Created {
    pub name: String,
    pub branch: String,
    pub base: String,
    /// The worktree's canonical path.
    pub path: PathBuf,
    /// The areas, patterns and standing patterns the agent may change.
    pub scope: Vec<String>,
    /// A `setup` command failed; the agent exists all the same.
    pub setup_failed: bool,
    /// Only the scope and the policy's `context` are checked out.
    pub sparse: bool,
}

/// The checked inputs of an `add`: where and what to make.
struct Plan {
    base: String,
    base_tip: gix::ObjectId,
    manifest: Manifest,
    branch: String,
    full_branch: String,
    path: PathBuf,
}

/// Create the agent `request` describes: reserve its name, make its branch
/// and its worktree (or clone), prepare it, and mark it ready.
pub fn add(
    repo: &gix::Repository,
    cwd: &Path,
    request: &Request,
    progress: &dyn Progress,
    io: &mut Io,
) -> Result<Added> {
    crate::ops::sealing::require_key()?;
    let (base, base_tip, manifest) = check_inputs(repo, request)?;
    let plan = match plan(repo, cwd, request, base, base_tip, manifest)? {
        Ok(plan) => plan,
        Err(refusal) => return Ok(Added::Refused(refusal)),
    };
    let registry = context::registry(repo);
    let agent = new_entry(request, &plan);
    if !reserve(&registry, &agent)? {
        return Ok(Added::Refused(format!(
            "agent '{}' was just created by another git-agent process",
            request.name
        )));
    }
    crate::state::crash::point("add:after-reserve");
    if let Err(e) = make(repo, &registry, request, &plan, agent.sparse, progress) {
        let _ = registry.update(|agents| {
            agents.remove(&request.name);
            Ok(())
        });
        return Err(e);
    }
    crate::state::crash::point("add:after-make");
    let canonical = std::fs::canonicalize(&plan.path).unwrap_or(plan.path.clone());
    let main_root = repo::main_workdir(repo);
    let setup_failed = prepare_worktree(
        &plan.manifest,
        main_root.as_deref(),
        &canonical,
        &request.name,
        io,
    )?;
    crate::state::crash::point("add:after-prepare");
    mark_ready(repo, &registry, &request.name, &canonical, setup_failed)?;
    crate::state::crash::point("add:after-ready");
    Ok(Added::Created(Created {
        name: request.name.clone(),
        branch: plan.branch,
        scope: scope_description(request, &plan.manifest),
        base: plan.base,
        path: canonical,
        setup_failed,
        sparse: agent.sparse,
    }))
}

/// Bad input is an error: the name, the base, the areas, the patterns.
fn check_inputs(
    repo: &gix::Repository,
    request: &Request,
) -> Result<(String, gix::ObjectId, Manifest)> {
    let name = &request.name;
    registry::validate_name(name).map_err(|why| Error::InvalidName {
        name: name.clone(),
        why,
    })?;
    let base = match &request.base {
        Some(b) => b.strip_prefix("refs/heads/").unwrap_or(b).to_owned(),
        None => repo::default_base(repo)?,
    };
    let Some(base_tip) = repo::branch_tip(repo, &base)? else {
        return Err(Error::UnknownBase { base });
    };
    let manifest = repo::load_policy(repo, &base)?;
    for area in &request.areas {
        if !manifest.areas.contains_key(area) {
            return Err(unknown_area(area, &manifest, &base));
        }
    }
    let ignore_case = repo::ignore_case(repo);
    for p in &request.scope {
        Pattern::new(p, ignore_case).map_err(|why| Error::InvalidPattern {
            pattern: p.clone(),
            why,
        })?;
    }
    Ok((base, base_tip, manifest))
}

/// The branch and the directory the agent gets, or the refusal when the
/// name, the branch or the directory is taken.
fn plan(
    repo: &gix::Repository,
    cwd: &Path,
    request: &Request,
    base: String,
    base_tip: gix::ObjectId,
    manifest: Manifest,
) -> Result<std::result::Result<Plan, String>> {
    let name = &request.name;
    if let Some(existing) = context::registry(repo).load()?.get(name) {
        return Ok(Err(format!(
            "agent '{name}' already exists (worktree {}); pick another name, or remove it first with `git agent rm {name}`",
            existing.path.display()
        )));
    }
    let branch = format!("agent/{name}");
    let full_branch = format!("refs/heads/{branch}");
    if repo
        .try_find_reference(full_branch.as_str())
        .git("looking up the branch")?
        .is_some()
    {
        return Ok(Err(format!(
            "branch '{branch}' already exists; pick another agent name, or delete the branch if it is not needed (git branch -d {branch})"
        )));
    }
    let path = match &request.path {
        Some(p) => cwd.join(p),
        None => default_path(repo, manifest.defaults.worktrees.as_deref(), name)?,
    };
    let path = normalize(&path);
    if path.exists() && !is_empty_dir(&path) {
        return Ok(Err(format!(
            "{} already exists; choose another place with --path, or move it away",
            path.display()
        )));
    }
    Ok(Ok(Plan {
        base,
        base_tip,
        manifest,
        branch,
        full_branch,
        path,
    }))
}

/// The registry entry of the agent being added.
fn new_entry(request: &Request, plan: &Plan) -> Agent {
    Agent {
        name: request.name.clone(),
        branch: plan.branch.clone(),
        path: plan.path.clone(),
        base: plan.base.clone(),
        scope: request.scope.clone(),
        areas: request.areas.clone(),
        task: request.task.clone(),
        role: plan
            .manifest
            .agents
            .get(&request.name)
            .map(|s| s.role)
            .filter(|_| request.role == Role::Writer)
            .unwrap_or(request.role),
        mode: if request.clone {
            Mode::Clone
        } else {
            Mode::Worktree
        },
        state: State::Adding,
        created: registry::now_unix(),
        port: None,
        adding_pid: Some(std::process::id()),
        setup_failed: false,
        sparse: request.sparse.unwrap_or(plan.manifest.defaults.sparse),
    }
}

/// Reserve the name in the registry, marked `adding`: false when another
/// process took it first.
fn reserve(registry: &registry::Registry, agent: &Agent) -> Result<bool> {
    registry.update(|agents| {
        if agents.contains_key(&agent.name) {
            return Ok(false);
        }
        let mut agent = agent.clone();
        agent.port = Some(registry::free_port(&agent.name, agents));
        agents.insert(agent.name.clone(), agent);
        Ok(true)
    })
}

/// Make the agent's branch and its worktree or clone.
fn make(
    repo: &gix::Repository,
    registry: &registry::Registry,
    request: &Request,
    plan: &Plan,
    sparse: bool,
    progress: &dyn Progress,
) -> Result<()> {
    if request.clone {
        let sparse = match sparse {
            true => Some(sparse_definition(repo, &request.name, plan.base_tip)?),
            false => None,
        };
        let is_sparse = sparse.is_some();
        make_clone(
            repo,
            &plan.path,
            &plan.branch,
            plan.base_tip,
            sparse,
            progress,
        )?;
        match is_sparse {
            true => crate::ops::sparse::protect_context(repo, &request.name, &plan.path),
            false => Ok(()),
        }
    } else {
        make_worktree(
            repo,
            &plan.full_branch,
            plan.base_tip,
            &format!("git-agent: add {} from {}", request.name, plan.base),
            || match sparse {
                true => crate::ops::sparse::check_out(
                    repo,
                    registry,
                    &request.name,
                    &plan.path,
                    &plan.full_branch,
                    progress,
                ),
                false => {
                    check_out_worktree(repo, registry, &plan.path, &plan.full_branch, progress)
                }
            },
        )
    }
}

/// What registered agent `name`'s sparse checkout holds at commit `tip`.
fn sparse_definition(
    repo: &gix::Repository,
    name: &str,
    tip: gix::ObjectId,
) -> Result<crate::ops::sparse::Definition> {
    let subject = crate::ops::gate::resolve_subject(repo, Some(name), None)?
        .ok_or_else(crate::ops::gate::no_agent)?;
    crate::ops::sparse::definition_of(repo, &subject, tip)
}

/// Check registered agent `agent`'s existing branch out again in a new
/// worktree at its path: sparse if it was.
pub fn check_out_agent(
    repo: &gix::Repository,
    registry: &registry::Registry,
    agent: &Agent,
    progress: &dyn Progress,
) -> Result<()> {
    let full_branch = format!("refs/heads/{}", agent.branch);
    if agent.sparse {
        crate::ops::sparse::check_out(
            repo,
            registry,
            &agent.name,
            &agent.path,
            &full_branch,
            progress,
        )
    } else {
        check_out_worktree(repo, registry, &agent.path, &full_branch, progress)
    }
}

/// Mark the entry ready where its worktree really is, and seal it.
fn mark_ready(
    repo: &gix::Repository,
    registry: &registry::Registry,
    name: &str,
    canonical: &Path,
    setup_failed: bool,
) -> Result<()> {
    registry.update(|agents| {
        if let Some(a) = agents.get_mut(name) {
            a.state = State::Ready;
            a.adding_pid = None;
            a.path = canonical.to_owned();
            a.setup_failed = setup_failed;
        }
        crate::ops::sealing::seal(repo.common_dir(), agents, &[name])
    })
}

/// The agent's scope as `add` reports it: its areas, its patterns, and
/// the standing patterns the policy gives its name.
fn scope_description(request: &Request, manifest: &Manifest) -> Vec<String> {
    let mut scope: Vec<String> = request.areas.iter().map(|a| format!("area {a}")).collect();
    scope.extend(request.scope.iter().cloned());
    if let Some(standing) = manifest.agents.get(&request.name) {
        scope.extend(standing.scope.iter().map(|p| format!("{p} (standing)")));
    }
    scope
}

/// Say so when the working copy's `.git-agent.yaml` is not what is
/// committed on the base: only the committed one counts.
pub fn uncommitted_policy_note(repo: &gix::Repository, base: &str, io: &mut Io) -> Result<()> {
    let Some(workdir) = repo::main_workdir(repo) else {
        return Ok(());
    };
    let Ok(on_disk) = std::fs::read_to_string(workdir.join(MANIFEST_FILE)) else {
        return Ok(());
    };
    let committed = match repo::branch_tip(repo, base)? {
        Some(tip) => repo::committed_manifest_text(repo, tip)?,
        None => None,
    };
    if committed.as_deref() != Some(on_disk.as_str()) {
        writeln!(
            io.err,
            "note: {MANIFEST_FILE} in {} differs from the one committed on '{base}'; git-agent reads only the committed one.\n      Commit it on {base} for it to take effect: git add {MANIFEST_FILE} && git commit -m 'Add git-agent policy'",
            workdir.display()
        )
        .map_err(Error::io("writing"))?;
    }
    Ok(())
}

/// Make a new worktree ready to work in: the policy's `copy` files, then
/// submodules, then its `setup` commands. Returns whether setup failed; the
/// agent stays created either way, so the user can fix and re-run.
fn prepare_worktree(
    manifest: &Manifest,
    main_root: Option<&Path>,
    dir: &Path,
    name: &str,
    io: &mut Io,
) -> Result<bool> {
    if let Some(root) = main_root {
        for rel in &manifest.copy {
            let from = root.join(rel);
            if !from.exists() {
                continue;
            }
            copy_recursively(&from, &dir.join(rel))?;
            writeln!(io.err, "copied {rel}").map_err(Error::io("writing"))?;
        }
    }
    if dir.join(".gitmodules").is_file() {
        // Checking out submodules updates worktrees and indexes: git's job.
        let out = crate::git::output(dir, &["submodule", "update", "--init", "--recursive"])?;
        if !out.status.success() {
            writeln!(
                io.err,
                "warning: submodules were not initialized: {}
         run `git submodule update --init --recursive` in {}",
                String::from_utf8_lossy(&out.stderr).trim(),
                dir.display()
            )
            .map_err(Error::io("writing"))?;
        }
    }
    for command in &manifest.setup {
        writeln!(io.err, "setup: {command}").map_err(Error::io("writing"))?;
        io.err.flush().map_err(Error::io("writing"))?;
        let status = run_setup(command, dir, name)?;
        if !status.success() {
            let how = status.code().map_or_else(
                || "was killed by a signal".to_owned(),
                |c| format!("exited with {c}"),
            );
            writeln!(
                io.err,
                "git-agent: setup command `{command}` {how}.
                 Agent '{name}' is created but marked setup-failed (see `git agent list`).
                 Fix the cause, then run it again there: (cd {} && {command})",
                crate::ops::gate::shell_quote(&dir.to_string_lossy())
            )
            .map_err(Error::io("writing"))?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Run one setup command with the shell, in the new worktree. Its output
/// goes to our stderr: our stdout carries only the worktree's path, so that
/// `cd "$(git agent add NAME)"` works.
fn run_setup(command: &str, dir: &Path, name: &str) -> Result<std::process::ExitStatus> {
    let mut cmd = std::process::Command::new("sh");
    // Its git commands find the new worktree, not a repository we were
    // pointed at.
    crate::git::scrub(&mut cmd)
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("GIT_AGENT", name);
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            cmd.stdout(std::process::Stdio::from(fd));
        }
    }
    cmd.status()
        .map_err(Error::io(format!("running setup command `{command}`")))
}

/// Copy a file or directory. `std::fs::copy` uses copy_file_range on Linux,
/// which shares the data (copy-on-write) on filesystems that support it.
fn copy_recursively(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .map_err(Error::io(format!("creating {}", parent.display())))?;
    }
    let meta = std::fs::symlink_metadata(from)
        .map_err(Error::io(format!("reading {}", from.display())))?;
    if meta.is_dir() {
        std::fs::create_dir_all(to).map_err(Error::io(format!("creating {}", to.display())))?;
        for entry in
            std::fs::read_dir(from).map_err(Error::io(format!("reading {}", from.display())))?
        {
            let entry = entry.map_err(Error::io(format!("reading {}", from.display())))?;
            copy_recursively(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else if meta.file_type().is_symlink() {
        #[cfg(unix)]
        {
            let target = std::fs::read_link(from)
                .map_err(Error::io(format!("reading {}", from.display())))?;
            let _ = std::fs::remove_file(to);
            std::os::unix::fs::symlink(target, to)
                .map_err(Error::io(format!("creating {}", to.display())))?;
        }
    } else {
        std::fs::copy(from, to).map_err(Error::io(format!(
            "copying {} to {}",
            from.display(),
            to.display()
        )))?;
    }
    Ok(())
}

/// Branch `full_branch` at `base_tip`, checked out in a new worktree by
/// `check_out`; on failure, whatever was made is removed again.
fn make_worktree(
    repo: &gix::Repository,
    full_branch: &str,
    base_tip: gix::ObjectId,
    log_message: &str,
    check_out: impl FnOnce() -> Result<()>,
) -> Result<()> {
    repo.reference(
        full_branch,
        base_tip,
        gix::refs::transaction::PreviousValue::MustNotExist,
        log_message,
    )
    .git("creating the agent's branch")?;
    let added = check_out();
    if let Err(e) = added {
        let _ = repo::delete_ref_if_present(repo, full_branch);
        return Err(e);
    }
    Ok(())
}

/// Check the existing branch `full_branch` out in a new linked worktree at
/// `path`, with gix (on both cores), showing progress on a terminal.
pub fn check_out_worktree(
    repo: &gix::Repository,
    registry: &registry::Registry,
    path: &Path,
    full_branch: &str,
    progress: &dyn Progress,
) -> Result<()> {
    let interrupt = AtomicBool::new(false);
    let head = gix::worktree::add::Head::Attached(full_branch.try_into().git("naming the branch")?);
    let prepared = {
        // gix reads every registration while adding one: serialise that part.
        let _registration = registry.lock_worktree_registration()?;
        repo.prepare_add_worktree(path, head, &interrupt)
    };
    prepared
        .and_then(|p| {
            let (_bar, item) = progress.checkout("checking out");
            p.checkout(item, &interrupt)
        })
        .map_err(|e| Error::Git {
            context: format!("adding the worktree at {}", path.display()),
            message: e.to_string(),
        })?;
    // The ref guard's hook tells an agent's worktree by this mark.
    let name = full_branch.rsplit('/').next().unwrap_or(full_branch);
    crate::state::marker::mark_checkout(path, name)
}

/// A local clone at `path` on a new branch `branch` at `base_tip`. It is
/// made with `--shared`, so it reads this repository's objects in place
/// and copies none; its config names this repository as its home, where
/// the gate finds the registry and the policy. git makes the clone and its
/// checkout (gix cannot clone with shared objects), and installs our hook
/// there, since a clone has hooks of its own.
fn make_clone(
    repo: &gix::Repository,
    path: &Path,
    branch: &str,
    base_tip: gix::ObjectId,
    sparse: Option<crate::ops::sparse::Definition>,
    progress: &dyn Progress,
) -> Result<()> {
    let source = repo::main_workdir(repo).unwrap_or_else(|| repo.common_dir().to_owned());
    let home =
        std::fs::canonicalize(repo.common_dir()).unwrap_or_else(|_| repo.common_dir().to_owned());
    let _bar = progress.spinner("cloning");
    let result = (|| -> Result<()> {
        let dest = path.to_string_lossy().into_owned();
        let src = source.to_string_lossy().into_owned();
        crate::git::run(
            &source,
            &["clone", "--quiet", "--shared", "--no-checkout", &src, &dest],
        )?;
        crate::git::run(path, &["config", repo::HOME_KEY, &home.to_string_lossy()])?;
        if let Some(definition) = &sparse {
            crate::ops::sparse::apply(path, definition)?;
        }
        crate::git::run(
            path,
            &["checkout", "--quiet", "-b", branch, &base_tip.to_string()],
        )?;
        let clone = gix::open(path).git("opening the new clone")?;
        crate::state::marker::mark(clone.git_dir(), branch.rsplit('/').next().unwrap_or(branch))?;
        crate::ops::hooks::install(
            &clone,
            &mut Io {
                out: &mut std::io::sink(),
                err: &mut std::io::sink(),
                color: Default::default(),
            },
        )?;
        Ok(())
    })();
    if result.is_err() && path.exists() {
        let _ = std::fs::remove_dir_all(path);
    }
    result
}

/// `defaults.worktrees` (or `../{repo}.agents/{name}`), relative to the main
/// worktree's root.
pub fn default_path(repo: &gix::Repository, template: Option<&str>, name: &str) -> Result<PathBuf> {
    let root = repo::main_workdir(repo).ok_or_else(|| {
        Error::usage(
            "this repository has no main worktree to put agents beside",
            "give the agent's directory with --path DIR",
        )
    })?;
    let repo_name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into());
    let template = template.unwrap_or("../{repo}.agents/{name}");
    let rel = template
        .replace("{repo}", &repo_name)
        .replace("{name}", name);
    Ok(root.join(rel))
}

/// Resolve `.` and `..` without touching the filesystem (the path may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}
