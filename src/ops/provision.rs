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
use crate::cli::{AddArgs, RoleArg};
use crate::error::{Error, GitContext, Outcome, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::gate::unknown_area;
use crate::policy::manifest::Role;
use crate::policy::pattern::Pattern;
use crate::state::registry::{self, Agent, Mode, State};

pub fn run(args: AddArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    if let Some(refusal) =
        crate::ops::authority::who_may_act(&repo, crate::ops::authority::Action::Add(&args.name))?
    {
        refusal.say(io)?;
        return Ok(Outcome::Refused);
    }
    let name = args.name.clone();
    crate::ops::sealing::require_key()?;
    registry::validate_name(&name).map_err(|why| Error::InvalidName {
        name: name.clone(),
        why,
    })?;
    let base = match &args.base {
        Some(b) => b.strip_prefix("refs/heads/").unwrap_or(b).to_owned(),
        None => repo::default_base(&repo)?,
    };
    let Some(base_tip) = repo::branch_tip(&repo, &base)? else {
        return Err(Error::UnknownBase { base });
    };
    let manifest = repo::load_policy(&repo, &base)?;
    for area in &args.area {
        if !manifest.areas.contains_key(area) {
            return Err(unknown_area(area, &manifest, &base));
        }
    }
    let ignore_case = repo::ignore_case(&repo);
    for p in &args.scope {
        Pattern::new(p, ignore_case).map_err(|why| Error::InvalidPattern {
            pattern: p.clone(),
            why,
        })?;
    }

    let refuse = |io: &mut Io, msg: String| -> Result<Outcome> {
        writeln!(io.err, "git-agent: {msg}").map_err(Error::io("writing"))?;
        Ok(Outcome::Refused)
    };
    let registry = context::registry(&repo);
    if let Some(existing) = registry.load()?.get(&name) {
        return refuse(
            io,
            format!(
                "agent '{name}' already exists (worktree {}); pick another name, or remove it first with `git agent rm {name}`",
                existing.path.display()
            ),
        );
    }
    let branch = format!("agent/{name}");
    let full_branch = format!("refs/heads/{branch}");
    if repo
        .try_find_reference(full_branch.as_str())
        .git("looking up the branch")?
        .is_some()
    {
        return refuse(
            io,
            format!(
                "branch '{branch}' already exists; pick another agent name, or delete the branch if it is not needed (git branch -d {branch})"
            ),
        );
    }
    let path = match &args.path {
        Some(p) => cwd.join(p),
        None => default_path(&repo, manifest.defaults.worktrees.as_deref(), &name)?,
    };
    let path = normalize(&path);
    if path.exists() && !is_empty_dir(&path) {
        return refuse(
            io,
            format!(
                "{} already exists; choose another place with --path, or move it away",
                path.display()
            ),
        );
    }

    let role = match args.role {
        RoleArg::Writer => Role::Writer,
        RoleArg::Proposer => Role::Proposer,
    };
    let agent = Agent {
        name: name.clone(),
        branch: branch.clone(),
        path: path.clone(),
        base: base.clone(),
        scope: args.scope.clone(),
        areas: args.area.clone(),
        task: args.task.clone(),
        role: manifest
            .agents
            .get(&name)
            .map(|s| s.role)
            .filter(|_| args.role == RoleArg::Writer)
            .unwrap_or(role),
        mode: if args.clone {
            Mode::Clone
        } else {
            Mode::Worktree
        },
        state: State::Adding,
        created: registry::now_unix(),
        port: None,
        adding_pid: Some(std::process::id()),
        setup_failed: false,
    };
    let reserved = registry.update(|agents| {
        if agents.contains_key(&name) {
            return Ok(false);
        }
        let mut agent = agent.clone();
        agent.port = Some(registry::free_port(&name, agents));
        agents.insert(name.clone(), agent);
        Ok(true)
    })?;
    if !reserved {
        return refuse(
            io,
            format!("agent '{name}' was just created by another git-agent process"),
        );
    }
    let unreserve = || {
        let _ = registry.update(|agents| {
            agents.remove(&name);
            Ok(())
        });
    };

    let made = if args.clone {
        make_clone(&repo, &path, &branch, base_tip)
    } else {
        make_worktree(
            &repo,
            &registry,
            &path,
            &full_branch,
            base_tip,
            &format!("git-agent: add {name} from {base}"),
        )
    };
    if let Err(e) = made {
        unreserve();
        return Err(e);
    }
    let canonical = std::fs::canonicalize(&path).unwrap_or(path.clone());
    let main_root = repo::main_workdir(&repo);
    let setup_failed = prepare_worktree(&manifest, main_root.as_deref(), &canonical, &name, io)?;
    registry.update(|agents| {
        if let Some(a) = agents.get_mut(&name) {
            a.state = State::Ready;
            a.adding_pid = None;
            a.path = canonical.clone();
            a.setup_failed = setup_failed;
        }
        crate::ops::sealing::seal(repo.common_dir(), agents, &[&name])
    })?;

    let w = &mut io.err;
    let mut scope_desc: Vec<String> = args.area.iter().map(|a| format!("area {a}")).collect();
    scope_desc.extend(args.scope.iter().cloned());
    if let Some(standing) = manifest.agents.get(&name) {
        scope_desc.extend(standing.scope.iter().map(|p| format!("{p} (standing)")));
    }
    let res: std::io::Result<()> = (|| {
        writeln!(w, "created agent '{name}' on branch {branch} from {base}")?;
        if scope_desc.is_empty() {
            writeln!(
                w,
                "warning: agent '{name}' has an empty scope, so every commit it makes will be refused; widen it with `git agent scope add {name} PAT`"
            )?;
        } else {
            writeln!(w, "scope: {}", scope_desc.join(", "))?;
        }
        Ok(())
    })();
    res.map_err(Error::io("writing"))?;
    warn_overlapping_scopes(&repo, &name, io)?;
    crate::commands::init::uncommitted_policy_note(&repo, &base, io)?;
    if !crate::ops::hooks::is_installed(&repo)? {
        writeln!(
            io.err,
            "warning: the pre-commit gate is not installed, so commits are not checked yet; run `git agent hooks install`"
        )
        .map_err(Error::io("writing"))?;
    }
    writeln!(io.out, "{}", canonical.display()).map_err(Error::io("writing"))?;
    Ok(if setup_failed {
        Outcome::Refused
    } else {
        Outcome::Done
    })
}

/// Warn when the new agent's scope allows files another live agent's scope
/// allows too: they may end up editing the same files.
fn warn_overlapping_scopes(repo: &gix::Repository, name: &str, io: &mut Io) -> Result<()> {
    let agents: Vec<_> = context::registry(repo).load()?.into_values().collect();
    for overlap in crate::ops::forecast::scope_overlaps(repo, &agents, Some(name))? {
        let other = if overlap.left == name {
            &overlap.right
        } else {
            &overlap.left
        };
        writeln!(
            io.err,
            "warning: the scope of '{name}' overlaps agent '{other}''s on {} file{}, e.g. {}; they may change the same files (see `git agent conflicts`)",
            overlap.files,
            if overlap.files == 1 { "" } else { "s" },
            overlap.examples.join(", ")
        )
        .map_err(Error::io("writing"))?;
    }
    Ok(())
}

/// Make a new worktree ready to work in: the policy's `copy` files, then
/// submodules, then its `setup` commands. Returns whether setup failed; the
/// agent stays created either way, so the user can fix and re-run.
fn prepare_worktree(
    manifest: &crate::policy::manifest::Manifest,
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
    cmd.arg("-c")
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

/// Branch `full_branch` at `base_tip`, checked out in a new worktree at
/// `path`; on failure, whatever was made is removed again.
fn make_worktree(
    repo: &gix::Repository,
    registry: &registry::Registry,
    path: &Path,
    full_branch: &str,
    base_tip: gix::ObjectId,
    log_message: &str,
) -> Result<()> {
    repo.reference(
        full_branch,
        base_tip,
        gix::refs::transaction::PreviousValue::MustNotExist,
        log_message,
    )
    .git("creating the agent's branch")?;
    let added = check_out_worktree(repo, registry, path, full_branch);
    if let Err(e) = added {
        if let Ok(Some(r)) = repo.try_find_reference(full_branch) {
            let _ = r.delete();
        }
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
            let (_bar, progress) = crate::ui::progress::Bar::checkout("checking out");
            p.checkout(progress, &interrupt)
        })
        .map(|_| ())
        .map_err(|e| Error::Git {
            context: format!("adding the worktree at {}", path.display()),
            message: e.to_string(),
        })
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
) -> Result<()> {
    let source = repo::main_workdir(repo).unwrap_or_else(|| repo.common_dir().to_owned());
    let home =
        std::fs::canonicalize(repo.common_dir()).unwrap_or_else(|_| repo.common_dir().to_owned());
    let _bar = crate::ui::progress::Bar::spinner("cloning");
    let result = (|| -> Result<()> {
        let dest = path.to_string_lossy().into_owned();
        let src = source.to_string_lossy().into_owned();
        crate::git::run(
            &source,
            &["clone", "--quiet", "--shared", "--no-checkout", &src, &dest],
        )?;
        crate::git::run(path, &["config", repo::HOME_KEY, &home.to_string_lossy()])?;
        crate::git::run(
            path,
            &["checkout", "--quiet", "-b", branch, &base_tip.to_string()],
        )?;
        let clone = gix::open(path).git("opening the new clone")?;
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
