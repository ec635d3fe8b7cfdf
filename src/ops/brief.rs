//! The brief: what an agent should be told at the start of its session,
//! its task, scope, protected paths and the rules it works by. `add`
//! writes it into the worktree's git directory; `exec` names it in
//! `GIT_AGENT_BRIEF`; `git agent brief NAME` prints it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::ops::guardrails;

/// The file in the worktree's git directory: never in `git status`.
pub const FILE: &str = "git-agent-brief.md";

#[derive(Debug, Serialize)]
pub struct Brief {
    pub version: u32,
    pub agent: String,
    pub branch: String,
    pub base: String,
    pub worktree: PathBuf,
    pub task: Option<String>,
    pub scope: Vec<String>,
    pub protected: Vec<String>,
    pub rules: Vec<String>,
    /// The command that checks a path against the scope.
    pub check: String,
}

/// The brief of registered agent `name`.
pub fn of(repo: &gix::Repository, name: &str) -> Result<Brief> {
    let (rules, agent) = guardrails::rules_of(repo, name)?;
    let mut protected = vec![crate::policy::manifest::MANIFEST_FILE.to_owned()];
    protected.extend(rules.protected);
    let mut rules_text = vec![
            format!("Change only paths in your scope; the pre-commit gate refuses any other, and so does land."),
            format!("Commit small, coherent commits with clear messages, on your branch {} only.", agent.branch),
            "Do not land, merge into, rebase onto or push to the base: a person lands your work with `git agent land`.".to_owned(),
            "Do not edit your scope or the policy; ask the person who runs you to widen it.".to_owned(),
        ];
    if agent.sparse {
        rules_text.push("Your worktree is sparse: only your scope, the policy's context files and the files at the root are checked out. Read any other file with `git show HEAD:PATH`.".to_owned());
    }
    Ok(Brief {
        version: 1,
        rules: rules_text,
        check: "git agent scope check --paths P".to_owned(),
        agent: agent.name,
        branch: agent.branch,
        base: agent.base,
        worktree: agent.path,
        task: agent.task,
        scope: rules.scope,
        protected,
    })
}

impl Brief {
    /// The brief as Markdown, for a person or a model to read.
    pub fn text(&self) -> String {
        let mut s = format!("# Brief for agent '{}'\n\n", self.agent);
        s += &format!(
            "Task: {}\n\n",
            self.task.as_deref().unwrap_or("(none given)")
        );
        s += &format!(
            "You work in {} on branch {} (from {}).\n\n",
            self.worktree.display(),
            self.branch,
            self.base
        );
        s += "Your scope (.gitignore patterns; you may change only these paths):\n";
        if self.scope.is_empty() {
            s += "- (empty: every change will be refused)\n";
        }
        for p in &self.scope {
            s += &format!("- {p}\n");
        }
        s += "\nProtected (no agent may change them):\n";
        for p in &self.protected {
            s += &format!("- {p}\n");
        }
        s += "\nRules:\n";
        for r in &self.rules {
            s += &format!("- {r}\n");
        }
        s += &format!(
            "\nBefore you change a path, check it: `{}` (exit 0: in scope; exit 1: refused, with the reason).\n",
            self.check
        );
        s
    }
}

/// Write agent `name`'s brief into the git directory of its worktree at
/// `worktree`; returns the file.
pub fn write(repo: &gix::Repository, name: &str, worktree: &Path) -> Result<PathBuf> {
    let brief = of(repo, name)?;
    let path = guardrails::git_dir_of(worktree)?.join(FILE);
    std::fs::write(&path, brief.text())
        .map_err(Error::io(format!("writing {}", path.display())))?;
    Ok(path)
}

/// Where `add` put the brief of the worktree at `worktree`, if it is there.
pub fn path_of(worktree: &Path) -> Option<PathBuf> {
    let path = guardrails::git_dir_of(worktree).ok()?.join(FILE);
    path.exists().then_some(path)
}
