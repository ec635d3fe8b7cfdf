//! `git agent doctor`: find drift between the registry, git's worktrees and
//! branches, and the leases; print each problem with its fix; `--fix`
//! repairs. Every repair keeps work: a branch with commits the base lacks is
//! archived before it is deleted.

use std::path::PathBuf;

use gix::bstr::ByteSlice;
use serde::Serialize;

use crate::Io;
use crate::cli::DoctorArgs;
use crate::error::{Error, GitContext, Outcome, Result};
use crate::registry::{self, Agent, Mode, State};
use crate::{archive, lease, repo, rm};

#[derive(Debug)]
enum Problem {
    /// An `add` (or `restore`) stopped half-way: roll it back.
    HalfAdded(Agent),
    /// The worktree was moved, and git knows the new place.
    Moved(Agent, PathBuf),
    /// The worktree is gone; recreate it from the branch.
    DirectoryMissing(Agent),
    /// The branch is gone.
    BranchMissing(Agent),
    /// `agent/NAME` with no registry entry, checked out in a worktree.
    Unregistered {
        name: String,
        path: PathBuf,
    },
    /// `agent/NAME` with no registry entry and no worktree.
    OrphanBranch(String),
    StaleLease {
        agent: String,
        pid: u32,
    },
    /// An agent's clone is gone, and its branch with it.
    CloneMissing(Agent),
}

impl Problem {
    fn describe(&self) -> (String, String) {
        match self {
            Problem::HalfAdded(a) => (
                format!("agent '{}': `add` did not finish", a.name),
                "roll it back: remove its partial worktree, its new branch and its entry".into(),
            ),
            Problem::Moved(a, to) => (
                format!(
                    "agent '{}': its worktree moved from {} to {}",
                    a.name,
                    a.path.display(),
                    to.display()
                ),
                "record the new place in the registry".into(),
            ),
            Problem::DirectoryMissing(a) => (
                format!(
                    "agent '{}': its worktree {} is missing (deleted or moved by hand)",
                    a.name,
                    a.path.display()
                ),
                format!(
                    "if you moved it, run `git worktree repair NEWPATH` first; otherwise recreate it from branch {}",
                    a.branch
                ),
            ),
            Problem::BranchMissing(a) => (
                format!("agent '{}': its branch {} is missing", a.name, a.branch),
                if a.path.is_dir() {
                    "recreate the branch at the worktree's HEAD, or at the base if that is gone too"
                        .into()
                } else {
                    "remove the registry entry: neither its branch nor its worktree exists".into()
                },
            ),
            Problem::Unregistered { name, path } => (
                format!(
                    "branch agent/{name} is checked out in {} but is not a registered agent",
                    path.display()
                ),
                format!(
                    "register it as agent '{name}' with an empty scope (widen it with `git agent scope add {name} PAT`)"
                ),
            ),
            Problem::OrphanBranch(name) => (
                format!("branch agent/{name} belongs to no agent"),
                format!(
                    "archive it under refs/agent-archive/{name}/ and delete it (`git agent restore {name}` brings it back)"
                ),
            ),
            Problem::CloneMissing(a) => (
                format!(
                    "agent '{}': its clone {} is missing",
                    a.name,
                    a.path.display()
                ),
                "remove the registry entry (its branch lived in the clone)".into(),
            ),
            Problem::StaleLease { agent, pid } => (
                format!("agent '{agent}': its lease is held by pid {pid}, which is gone"),
                "remove the stale lease".into(),
            ),
        }
    }
}

/// One problem in `doctor --json`.
#[derive(Serialize)]
struct ProblemJson {
    kind: &'static str,
    agent: String,
    /// The directory the problem is about, when it is about one.
    path: Option<String>,
    /// Where git says a moved worktree is now.
    moved_to: Option<String>,
    /// The dead process a stale lease names.
    pid: Option<u32>,
    problem: String,
    fix: String,
    fixed: bool,
    /// The archive ref unlanded work was kept under before a branch was deleted.
    archived: Option<String>,
}

#[derive(Serialize)]
struct Json {
    version: u32,
    fix: bool,
    problems: Vec<ProblemJson>,
}

impl Problem {
    fn kind(&self) -> &'static str {
        match self {
            Problem::HalfAdded(_) => "half_added",
            Problem::Moved(..) => "moved",
            Problem::DirectoryMissing(_) => "directory_missing",
            Problem::BranchMissing(_) => "branch_missing",
            Problem::Unregistered { .. } => "unregistered",
            Problem::OrphanBranch(_) => "orphan_branch",
            Problem::StaleLease { .. } => "stale_lease",
            Problem::CloneMissing(_) => "clone_missing",
        }
    }

    fn json(&self) -> ProblemJson {
        let (problem, fix) = self.describe();
        let show = |p: &std::path::Path| Some(p.display().to_string());
        let (agent, path, moved_to, pid) = match self {
            Problem::HalfAdded(a)
            | Problem::DirectoryMissing(a)
            | Problem::BranchMissing(a)
            | Problem::CloneMissing(a) => (a.name.clone(), show(&a.path), None, None),
            Problem::Moved(a, to) => (a.name.clone(), show(&a.path), show(to), None),
            Problem::Unregistered { name, path } => (name.clone(), show(path), None, None),
            Problem::OrphanBranch(name) => (name.clone(), None, None, None),
            Problem::StaleLease { agent, pid } => (agent.clone(), None, None, Some(*pid)),
        };
        ProblemJson {
            kind: self.kind(),
            agent,
            path,
            moved_to,
            pid,
            problem,
            fix,
            fixed: false,
            archived: None,
        }
    }
}

pub fn run(args: DoctorArgs, io: &mut Io) -> Result<Outcome> {
    let repo = repo::open(&args.common.absolute_dir()?)?;
    if args.fix
        && let Some(refusal) =
            crate::authority::who_may_act(&repo, crate::authority::Action::DoctorFix)?
    {
        refusal.render(io, args.json)?;
        return Ok(Outcome::Refused);
    }
    let problems = find(&repo)?;
    let outcome = if problems.is_empty() || args.fix {
        Outcome::Done
    } else {
        Outcome::Refused
    };
    if args.json {
        let mut reports = Vec::new();
        for p in &problems {
            // Described before the repair changes what it describes.
            let mut report = p.json();
            if args.fix {
                report.archived = repair(&repo, p)?.map(|(_, reference)| reference);
                report.fixed = true;
            }
            reports.push(report);
        }
        let text = serde_json::to_string_pretty(&Json {
            version: 1,
            fix: args.fix,
            problems: reports,
        })
        .expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
        return Ok(outcome);
    }
    let paint = io.color.out(Some(&repo));
    if problems.is_empty() {
        writeln!(io.out, "{}", paint.green("no problems found")).map_err(Error::io("writing"))?;
        return Ok(outcome);
    }
    for p in &problems {
        let (what, fix) = p.describe();
        writeln!(
            io.out,
            "{} {what}\n    fix: {}",
            paint.yellow("problem:"),
            paint.cyan(fix)
        )
        .map_err(Error::io("writing"))?;
        if args.fix {
            if let Some((branch, reference)) = repair(&repo, p)? {
                writeln!(io.out, "  archived {branch} as {}", paint.yellow(reference))
                    .map_err(Error::io("writing"))?;
            }
            writeln!(io.out, "  {}", paint.green("fixed.")).map_err(Error::io("writing"))?;
        }
    }
    if !args.fix {
        writeln!(
            io.out,
            "\n{} problem(s); `git agent doctor --fix` repairs them",
            problems.len()
        )
        .map_err(Error::io("writing"))?;
    }
    Ok(outcome)
}

/// Git's registered worktrees: (path, checked-out branch short name).
fn git_worktrees(repo: &gix::Repository) -> Result<Vec<(PathBuf, Option<String>)>> {
    let mut out = Vec::new();
    for proxy in repo.worktrees().git("listing worktrees")? {
        let Ok(base) = proxy.base() else { continue };
        let head = std::fs::read_to_string(proxy.git_dir().join("HEAD")).unwrap_or_default();
        let branch = head
            .trim()
            .strip_prefix("ref: refs/heads/")
            .map(str::to_owned);
        out.push((base, branch));
    }
    Ok(out)
}

fn find(repo: &gix::Repository) -> Result<Vec<Problem>> {
    let agents = repo::registry(repo).load()?;
    let worktrees = git_worktrees(repo)?;
    let mut problems = Vec::new();
    for agent in agents.values() {
        if agent.state == State::Adding {
            if agent
                .adding_pid
                .is_some_and(|pid| !registry::process_is_gone(pid))
            {
                continue; // still being added
            }
            problems.push(Problem::HalfAdded(agent.clone()));
            continue;
        }
        if let Some(l) = lease::stale(repo.common_dir(), &agent.name)? {
            problems.push(Problem::StaleLease {
                agent: agent.name.clone(),
                pid: l.pid,
            });
        }
        if agent.mode == Mode::Clone {
            if !agent.path.is_dir() {
                problems.push(Problem::CloneMissing(agent.clone()));
            } else if repo::branch_tip(&repo::branch_repo(repo, agent)?, &agent.branch)?.is_none() {
                problems.push(Problem::BranchMissing(agent.clone()));
            }
            continue;
        }
        let branch_exists = repo::branch_tip(repo, &agent.branch)?.is_some();
        if !agent.path.is_dir() {
            let moved = worktrees.iter().find(|(path, branch)| {
                branch.as_deref() == Some(agent.branch.as_str()) && path.is_dir()
            });
            match moved {
                Some((to, _)) if agent.mode == Mode::Worktree => {
                    problems.push(Problem::Moved(agent.clone(), to.clone()))
                }
                _ if branch_exists => problems.push(Problem::DirectoryMissing(agent.clone())),
                _ => {}
            }
        }
        if !branch_exists {
            problems.push(Problem::BranchMissing(agent.clone()));
        }
    }
    let refs = repo.references().git("reading refs")?;
    for r in refs.prefixed("refs/heads/agent/").git("reading branches")? {
        let r = r.git("reading a branch")?;
        let name = r
            .name()
            .as_bstr()
            .to_str_lossy()
            .trim_start_matches("refs/heads/agent/")
            .to_owned();
        if agents.contains_key(&name) {
            continue;
        }
        let branch = format!("agent/{name}");
        match worktrees
            .iter()
            .find(|(p, b)| b.as_deref() == Some(branch.as_str()) && p.is_dir())
        {
            Some((path, _)) => problems.push(Problem::Unregistered {
                name,
                path: path.clone(),
            }),
            None => problems.push(Problem::OrphanBranch(name)),
        }
    }
    Ok(problems)
}

/// Repair `problem`. `Some((branch, archive ref))` when a branch with
/// unlanded work was archived before it was deleted.
fn repair(repo: &gix::Repository, problem: &Problem) -> Result<Option<(String, String)>> {
    let registry = repo::registry(repo);
    match problem {
        Problem::HalfAdded(agent) => {
            rm::remove_worktree(repo, agent)?;
            let archived = delete_branch_keeping_work(repo, agent)?;
            registry.update(|agents| {
                agents.remove(&agent.name);
                Ok(())
            })?;
            return Ok(archived);
        }
        Problem::Moved(agent, to) => {
            let to = to.clone();
            registry.update(|agents| {
                if let Some(a) = agents.get_mut(&agent.name) {
                    a.path = to;
                }
                Ok(())
            })?;
        }
        Problem::DirectoryMissing(agent) => {
            // Forget the dead registration, then check the branch out again.
            crate::git::run(
                &repo::main_workdir(repo).unwrap_or_else(|| repo.common_dir().to_owned()),
                &["worktree", "prune"],
            )?;
            let full = format!("refs/heads/{}", agent.branch);
            crate::add::check_out_worktree(repo, &registry, &agent.path, &full)?;
        }
        Problem::BranchMissing(agent) => {
            if !agent.path.is_dir() {
                registry.update(|agents| {
                    agents.remove(&agent.name);
                    Ok(())
                })?;
                return Ok(None);
            }
            let at = gix::open(&agent.path)
                .ok()
                .and_then(|wt| {
                    wt.head_id()
                        .ok()
                        .map(|i| i.detach())
                        .or_else(|| last_head_from_reflog(&wt))
                })
                .or(repo::branch_tip(repo, &agent.base)?);
            let Some(at) = at else {
                return Err(Error::usage(
                    format!(
                        "cannot recreate {}: neither the worktree's HEAD nor base {} exists",
                        agent.branch, agent.base
                    ),
                    format!(
                        "create it by hand (git branch {} <commit>), then run doctor again",
                        agent.branch
                    ),
                ));
            };
            repo::branch_repo(repo, agent)?
                .reference(
                    format!("refs/heads/{}", agent.branch).as_str(),
                    at,
                    gix::refs::transaction::PreviousValue::MustNotExist,
                    "git-agent doctor: recreate agent branch",
                )
                .git("recreating the branch")?;
        }
        Problem::Unregistered { name, path } => {
            let base = repo::default_base(repo)?;
            let name = name.clone();
            let path = path.clone();
            registry.update(|agents| {
                let mut agent = adopted(&name, path, base);
                agent.port = Some(registry::free_port(&name, agents));
                agents.insert(name.clone(), agent);
                Ok(())
            })?;
        }
        Problem::OrphanBranch(name) => {
            let agent = adopted(name, PathBuf::new(), repo::default_base(repo)?);
            return delete_branch_keeping_work(repo, &agent);
        }
        Problem::CloneMissing(agent) => {
            registry.update(|agents| {
                agents.remove(&agent.name);
                Ok(())
            })?;
        }
        Problem::StaleLease { agent, .. } => {
            let path = lease::lease_path(repo.common_dir(), agent);
            std::fs::remove_file(&path)
                .map_err(Error::io(format!("removing {}", path.display())))?;
        }
    }
    Ok(None)
}

/// Delete the agent's branch; archive it first if it holds commits the
/// base lacks, and then say under which ref: `Some((branch, archive ref))`.
fn delete_branch_keeping_work(
    repo: &gix::Repository,
    agent: &Agent,
) -> Result<Option<(String, String)>> {
    let full = format!("refs/heads/{}", agent.branch);
    let Some(reference) = repo
        .try_find_reference(full.as_str())
        .git("looking up the branch")?
    else {
        return Ok(None);
    };
    let mut archived = None;
    if !rm::unlanded_commits(repo, agent)?.is_empty()
        && let Some(tip) = repo::branch_tip(repo, &agent.branch)?
    {
        archived = Some((
            agent.branch.clone(),
            archive::write(repo, agent, tip, false)?,
        ));
    }
    reference.delete().git("deleting the branch")?;
    Ok(archived)
}

/// With its branch deleted, a worktree's HEAD names a missing ref; its HEAD
/// reflog still knows the last commit it was on.
fn last_head_from_reflog(wt: &gix::Repository) -> Option<gix::ObjectId> {
    let log = std::fs::read_to_string(wt.git_dir().join("logs").join("HEAD")).ok()?;
    let last = log.lines().rev().find(|l| !l.trim().is_empty())?;
    let new = last.split(' ').nth(1)?;
    let id = gix::ObjectId::from_hex(new.as_bytes()).ok()?;
    wt.find_commit(id).ok().map(|c| c.id)
}

/// A registry entry for an `agent/NAME` branch found without one: an empty
/// scope until a person widens it.
fn adopted(name: &str, path: PathBuf, base: String) -> Agent {
    Agent {
        name: name.to_owned(),
        branch: format!("agent/{name}"),
        path,
        base,
        scope: Vec::new(),
        areas: Vec::new(),
        task: None,
        role: Default::default(),
        mode: Mode::Worktree,
        state: State::Ready,
        created: registry::now_unix(),
        port: None,
        adding_pid: None,
        setup_failed: false,
    }
}
