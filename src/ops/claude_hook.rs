//! `git agent scope check --claude-hook`: Claude Code's `PreToolUse` hook
//! on its edit tools. It reads the hook's JSON on stdin, takes the paths
//! the tool would write, and exits 2 with the gate's refusal on stderr
//! when one is outside the scope (exit 2 is what makes Claude Code block
//! the call and show stderr to the model). In scope it exits 0, silent.
//!
//! Anything it cannot judge is refused, never allowed: input that is not
//! the hook's JSON, no path, a path outside the worktree, a directory that
//! is no agent's worktree.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::git::repo;
use crate::ops::gate::{Refusal, Report, Subject, resolve_subject};

/// What the hook decided about the tool call.
pub enum Judgement {
    /// Every path is in scope.
    Allowed,
    /// Blocked for a reason that is not about the scope's patterns.
    Blocked(String),
    /// Blocked by the scope: the gate's report on the paths.
    Refused {
        repo: Box<gix::Repository>,
        report: Report,
        subject: Box<Subject>,
    },
}

/// Read the hook's JSON from `input` and judge the paths in it.
pub fn judge(input: &mut dyn Read) -> Result<Judgement> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .map_err(|e| not_hook_json(&format!("stdin could not be read as UTF-8 ({e})")))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| not_hook_json(&format!("stdin is not JSON ({e})")))?;
    let (cwd, paths) = hook_paths(&json)?;
    let repo = repo::open(&cwd)?;
    let Some(subject) = resolve_subject(&repo, None, None)? else {
        return Ok(Judgement::Blocked(format!(
            "git-agent: edit refused: {} is in no agent's worktree, so no scope can allow the edit",
            cwd.display()
        )));
    };
    let Some(workdir) = repo.workdir() else {
        return Ok(Judgement::Blocked(
            "git-agent: edit refused: the repository has no worktree".to_owned(),
        ));
    };
    let root = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_owned());
    let scope = subject.scope(&repo)?;
    let mut report = Report {
        version: 1,
        agent: subject.name.clone(),
        base: subject.base.clone(),
        mode: "paths",
        ok: true,
        checked: 0,
        refused: Vec::new(),
        problems: Vec::new(),
        scope: scope.patterns().map(|(p, _)| p.to_owned()).collect(),
    };
    for given in &paths {
        let Some(rel) = inside(&root, &cwd.join(given)) else {
            report.problems.push(format!(
                "{given} is outside agent '{}''s worktree {}; an agent writes only in its own worktree",
                subject.name,
                root.display()
            ));
            continue;
        };
        report.checked += 1;
        let verdict = scope.decide(&rel);
        if !verdict.allowed {
            report.refused.push(Refusal {
                path: rel.into(),
                kind: None,
                commit: None,
                summary: None,
                reason: verdict.reason(),
                verdict,
            });
        }
    }
    if report.refused.is_empty() && report.problems.is_empty() {
        return Ok(Judgement::Allowed);
    }
    Ok(Judgement::Refused {
        repo: Box::new(repo),
        report,
        subject: Box::new(subject),
    })
}

fn not_hook_json(why: &str) -> Error {
    Error::usage(
        format!("--claude-hook expects Claude Code's PreToolUse hook JSON on stdin: {why}"),
        "run it as a PreToolUse hook (git agent guard NAME writes it); to check a path yourself, use `git agent scope check --paths P`",
    )
}

/// The session's directory and every path the tool would write:
/// `file_path` (Edit, Write, MultiEdit), `notebook_path` (NotebookEdit) and
/// the `file_path` of each of a multi-edit's `edits`.
fn hook_paths(json: &Value) -> Result<(PathBuf, Vec<String>)> {
    let Some(input) = json.get("tool_input").and_then(Value::as_object) else {
        return Err(not_hook_json("it has no `tool_input` object"));
    };
    let cwd = match json.get("cwd").and_then(Value::as_str) {
        Some(c) if Path::new(c).is_absolute() => PathBuf::from(c),
        _ => return Err(not_hook_json("it has no absolute `cwd`")),
    };
    let mut paths: Vec<String> = Vec::new();
    for key in ["file_path", "notebook_path"] {
        match input.get(key) {
            None => {}
            Some(Value::String(p)) if !p.is_empty() => paths.push(p.clone()),
            Some(_) => return Err(not_hook_json(&format!("`tool_input.{key}` is not a path"))),
        }
    }
    if let Some(edits) = input.get("edits").and_then(Value::as_array) {
        for e in edits {
            if let Some(p) = e.get("file_path").and_then(Value::as_str) {
                paths.push(p.to_owned());
            }
        }
    }
    if paths.is_empty() {
        return Err(not_hook_json(
            "`tool_input` names no file_path or notebook_path",
        ));
    }
    Ok((cwd, paths))
}

/// `path` relative to `root` with `/` between components, or none when it
/// is outside. `..` is resolved by name, and the deepest directory that
/// exists by the file system, so a symbolic link cannot lead out unseen.
fn inside(root: &Path, path: &Path) -> Option<String> {
    let mut lexical = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let mut existing = lexical.clone();
    let mut tail = Vec::new();
    while !existing.exists() {
        tail.push(existing.file_name()?.to_owned());
        existing.pop();
    }
    let mut real = std::fs::canonicalize(&existing).ok()?;
    for part in tail.iter().rev() {
        real.push(part);
    }
    let rel = real.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}
