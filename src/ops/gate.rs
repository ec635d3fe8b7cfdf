//! `git agent scope`: show and edit an agent's scope, and `scope check`,
//! the gate that the pre-commit hook and `land` run.

use std::path::{Component, Path, PathBuf};

use gix::bstr::BString;
use serde::Serialize;

use crate::Io;
use crate::error::{Error, GitContext, Result};
use crate::git::changes::{self, Change, ChangeKind};
use crate::git::repo;
use crate::ops::context;
use crate::policy::manifest::{MANIFEST_FILE, Manifest, nearest};
use crate::policy::scope::{Origin, Scope, Verdict};
use crate::state::registry::{Agent, Agents};

/// Who is being checked, with the policy that applies to them.
pub struct Subject {
    pub name: String,
    pub base: String,
    pub registered: Option<Agent>,
    pub patterns: Vec<(String, Origin)>,
    pub manifest: Manifest,
    /// Found from the current worktree rather than named.
    pub detected: bool,
}

impl Subject {
    pub fn scope(&self, repo: &gix::Repository) -> Result<Scope> {
        Scope::new(
            &self.patterns,
            &self.manifest.protected,
            repo::ignore_case(repo),
        )
    }
}

pub fn unknown_agent(name: &str, agents: &Agents, manifest: Option<&Manifest>) -> Error {
    let mut known: Vec<&str> = agents.keys().map(String::as_str).collect();
    if let Some(m) = manifest {
        known.extend(m.agents.keys().map(String::as_str));
    }
    known.sort();
    known.dedup();
    let hint = match (nearest(name, known.iter().copied()), known.is_empty()) {
        (Some(near), _) => format!("did you mean '{near}'? Known agents: {}", known.join(", ")),
        (None, true) => {
            "there are no agents yet: create one with `git agent add NAME --scope PAT`".to_owned()
        }
        (None, false) => format!("known agents: {}", known.join(", ")),
    };
    Error::UnknownAgent {
        name: name.to_owned(),
        hint,
    }
}

/// Find the agent: `named` if given (registered, or standing in the
/// committed manifest), else the agent of the current worktree, else the
/// agent that owns branch `branch_hint` ([`Manifest::branch_owner`]).
pub fn resolve_subject(
    repo: &gix::Repository,
    named: Option<&str>,
    branch_hint: Option<&str>,
) -> Result<Option<Subject>> {
    resolve_subject_at(repo, named, branch_hint, None)
}

/// [`resolve_subject`], reading the standing policy at `fallback` when the
/// base is not a local branch: a CI clone has `origin/main`, not `main`,
/// and the base end of the range it checks is the base as CI fetched it.
pub fn resolve_subject_at(
    repo: &gix::Repository,
    named: Option<&str>,
    branch_hint: Option<&str>,
    fallback: Option<gix::ObjectId>,
) -> Result<Option<Subject>> {
    // In an agent's clone, the registry and policy live in its home repository.
    let home = repo::control(repo)?;
    let control = home.as_ref().unwrap_or(repo);
    let agents = context::registry(control).load()?;
    let (name, detected) = match named {
        Some(n) => (n.to_owned(), false),
        None => match context::agent_of_worktree(repo, &agents) {
            Some(a) => (a.name.clone(), true),
            None => match branch_hint {
                Some(branch) => match standing_policy(control, fallback)?.1.branch_owner(branch) {
                    Some(n) => (n, false),
                    None => return Ok(None),
                },
                None => return Ok(None),
            },
        },
    };
    if let Some(agent) = agents.get(&name) {
        return subject_of(control, agent, detected).map(Some);
    }
    let (base, manifest) = standing_policy(control, fallback)?;
    let Some(standing) = manifest.agents.get(&name) else {
        return Err(unknown_agent(&name, &agents, Some(&manifest)));
    };
    Ok(Some(Subject {
        name,
        base,
        registered: None,
        patterns: standing_patterns(standing),
        manifest,
        detected,
    }))
}

/// The subject of the registered `agent`, as this entry has it: its
/// areas, its own patterns and its standing ones, under the policy
/// committed on its base. `control` is the repository holding the policy.
pub fn subject_of(control: &gix::Repository, agent: &Agent, detected: bool) -> Result<Subject> {
    let manifest = repo::load_policy(control, &agent.base)?;
    let mut patterns = Vec::new();
    for area in &agent.areas {
        let Some(list) = manifest.areas.get(area) else {
            return Err(unknown_area(area, &manifest, &agent.base));
        };
        patterns.extend(list.iter().map(|p| (p.clone(), Origin::Area(area.clone()))));
    }
    patterns.extend(agent.scope.iter().map(|p| (p.clone(), Origin::Scope)));
    // The committed patterns come last, so a committed exclusion wins
    // over a pattern given at `add`.
    if let Some(standing) = manifest.agents.get(&agent.name) {
        patterns.extend(standing.scope.iter().map(|p| (p.clone(), Origin::Standing)));
    }
    Ok(Subject {
        name: agent.name.clone(),
        base: agent.base.clone(),
        registered: Some(agent.clone()),
        patterns,
        manifest,
        detected,
    })
}

pub fn standing_patterns(
    standing: &crate::policy::manifest::StandingAgent,
) -> Vec<(String, Origin)> {
    standing
        .scope
        .iter()
        .map(|p| (p.clone(), Origin::Standing))
        .collect()
}

/// The base and the policy committed on it; at `fallback` when the base
/// is not a local branch, else the empty policy.
fn standing_policy(
    control: &gix::Repository,
    fallback: Option<gix::ObjectId>,
) -> Result<(String, Manifest)> {
    let base = repo::default_base(control)?;
    let manifest = match (repo::load_policy(control, &base), fallback) {
        (Err(Error::UnknownBase { .. }), Some(at)) => repo::load_policy_at(
            control,
            at,
            &format!(
                "{MANIFEST_FILE} at the range's base {}",
                at.to_hex_with_len(12)
            ),
        )?,
        (Err(Error::UnknownBase { .. }), None) => Manifest::default(),
        (result, _) => result?,
    };
    Ok((base, manifest))
}

pub fn unknown_area(area: &str, manifest: &Manifest, base: &str) -> Error {
    let known: Vec<&str> = manifest.areas.keys().map(String::as_str).collect();
    let hint = match nearest(area, known.iter().copied()) {
        Some(near) => format!(
            "did you mean '{near}'? Areas on {base}: {}",
            known.join(", ")
        ),
        None if known.is_empty() => format!(
            "the policy on {base} defines no areas; add one under `areas:` in .git-agent.yaml and commit it on {base}"
        ),
        None => format!("areas on {base}: {}", known.join(", ")),
    };
    Error::UnknownArea {
        area: area.to_owned(),
        hint,
    }
}

pub fn no_agent() -> Error {
    Error::NoAgent {
        cwd: std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| ".".into()),
    }
}

/// How `scope set|add|rm` changes an agent's own patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Set,
    Add,
    Remove,
}

/// What an edit of a scope came to.
pub enum Edited {
    /// Refused, and the refusal said on stderr.
    Refused,
    /// The agent's own patterns after the edit.
    Scope(Vec<String>),
}

/// `scope set|add|rm`: change agent `name`'s own patterns, sealing the
/// result.
pub fn edit_scope(
    repo: &gix::Repository,
    name: &str,
    patterns: &[String],
    how: Edit,
    io: &mut Io,
) -> Result<Edited> {
    let registry = context::registry(repo);
    let agents = registry.load()?;
    if refuse_edit(repo, &agents, name, patterns, io)? {
        return Ok(Edited::Refused);
    }
    let edited = registry.update(|agents| {
        let Some(agent) = agents.get_mut(name) else {
            return Err(unknown_agent(name, agents, None));
        };
        // Checked here, on the entry as it is under the lock, against the
        // seal as it is: an entry read before another edit would look
        // tampered, and a hand edit made after a check would be sealed.
        if let Some(refusal) = crate::ops::sealing::edit_refusal(repo, agent)? {
            return Ok(Err(refusal));
        }
        apply_edit(&mut agent.scope, name, patterns, how)?;
        let scope = agent.scope.clone();
        crate::ops::sealing::seal(repo.common_dir(), agents, &[name])?;
        crate::state::crash::point("scope:after-seal");
        Ok(Ok(scope))
    })?;
    crate::state::crash::point("scope:after-registry-write");
    match edited {
        Ok(scope) => Ok(Edited::Scope(scope)),
        Err(refusal) => {
            writeln!(io.err, "{refusal}").map_err(Error::io("writing"))?;
            Ok(Edited::Refused)
        }
    }
}

/// Whether the edit is refused (and said so), after checking that the
/// agent is registered and the patterns are valid.
fn refuse_edit(
    repo: &gix::Repository,
    agents: &Agents,
    name: &str,
    patterns: &[String],
    io: &mut Io,
) -> Result<bool> {
    // Humans orchestrate: an agent may not widen its own scope.
    if let Some(refusal) =
        crate::ops::authority::who_may_act(repo, crate::ops::authority::Action::EditScope(name))?
    {
        refusal.say(io)?;
        return Ok(true);
    }
    if !agents.contains_key(name) {
        let base = repo::default_base(repo)?;
        let manifest = repo::load_policy(repo, &base).ok();
        if manifest
            .as_ref()
            .is_some_and(|m| m.agents.contains_key(name))
        {
            return Err(Error::usage(
                format!("'{name}' is a standing agent of .git-agent.yaml"),
                format!(
                    "edit its scope under `agents:` in .git-agent.yaml and commit it on {base}"
                ),
            ));
        }
        return Err(unknown_agent(name, agents, manifest.as_ref()));
    }
    let ignore_case = repo::ignore_case(repo);
    for p in patterns {
        crate::policy::pattern::Pattern::new(p, ignore_case).map_err(|why| {
            Error::InvalidPattern {
                pattern: p.clone(),
                why,
            }
        })?;
    }
    Ok(false)
}

fn apply_edit(scope: &mut Vec<String>, name: &str, patterns: &[String], how: Edit) -> Result<()> {
    match how {
        Edit::Set => *scope = patterns.to_vec(),
        Edit::Add => {
            for p in patterns {
                if !scope.contains(p) {
                    scope.push(p.clone());
                }
            }
        }
        Edit::Remove => {
            for p in patterns {
                if !scope.contains(p) {
                    return Err(Error::usage(
                        format!("'{p}' is not in the scope of agent '{name}'"),
                        format!("its own patterns are: {}", scope.join(", ")),
                    ));
                }
            }
            scope.retain(|p| !patterns.contains(p));
        }
    }
    Ok(())
}

/// One refused path, for the text and JSON reports.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// The path's bytes; JSON gets a lossy UTF-8 copy.
    #[serde(serialize_with = "changes::lossy")]
    pub path: BString,
    pub kind: Option<ChangeKind>,
    /// Set under `--range`: the commit that made the change.
    pub commit: Option<String>,
    pub summary: Option<String>,
    pub reason: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Judge each commit's changes against `scope` and `limit` into `report`.
pub fn judge_commits(
    scope: &Scope,
    limit: Option<u64>,
    commits: &[changes::CommitChanges],
    report: &mut Report,
) {
    for commit in commits {
        let short = &commit.commit[..12.min(commit.commit.len())];
        if let Some(max) = limit
            && commit.changes.len() as u64 > max
        {
            report.problems.push(format!(
                "commit {short} changes {} files, more than limits.max_files_per_commit ({max})",
                commit.changes.len()
            ));
        }
        for change in &commit.changes {
            report.checked += 1;
            let verdict = scope.decide(&change.path);
            if !verdict.allowed {
                report.refused.push(Refusal {
                    path: change.path.clone(),
                    kind: Some(change.kind),
                    commit: Some(commit.commit.clone()),
                    summary: Some(commit.summary.clone()),
                    reason: verdict.reason(),
                    verdict,
                });
            }
        }
    }
}

/// The whole result of a check, rendered once for humans and once as JSON.
#[derive(Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub agent: String,
    pub base: String,
    pub mode: &'static str,
    pub ok: bool,
    /// Paths (counting each commit separately under --range) checked.
    pub checked: usize,
    pub refused: Vec<Refusal>,
    /// Problems that are not about one path: a wrong branch, a limit.
    pub problems: Vec<String>,
    pub scope: Vec<String>,
}

/// What `scope check` is asked to check.
#[derive(Debug, Default)]
pub struct CheckRequest<'a> {
    /// `A..B`: every commit in the range.
    pub range: Option<&'a str>,
    /// Paths given on the command line.
    pub paths: &'a [String],
    pub agent: Option<&'a str>,
    pub agent_from_branch: Option<&'a str>,
    /// Run as the pre-commit hook: outside agent worktrees, nothing to check.
    pub hook: bool,
}

/// The outcome of a check, before it is rendered.
pub enum Checked {
    /// An agent committing outside its own worktree: why it is refused.
    Away(String),
    /// The hook, outside every agent's worktree: everything is allowed.
    NoAgent,
    /// No agent owns the branch given with --agent-from-branch.
    Unowned(String),
    /// The changes were judged.
    Judged(Report, Box<Subject>),
}

/// The gate: judge the staged changes, a range's commits or given paths
/// against the scope of the agent they belong to.
pub fn check(repo: &gix::Repository, cwd: &Path, req: &CheckRequest) -> Result<Checked> {
    let range = req.range.map(parse_range).transpose()?;
    if range.is_none()
        && req.paths.is_empty()
        && req.agent.is_none()
        && req.agent_from_branch.is_none()
        && let Some(why) = crate::ops::authority::commit_away_from_home(repo)?
    {
        return Ok(Checked::Away(why));
    }
    let range_ids = match &range {
        Some((from, to)) => Some((resolve_rev(repo, from)?, resolve_rev(repo, to)?)),
        None => None,
    };
    let branch_hint = req
        .agent_from_branch
        .or(range.as_ref().map(|(_, b)| b.as_str()));
    let fallback = range_ids.map(|(from, _)| from);
    let subject = match resolve_subject_at(repo, req.agent, branch_hint, fallback)? {
        Some(s) => s,
        // Outside every agent's worktree the hook allows everything.
        None if req.hook => return Ok(Checked::NoAgent),
        // CI on a branch no agent owns: a person's pull request.
        None if let Some(branch) = req.agent_from_branch => {
            return Ok(Checked::Unowned(branch.to_owned()));
        }
        None => return Err(no_agent()),
    };
    let scope = subject.scope(repo)?;
    let mut report = Report::new(&subject, &scope);
    if let Some((from_id, to_id)) = range_ids {
        report.mode = "range";
        let commits = changes::range(repo, from_id, to_id)?;
        judge_commits(
            &scope,
            subject.manifest.limits.max_files_per_commit,
            &commits,
            &mut report,
        );
    } else if !req.paths.is_empty() {
        report.mode = "paths";
        judge_paths(repo, cwd, &scope, req.paths, &mut report)?;
    } else {
        judge_staged(repo, &subject, &scope, &mut report)?;
    }
    report.ok = report.refused.is_empty() && report.problems.is_empty();
    Ok(Checked::Judged(report, Box::new(subject)))
}

impl Report {
    /// An empty report on `subject`'s changes, in the staged mode.
    pub fn new(subject: &Subject, scope: &Scope) -> Report {
        Report {
            version: 1,
            agent: subject.name.clone(),
            base: subject.base.clone(),
            mode: "staged",
            ok: true,
            checked: 0,
            refused: Vec::new(),
            problems: Vec::new(),
            scope: scope.patterns().map(|(p, _)| p.to_owned()).collect(),
        }
    }

    /// Judge one change (made by `commit`, id and summary, under --range).
    fn judge(&mut self, scope: &Scope, change: &Change, commit: Option<(&str, &str)>) {
        self.checked += 1;
        let verdict = scope.decide(&change.path);
        if !verdict.allowed {
            self.refused.push(Refusal {
                path: change.path.clone(),
                kind: Some(change.kind),
                commit: commit.map(|c| c.0.to_owned()),
                summary: commit.map(|c| c.1.to_owned()),
                reason: verdict.reason(),
                verdict,
            });
        }
    }
}

/// `--paths`: each given path, as if modified.
fn judge_paths(
    repo: &gix::Repository,
    cwd: &Path,
    scope: &Scope,
    paths: &[String],
    report: &mut Report,
) -> Result<()> {
    for p in paths {
        let path = repo_relative(repo, cwd, p)?;
        let change = Change {
            path: path.into(),
            kind: ChangeKind::Modified,
        };
        report.judge(scope, &change, None);
    }
    for r in &mut report.refused {
        r.kind = None;
    }
    Ok(())
}

/// `--staged` (the hook's check): the index against HEAD, on the agent's
/// own branch, within the commit's file limit.
fn judge_staged(
    repo: &gix::Repository,
    subject: &Subject,
    scope: &Scope,
    report: &mut Report,
) -> Result<()> {
    if repo.workdir().is_none() {
        return Err(Error::usage(
            "--staged needs a worktree, and this repository is bare",
            "check commits instead: git agent scope check --agent NAME --range BASE..BRANCH",
        ));
    }
    if subject.detected
        && let Some(agent) = &subject.registered
    {
        let branch = repo::current_branch(repo);
        if branch.as_deref() != Some(agent.branch.as_str()) {
            report.problems.push(format!(
                "this is agent '{}''s worktree, but HEAD is {}, not '{}'; an agent commits only on its own branch (fix: git switch {})",
                agent.name,
                branch.map(|b| format!("on '{b}'")).unwrap_or_else(|| "detached".into()),
                agent.branch,
                agent.branch
            ));
        }
    }
    let staged = changes::staged_own(repo, || base_tip(repo, &subject.base))?;
    if let Some(max) = subject.manifest.limits.max_files_per_commit
        && staged.len() as u64 > max
    {
        report.problems.push(format!(
            "{} files are staged, more than limits.max_files_per_commit ({max}); split the commit",
            staged.len()
        ));
    }
    for change in &staged {
        report.judge(scope, change, None);
    }
    Ok(())
}

/// Quote for a POSIX shell when needed.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The tip of branch `base`, read where the policy is: in an agent's clone,
/// from its home repository.
fn base_tip(repo: &gix::Repository, base: &str) -> Result<Option<gix::ObjectId>> {
    match repo::control(repo)? {
        Some(home) => repo::branch_tip(&home, base),
        None => repo::branch_tip(repo, base),
    }
}

fn parse_range(range: &str) -> Result<(String, String)> {
    if range.contains("...") {
        return Err(Error::InvalidRange {
            range: range.to_owned(),
            why: "a symmetric difference (A...B) is not a branch's commits".into(),
        });
    }
    match range.split_once("..") {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
        _ => Err(Error::InvalidRange {
            range: range.to_owned(),
            why: "expected A..B".into(),
        }),
    }
}

fn resolve_rev(repo: &gix::Repository, rev: &str) -> Result<gix::ObjectId> {
    let id = repo
        .rev_parse_single(rev)
        .map_err(|e| Error::InvalidRange {
            range: rev.to_owned(),
            why: format!("'{rev}' is not a known revision ({e})"),
        })?;
    // Peel tags to the commit they name.
    let commit = id
        .object()
        .git("reading a revision")?
        .peel_to_commit()
        .map_err(|e| Error::InvalidRange {
            range: rev.to_owned(),
            why: format!("'{rev}' does not name a commit ({e})"),
        })?;
    Ok(commit.id)
}

/// A path given on the command line, relative to the current directory as
/// git's pathspecs are, made relative to the repository root.
fn repo_relative(repo: &gix::Repository, cwd: &Path, given: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::usage(
            format!("invalid path '{given}': {why}"),
            "give a path inside the repository",
        )
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(workdir) = repo.workdir() {
        let root = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_owned());
        let here = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_owned());
        if let Ok(rel) = here.strip_prefix(&root) {
            parts.extend(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned()),
            );
        }
    }
    let given_path = PathBuf::from(given);
    if given_path.is_absolute() {
        let workdir = repo
            .workdir()
            .ok_or_else(|| bad("absolute paths need a worktree"))?;
        let root = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_owned());
        let rel = given_path
            .strip_prefix(&root)
            .map_err(|_| bad("it is outside the repository"))?;
        parts.clear();
        push_components(&mut parts, rel).map_err(|_| bad("it leaves the repository"))?;
    } else {
        push_components(&mut parts, &given_path).map_err(|_| bad("it leaves the repository"))?;
    }
    if parts.is_empty() {
        return Err(bad("it names the repository root, not a path in it"));
    }
    Ok(parts.join("/"))
}

fn push_components(parts: &mut Vec<String>, path: &Path) -> std::result::Result<(), ()> {
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop().ok_or(())?;
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => return Err(()),
        }
    }
    Ok(())
}
