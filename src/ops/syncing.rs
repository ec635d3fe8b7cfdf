//! `git agent sync`: bring the base's new commits into an agent's branch,
//! in its own worktree, with git's rebase or merge (they update a
//! checked-out worktree and leave git's standard state on a conflict, for
//! the agent to resolve).

use serde::Serialize;

use crate::Io;
use crate::cli::SyncArgs;
use crate::error::{Error, Outcome, RefusalReport, Result};
use crate::{git, git::repo, ops::status};

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Ended {
    Synced,
    UpToDate,
    /// git stopped on a conflict and left its state for the agent.
    Stopped,
    Refused,
}

/// The sync's result, rendered once for humans and once as JSON.
#[derive(Serialize)]
struct Report {
    version: u32,
    agent: String,
    branch: String,
    base: String,
    path: String,
    how: &'static str,
    result: Ended,
    base_tip: String,
    /// The branch's tip before and after.
    old_tip: Option<String>,
    new_tip: Option<String>,
    /// When git stopped: the conflicted files, and the commands that go on
    /// or go back.
    conflicts: Vec<String>,
    #[serde(rename = "continue")]
    go_on: Option<&'static str>,
    abort: Option<&'static str>,
    refusal: Option<RefusalReport>,
}

pub fn run(args: SyncArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open_home(&cwd)?;
    let agents = repo::registry(&repo).load()?;
    let Some(agent) = agents.get(&args.name).cloned() else {
        return Err(crate::ops::gate::unknown_agent(&args.name, &agents, None));
    };
    let base_tip = repo::branch_tip(&repo, &agent.base)?
        .ok_or_else(|| crate::ops::landing::base_missing(&agent))?;
    let dir = &agent.path;
    if !dir.is_dir() {
        return Err(Error::usage(
            format!(
                "agent '{}''s directory {} is missing",
                agent.name,
                dir.display()
            ),
            "run `git agent doctor` to see and repair it",
        ));
    }
    let mut report = Report {
        version: 1,
        agent: agent.name.clone(),
        branch: agent.branch.clone(),
        base: agent.base.clone(),
        path: dir.display().to_string(),
        how: if args.merge { "merge" } else { "rebase" },
        result: Ended::Refused,
        base_tip: base_tip.to_string(),
        old_tip: None,
        new_tip: None,
        conflicts: Vec::new(),
        go_on: None,
        abort: None,
        refusal: None,
    };
    sync(&agent, dir, base_tip, &mut report)?;
    let outcome = match report.result {
        Ended::Synced | Ended::UpToDate => Outcome::Done,
        Ended::Stopped | Ended::Refused => Outcome::Refused,
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report).expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
        return Ok(outcome);
    }
    let (out_paint, err_paint) = (io.color.out(Some(&repo)), io.color.err(Some(&repo)));
    match report.result {
        Ended::Synced => writeln!(
            io.out,
            "{} agent '{}' with {} at {} ({}): {} {}..{}",
            out_paint.green("synced"),
            agent.name,
            agent.base,
            &report.base_tip[..12],
            report.how,
            agent.branch,
            report.old_tip.as_deref().map_or("?", |t| &t[..12.min(t.len())]),
            report.new_tip.as_deref().map_or("?", |t| &t[..12.min(t.len())]),
        ),
        Ended::UpToDate => writeln!(
            io.out,
            "agent '{}' is {} with {}",
            agent.name,
            out_paint.green("up to date"),
            agent.base
        ),
        Ended::Stopped => writeln!(
            io.err,
            "git-agent: {} with {} in:\n{}\n  resolve them in {}, `git add` them, then `{}` (or `{}` to go back)",
            err_paint.red(format!("sync of agent '{}' stopped on a conflict", agent.name)),
            agent.base,
            report
                .conflicts
                .iter()
                .map(|f| format!("  {}", err_paint.red(f)))
                .collect::<Vec<_>>()
                .join("\n"),
            dir.display(),
            report.go_on.unwrap_or_default(),
            report.abort.unwrap_or_default(),
        ),
        Ended::Refused => writeln!(
            io.err,
            "{}",
            report
                .refusal
                .as_ref()
                .map_or_else(String::new, |r| r.text(err_paint))
        ),
    }
    .map_err(Error::io("writing"))?;
    Ok(outcome)
}

/// Sync `agent`'s worktree `dir` with `base_tip`, recording how it went.
fn sync(
    agent: &crate::state::registry::Agent,
    dir: &std::path::Path,
    base_tip: gix::ObjectId,
    report: &mut Report,
) -> Result<()> {
    let uncommitted = status::uncommitted(dir)?;
    if !uncommitted.is_empty() {
        report.refusal = Some(
            RefusalReport::new(
                "uncommitted",
                format!(
                    "agent '{}' has uncommitted changes ({}); commit or stash them, then sync",
                    agent.name,
                    uncommitted.join(", ")
                ),
            )
            .with_paths(uncommitted),
        );
        return Ok(());
    }
    let wt = repo::open(dir)?;
    if repo::current_branch(&wt).as_deref() != Some(agent.branch.as_str()) {
        report.refusal = Some(RefusalReport::new(
            "not_on_branch",
            format!(
                "{} is not on {}; switch back (git switch {}) or finish what is in progress there, then sync",
                dir.display(),
                agent.branch,
                agent.branch
            ),
        ));
        return Ok(());
    }
    let head = wt.head_id().map(|id| id.detach()).ok();
    report.old_tip = head.map(|id| id.to_string());
    if let Some(head) = head
        && wt
            .merge_base(head, base_tip)
            .ok()
            .flatten()
            .map(|id| id.detach())
            == Some(base_tip)
    {
        report.result = Ended::UpToDate;
        report.new_tip = report.old_tip.clone();
        return Ok(());
    }
    // A clone borrows this repository's objects, so the base's tip is
    // readable there by id without fetching.
    let target = base_tip.to_string();
    let cmd: Vec<&str> = if report.how == "merge" {
        vec![
            "merge",
            "--no-edit",
            "--quiet",
            "-m",
            "Sync with base",
            &target,
        ]
    } else {
        vec!["rebase", "--quiet", &target]
    };
    let out = git::command(dir)?
        .args(&cmd)
        .env(
            "GIT_REFLOG_ACTION",
            format!("git-agent sync {}", agent.name),
        )
        .output()
        .map_err(Error::io(format!("running git {}", report.how)))?;
    if out.status.success() {
        report.result = Ended::Synced;
        report.new_tip = Some(git::run(dir, &["rev-parse", "HEAD"])?.trim().to_owned());
        return Ok(());
    }
    let conflicted = git::run(dir, &["diff", "--name-only", "--diff-filter=U"])?;
    if conflicted.trim().is_empty() {
        return Err(Error::GitCommand {
            args: cmd.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    report.result = Ended::Stopped;
    report.conflicts = conflicted.lines().map(str::to_owned).collect();
    (report.go_on, report.abort) = if report.how == "merge" {
        (Some("git commit"), Some("git merge --abort"))
    } else {
        (Some("git rebase --continue"), Some("git rebase --abort"))
    };
    Ok(())
}
