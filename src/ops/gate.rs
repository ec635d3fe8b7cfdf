//! `git agent scope`: show and edit an agent's scope, and `scope check`,
//! the gate that the pre-commit hook and `land` run.

use std::path::{Component, Path, PathBuf};

use gix::bstr::BString;
use serde::Serialize;

use crate::Io;
use crate::cli::{CheckArgs, CheckFormat, ScopeArgs, ScopeCommand, ScopeEdit};
use crate::error::{Error, GitContext, Outcome, Result};
use crate::git::changes::{self, Change, ChangeKind};
use crate::git::repo;
use crate::ops::ci;
use crate::ops::context;
use crate::policy::manifest::{MANIFEST_FILE, Manifest, nearest};
use crate::policy::scope::{Origin, Scope, Verdict};
use crate::state::registry::{Agent, Agents};
use crate::ui::color::Paint;

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

pub fn run(args: ScopeArgs, io: &mut Io) -> Result<Outcome> {
    if let (Some(name), Some(_)) = (&args.name, &args.command) {
        return Err(Error::usage(
            format!("unexpected agent name '{name}' before the subcommand"),
            "name the agent after the subcommand (`scope add NAME PAT`), or with --agent for `scope check`",
        ));
    }
    // The Claude Code hook finds its worktree from the hook's JSON, not from
    // where it was started.
    if let Some(ScopeCommand::Check(c)) = &args.command
        && c.claude_hook
    {
        return crate::ops::claude_hook::run(&mut std::io::stdin().lock(), io);
    }
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open(&cwd)?;
    match args.command {
        None => show(&repo, args.name.as_deref(), args.json, io),
        Some(ScopeCommand::Check(check_args)) => check(&repo, &cwd, &check_args, io),
        Some(ScopeCommand::Set(edit)) => edit_scope(&repo, edit, Edit::Set, io),
        Some(ScopeCommand::Add(edit)) => edit_scope(&repo, edit, Edit::Add, io),
        Some(ScopeCommand::Rm(edit)) => edit_scope(&repo, edit, Edit::Remove, io),
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
        if let Some(standing) = manifest.agents.get(&name) {
            patterns.extend(standing.scope.iter().map(|p| (p.clone(), Origin::Standing)));
        }
        return Ok(Some(Subject {
            name,
            base: agent.base.clone(),
            registered: Some(agent.clone()),
            patterns,
            manifest,
            detected,
        }));
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

#[derive(Serialize)]
struct ShowJson<'a> {
    version: u32,
    agent: &'a str,
    base: &'a str,
    registered: bool,
    patterns: Vec<PatternJson<'a>>,
    protected: &'a [String],
}

#[derive(Serialize)]
struct PatternJson<'a> {
    pattern: &'a str,
    origin: &'a Origin,
}

fn show(repo: &gix::Repository, name: Option<&str>, json: bool, io: &mut Io) -> Result<Outcome> {
    let Some(subject) = resolve_subject(repo, name, None)? else {
        return Err(no_agent());
    };
    if json {
        let value = ShowJson {
            version: 1,
            agent: &subject.name,
            base: &subject.base,
            registered: subject.registered.is_some(),
            patterns: subject
                .patterns
                .iter()
                .map(|(p, o)| PatternJson {
                    pattern: p,
                    origin: o,
                })
                .collect(),
            protected: &subject.manifest.protected,
        };
        writeln!(
            io.out,
            "{}",
            serde_json::to_string_pretty(&value).expect("serialises")
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    let paint = io.color.out(Some(repo));
    let w = &mut io.out;
    let res: std::io::Result<()> = (|| {
        writeln!(
            w,
            "agent {} (base {})",
            paint.bold(&subject.name),
            subject.base
        )?;
        if subject.patterns.is_empty() {
            writeln!(w, "  (empty scope: every change is refused)")?;
        }
        for (p, o) in &subject.patterns {
            writeln!(w, "  {p:<30} {}", paint.dim(o))?;
        }
        if !subject.manifest.protected.is_empty() {
            writeln!(
                w,
                "protected (no agent may change): {}",
                subject.manifest.protected.join(", ")
            )?;
        }
        Ok(())
    })();
    res.map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

fn no_agent() -> Error {
    Error::NoAgent {
        cwd: std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| ".".into()),
    }
}

enum Edit {
    Set,
    Add,
    Remove,
}

fn edit_scope(repo: &gix::Repository, edit: ScopeEdit, how: Edit, io: &mut Io) -> Result<Outcome> {
    let registry = context::registry(repo);
    let agents = registry.load()?;
    // Humans orchestrate: an agent may not widen its own scope.
    if let Some(refusal) = crate::ops::authority::who_may_act(
        repo,
        crate::ops::authority::Action::EditScope(&edit.name),
    )? {
        refusal.say(io)?;
        return Ok(Outcome::Refused);
    }
    if !agents.contains_key(&edit.name) {
        let base = repo::default_base(repo)?;
        let manifest = repo::load_policy(repo, &base).ok();
        if manifest
            .as_ref()
            .is_some_and(|m| m.agents.contains_key(&edit.name))
        {
            return Err(Error::usage(
                format!("'{}' is a standing agent of .git-agent.yaml", edit.name),
                format!(
                    "edit its scope under `agents:` in .git-agent.yaml and commit it on {base}"
                ),
            ));
        }
        return Err(unknown_agent(&edit.name, &agents, manifest.as_ref()));
    }
    let ignore_case = repo::ignore_case(repo);
    for p in &edit.patterns {
        crate::policy::pattern::Pattern::new(p, ignore_case).map_err(|why| {
            Error::InvalidPattern {
                pattern: p.clone(),
                why,
            }
        })?;
    }
    if let Some(refusal) = crate::ops::sealing::edit_refusal(repo, &agents[&edit.name])? {
        writeln!(io.err, "{refusal}").map_err(Error::io("writing"))?;
        return Ok(Outcome::Refused);
    }
    let name = edit.name.clone();
    let scope = registry.update(|agents| {
        let Some(agent) = agents.get_mut(&name) else {
            return Err(unknown_agent(&name, agents, None));
        };
        match how {
            Edit::Set => agent.scope = edit.patterns.clone(),
            Edit::Add => {
                for p in &edit.patterns {
                    if !agent.scope.contains(p) {
                        agent.scope.push(p.clone());
                    }
                }
            }
            Edit::Remove => {
                for p in &edit.patterns {
                    if !agent.scope.contains(p) {
                        return Err(Error::usage(
                            format!("'{p}' is not in the scope of agent '{name}'"),
                            format!("its own patterns are: {}", agent.scope.join(", ")),
                        ));
                    }
                }
                agent.scope.retain(|p| !edit.patterns.contains(p));
            }
        }
        let scope = agent.scope.clone();
        crate::ops::sealing::seal(repo.common_dir(), agents, &[&name])?;
        Ok(scope)
    })?;
    // The agent's guardrails follow its scope (issue 19). The scope is saved
    // by now, so a settings file we cannot merge into is a warning.
    if let Err(e) = crate::ops::guardrails::refresh(repo, &name) {
        writeln!(io.err, "warning: the guardrails of agent '{name}' were not rewritten: {e}; fix that, then run `git agent guard {name}`").map_err(Error::io("writing"))?;
    }
    writeln!(
        io.out,
        "scope of {}: {}",
        edit.name,
        if scope.is_empty() {
            "(empty)".to_owned()
        } else {
            scope.join(", ")
        }
    )
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
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

pub fn check(repo: &gix::Repository, cwd: &Path, args: &CheckArgs, io: &mut Io) -> Result<Outcome> {
    let range = args.range.as_deref().map(parse_range).transpose()?;
    if range.is_none()
        && args.paths.is_empty()
        && args.agent.is_none()
        && args.agent_from_branch.is_none()
    {
        let contexts = crate::ops::authority::contexts(repo)?;
        if let Some(why) = crate::ops::authority::away_from_home(&contexts) {
            return refuse_away(&why, args.json, io);
        }
    }
    let range_ids = match &range {
        Some((from, to)) => Some((resolve_rev(repo, from)?, resolve_rev(repo, to)?)),
        None => None,
    };
    let branch_hint = args
        .agent_from_branch
        .as_deref()
        .or(range.as_ref().map(|(_, b)| b.as_str()));
    let fallback = range_ids.map(|(from, _)| from);
    let subject = match resolve_subject_at(repo, args.agent.as_deref(), branch_hint, fallback)? {
        Some(s) => s,
        // Outside every agent's worktree the hook allows everything.
        None if args.hook => return Ok(Outcome::Done),
        // CI on a branch no agent owns: a person's pull request.
        None if let Some(branch) = &args.agent_from_branch => {
            return no_owner(branch, format(args), io);
        }
        None => return Err(no_agent()),
    };
    let scope = subject.scope(repo)?;
    let limit = subject.manifest.limits.max_files_per_commit;
    let mut report = Report {
        version: 1,
        agent: subject.name.clone(),
        base: subject.base.clone(),
        mode: "staged",
        ok: true,
        checked: 0,
        refused: Vec::new(),
        problems: Vec::new(),
        scope: scope.patterns().map(|(p, _)| p.to_owned()).collect(),
    };
    let judge = |report: &mut Report, change: &Change, commit: Option<(&str, &str)>| {
        report.checked += 1;
        let verdict = scope.decide(&change.path);
        if !verdict.allowed {
            report.refused.push(Refusal {
                path: change.path.clone(),
                kind: Some(change.kind),
                commit: commit.map(|c| c.0.to_owned()),
                summary: commit.map(|c| c.1.to_owned()),
                reason: verdict.reason(),
                verdict,
            });
        }
    };
    if let Some((from_id, to_id)) = range_ids {
        report.mode = "range";
        judge_commits(
            &scope,
            limit,
            &changes::range(repo, from_id, to_id)?,
            &mut report,
        );
    } else if !args.paths.is_empty() {
        report.mode = "paths";
        for p in &args.paths {
            let path = repo_relative(repo, cwd, p)?;
            judge(
                &mut report,
                &Change {
                    path: path.into(),
                    kind: ChangeKind::Modified,
                },
                None,
            );
        }
        for r in &mut report.refused {
            r.kind = None;
        }
    } else {
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
        let staged = changes::staged_own(repo, base_tip(repo, &subject.base)?)?;
        if let Some(max) = limit
            && staged.len() as u64 > max
        {
            report.problems.push(format!(
                "{} files are staged, more than limits.max_files_per_commit ({max}); split the commit",
                staged.len()
            ));
        }
        for change in &staged {
            judge(&mut report, change, None);
        }
    }
    report.ok = report.refused.is_empty() && report.problems.is_empty();
    render(&report, &subject, repo, args, io)?;
    Ok(if report.ok {
        Outcome::Done
    } else {
        Outcome::Refused
    })
}

fn format(args: &CheckArgs) -> CheckFormat {
    match (args.json, args.format) {
        (true, _) => CheckFormat::Json,
        (false, f) => f.unwrap_or(CheckFormat::Text),
    }
}

fn no_owner(branch: &str, format: CheckFormat, io: &mut Io) -> Result<Outcome> {
    let note = format!("no agent owns branch '{branch}', so there is nothing to check");
    match format {
        CheckFormat::Gitlab => writeln!(io.out, "[]"),
        CheckFormat::Github => writeln!(io.out, "::notice::{}", ci::escape_data(&note)),
        CheckFormat::Json => writeln!(
            io.out,
            "{}",
            serde_json::json!({"version": 1, "ok": true, "agent": null, "branch": branch, "checked": 0})
        ),
        CheckFormat::Text => writeln!(io.out, "git-agent: {note}"),
    }
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

/// The report in the format asked for. Refusals always go to stderr as
/// text too, for the person reading a CI log.
fn render(
    report: &Report,
    subject: &Subject,
    repo: &gix::Repository,
    args: &CheckArgs,
    io: &mut Io,
) -> Result<()> {
    let machine = match format(args) {
        CheckFormat::Text => None,
        CheckFormat::Json => Some(serde_json::to_string_pretty(report).expect("serialises")),
        CheckFormat::Github => Some(ci::github(report)),
        CheckFormat::Gitlab => Some(ci::gitlab(report)),
    };
    if let Some(text) = &machine {
        write!(io.out, "{text}").map_err(Error::io("writing"))?;
        if !text.ends_with('\n') {
            writeln!(io.out).map_err(Error::io("writing"))?;
        }
    }
    if report.ok {
        if !args.hook && machine.is_none() {
            let paint = io.color.out(Some(repo));
            writeln!(
                io.out,
                "{}: {} {} in the scope of agent '{}'",
                paint.green("ok"),
                report.checked,
                if report.checked == 1 {
                    "change is"
                } else {
                    "changes are"
                },
                report.name()
            )
            .map_err(Error::io("writing"))?;
        }
    } else if format(args) != CheckFormat::Json {
        let paint = io.color.err(Some(repo));
        render_refusal(report, subject, paint, io.err).map_err(Error::io("writing"))?;
    }
    Ok(())
}

/// The staged gate's refusal of an agent committing outside its own
/// worktree (`GIT_AGENT` set elsewhere).
fn refuse_away(why: &str, json: bool, io: &mut Io) -> Result<Outcome> {
    if json {
        let agent = std::env::var("GIT_AGENT").unwrap_or_default();
        let report = Report {
            version: 1,
            agent,
            base: String::new(),
            mode: "staged",
            ok: false,
            checked: 0,
            refused: Vec::new(),
            problems: vec![why.to_owned()],
            scope: Vec::new(),
        };
        let text = serde_json::to_string_pretty(&report).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
    } else {
        writeln!(io.err, "git-agent: commit refused: {why}").map_err(Error::io("writing"))?;
    }
    Ok(Outcome::Refused)
}

impl Report {
    fn name(&self) -> &str {
        &self.agent
    }
}

pub(crate) fn render_refusal(
    report: &Report,
    subject: &Subject,
    paint: Paint,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let what = match report.mode {
        "staged" => "commit refused",
        "range" => "branch refused",
        _ => "paths refused",
    };
    if !report.refused.is_empty() {
        let n = report.refused.len();
        let (one, many) = match report.mode {
            "staged" => ("staged path is", "staged paths are"),
            "range" => ("change in the range is", "changes in the range are"),
            _ => ("path is", "paths are"),
        };
        writeln!(
            w,
            "git-agent: {}: {n} {} outside the scope of agent '{}'",
            paint.red(what),
            if n == 1 { one } else { many },
            paint.bold(&report.agent)
        )?;
    } else {
        writeln!(
            w,
            "git-agent: {} for agent '{}'",
            paint.red(what),
            paint.bold(&report.agent)
        )?;
    }
    let width = report
        .refused
        .iter()
        .map(|r| c_quote(&r.path).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    let mut last_commit: Option<&str> = None;
    for r in &report.refused {
        if let Some(c) = r.commit.as_deref()
            && last_commit != Some(c)
        {
            writeln!(
                w,
                "  commit {} {}",
                paint.yellow(&c[..12.min(c.len())]),
                r.summary.as_deref().unwrap_or("")
            )?;
            last_commit = Some(c);
        }
        let indent = if r.commit.is_some() { "    " } else { "  " };
        // Padded outside the colour, which has no width.
        let shown = c_quote(&r.path);
        let pad = " ".repeat(width.saturating_sub(shown.chars().count()));
        writeln!(
            w,
            "{indent}{}{pad}  {}",
            paint.red(&shown),
            paint.dim(&r.reason)
        )?;
    }
    for p in &report.problems {
        writeln!(w, "  {p}")?;
    }
    if report.refused.is_empty() {
        return Ok(());
    }
    render_fixes(report, subject, paint, w)
}

/// The commands that fix a refusal, each one a person can paste into a
/// shell and that names exactly the refused paths.
fn render_fixes(
    report: &Report,
    subject: &Subject,
    paint: Paint,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let quoted: Vec<String> = report
        .refused
        .iter()
        .map(|r| shell_quote_bytes(&literal_pathspec(&r.path)))
        .collect();
    writeln!(w)?;
    match report.mode {
        "staged" => {
            writeln!(w, "To leave them out of this commit, unstage them:")?;
            writeln!(
                w,
                "  {}",
                paint.cyan(format!("git restore --staged -- {}", quoted.join(" ")))
            )?;
        }
        "range" => {
            writeln!(
                w,
                "To land, rewrite the branch without these changes (git rebase -i {} on the agent's branch, then edit or drop the commits).",
                subject.base
            )?;
        }
        _ => {}
    }
    let widenable: Vec<&Refusal> = report
        .refused
        .iter()
        .filter(|r| {
            !matches!(
                r.verdict.origin,
                Some(Origin::Protected) | Some(Origin::Builtin)
            )
        })
        .collect();
    // A pattern is UTF-8 text: a name that is not cannot be granted alone.
    let (nameable, unnameable): (Vec<&Refusal>, Vec<&Refusal>) = widenable
        .into_iter()
        .partition(|r| crate::policy::pattern::literal(&r.path).is_some());
    if !unnameable.is_empty() {
        writeln!(
            w,
            "No scope pattern names {} alone: a pattern is UTF-8 text, and the name is not; rename the file.",
            unnameable
                .iter()
                .map(|r| c_quote(&r.path))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    if !nameable.is_empty() {
        let mut suggested: Vec<String> = nameable
            .iter()
            .filter_map(|r| crate::policy::pattern::literal(&r.path))
            .map(|p| shell_quote(&p))
            .collect();
        suggested.sort();
        suggested.dedup();
        if subject.registered.is_some() {
            writeln!(
                w,
                "If agent '{}' should change them, the person orchestrating the agents (not the agent) widens its scope from outside its worktree:",
                report.agent
            )?;
            writeln!(
                w,
                "  {}",
                paint.cyan(format!(
                    "git agent scope add {} {}",
                    report.agent,
                    suggested.join(" ")
                ))
            )?;
        } else {
            writeln!(
                w,
                "If standing agent '{}' should change them, widen its scope under `agents:` in .git-agent.yaml and commit that on {}.",
                report.agent, subject.base
            )?;
        }
    }
    if report.refused.iter().any(|r| {
        matches!(
            r.verdict.origin,
            Some(Origin::Protected) | Some(Origin::Builtin)
        )
    }) {
        writeln!(
            w,
            "Protected paths stay out of every agent's scope; only a change to `protected` in .git-agent.yaml, committed on {}, allows them.",
            subject.base
        )?;
    }
    let scope = if report.scope.is_empty() {
        "(empty)".to_owned()
    } else {
        report.scope.join(", ")
    };
    writeln!(w, "Scope of '{}': {}", report.agent, scope)?;
    Ok(())
}

/// A path as git shows it (`core.quotePath=false`): as it is, unless it
/// holds a control character, a quote, a backslash or bytes that are not
/// UTF-8; then in double quotes with C escapes, octal for other bytes.
pub fn c_quote(path: &[u8]) -> String {
    let plain = std::str::from_utf8(path)
        .is_ok_and(|s| !s.chars().any(|c| c.is_control() || c == '"' || c == '\\'));
    if plain {
        return String::from_utf8_lossy(path).into_owned();
    }
    let mut out = String::from("\"");
    for chunk in path.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                c if c.is_control() => {
                    let mut buf = [0; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\{b:03o}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out.push('"');
    out
}

/// `path` as a pathspec that names only itself: git reads `*`, `?`, `[`
/// and `\\` in a pathspec as a glob, and a leading `:` as magic.
fn literal_pathspec(path: &[u8]) -> BString {
    if path.first() == Some(&b':') || path.iter().any(|b| b"*?[\\".contains(b)) {
        let mut spec = BString::from(":(literal)");
        spec.extend_from_slice(path);
        spec
    } else {
        path.into()
    }
}

/// Quote bytes for bash and zsh: [`shell_quote`] for UTF-8 text without
/// control characters, else ANSI-C quoting (`$'evil\\377.yml'`), the one
/// form in which those shells spell any byte.
pub fn shell_quote_bytes(arg: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(arg)
        && !text.chars().any(char::is_control)
    {
        return shell_quote(text);
    }
    let mut out = String::from("$'");
    for &b in arg {
        match b {
            b'\'' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('\'');
    out
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
