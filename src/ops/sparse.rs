//! Sparse worktrees (`git agent add --sparse`): the agent's worktree checks
//! out only its scope and the policy's `context:` patterns, through git's
//! sparse-checkout. When every pattern names a directory (or a file at the
//! root, which cone mode always checks out) it is cone mode with a sparse
//! index, so the index is as small as the checkout; otherwise the patterns
//! themselves, in non-cone mode, with a full index whose other entries are
//! marked skip-worktree. What only `context:` brings in is made read-only
//! on disk ([`protect_context`]).
//!
//! git does the sparse steps: gix can check a new worktree out through
//! sparse patterns, but it writes a full index and cannot change the
//! patterns of a worktree that exists (`scope add`), and we never write a
//! user's index with gix.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::error::{Error, GitContext, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::gate::Subject;
use crate::ops::provision::Progress;
use crate::policy::pattern::Pattern;
use crate::state::registry::{self, Agent};

/// The directories the guardrails write into: checked out, so that they
/// merge into a repository's own settings files there rather than shadow
/// them.
const TOOL_DIRS: &[&str] = &[".claude", ".codex", ".cursor", ".gemini"];

/// How git reads the definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Directories: cone mode, with a sparse index.
    Cone,
    /// .gitignore-style patterns: non-cone mode, with a full index.
    Patterns,
}

/// What a sparse worktree checks out, as `git sparse-checkout set` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub kind: Kind,
    /// Directories (cone) or patterns (non-cone), one per line.
    pub lines: Vec<String>,
}

/// How a literal path lies in the checked-out tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Tree,
    File,
    Missing,
}

/// The definition for `patterns` (the scope's, then the context's; `!`
/// patterns are left out, so the checkout holds at least the scope).
/// `lookup` says what a literal path is in the tree being checked out.
pub fn define<'a>(
    patterns: impl IntoIterator<Item = &'a str>,
    ignore_case: bool,
    lookup: impl Fn(&str) -> Result<Found>,
) -> Result<Definition> {
    let mut cone: Option<Vec<String>> = Some(Vec::new());
    let mut lines = vec!["/*".to_owned(), "!/*/".to_owned()];
    for text in patterns {
        let pattern = Pattern::new(text, ignore_case).map_err(|why| Error::InvalidPattern {
            pattern: text.to_owned(),
            why,
        })?;
        if pattern.negated {
            continue;
        }
        lines.push(text.to_owned());
        if let Some(dirs) = &mut cone {
            match cone_dir(&pattern, &lookup)? {
                Some(Some(dir)) => dirs.push(dir),
                // A file at the root: cone mode checks every one out.
                Some(None) => {}
                None => cone = None,
            }
        }
    }
    Ok(match cone {
        Some(mut dirs) => {
            dirs.extend(TOOL_DIRS.iter().map(|d| (*d).to_owned()));
            dirs.sort();
            dirs.dedup();
            Definition {
                kind: Kind::Cone,
                lines: dirs,
            }
        }
        None => {
            lines.extend(TOOL_DIRS.iter().map(|d| format!("/{d}/")));
            Definition {
                kind: Kind::Patterns,
                lines,
            }
        }
    })
}

/// The cone directory `pattern` needs: `Some(Some(dir))`, `Some(None)` for
/// a file at the root, `None` when cone mode cannot express it.
fn cone_dir(
    pattern: &Pattern,
    lookup: &impl Fn(&str) -> Result<Found>,
) -> Result<Option<Option<String>>> {
    let Some((path, dir_only)) = pattern.literal_path() else {
        return Ok(None);
    };
    if dir_only {
        return Ok(Some(Some(path.to_owned())));
    }
    Ok(match lookup(path)? {
        // Not there yet: if it comes, it comes with its directory.
        Found::Tree | Found::Missing => Some(Some(path.to_owned())),
        Found::File if !path.contains('/') => Some(None),
        Found::File => None,
    })
}

/// The definition of agent `subject` checked out at commit `tip`: its
/// scope's patterns, then the policy's `context`.
pub fn definition_of(
    repo: &gix::Repository,
    subject: &Subject,
    tip: gix::ObjectId,
) -> Result<Definition> {
    let tree = repo
        .find_commit(tip)
        .git("reading the agent's commit")?
        .tree()
        .git("reading the agent's tree")?;
    let lookup = |path: &str| -> Result<Found> {
        let entry = tree
            .lookup_entry_by_path(path)
            .git("looking up a path of the scope")?;
        Ok(match entry {
            Some(e) if e.mode().is_tree() => Found::Tree,
            Some(_) => Found::File,
            None => Found::Missing,
        })
    };
    let patterns = subject
        .patterns
        .iter()
        .map(|(p, _)| p.as_str())
        .chain(subject.manifest.context.iter().map(String::as_str));
    define(patterns, repo::ignore_case(repo), lookup)
}

/// Set the sparse-checkout of the worktree at `dir` to `definition`; git
/// updates the files already checked out there.
pub fn apply(dir: &Path, definition: &Definition) -> Result<()> {
    let args: &[&str] = match definition.kind {
        Kind::Cone => &[
            "sparse-checkout",
            "set",
            "--cone",
            "--sparse-index",
            "--stdin",
        ],
        Kind::Patterns => &[
            "sparse-checkout",
            "set",
            "--no-cone",
            "--no-sparse-index",
            "--stdin",
        ],
    };
    let what = format!("git {}", args.join(" "));
    let mut child = crate::git::command(dir)?
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(Error::io(format!("running {what}")))?;
    // The patterns go on stdin, one per line: none is taken for an option.
    if let Some(mut stdin) = child.stdin.take() {
        let mut text = definition.lines.join("\n");
        text.push('\n');
        stdin
            .write_all(text.as_bytes())
            .map_err(Error::io(format!("writing to {what}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(Error::io(format!("running {what}")))?;
    if !out.status.success() {
        return Err(Error::GitCommand {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// Check the existing branch `full_branch` out sparsely, as registered
/// agent `name` sees it, in a new linked worktree at `path`. gix registers
/// the worktree without checking anything out; git sets the patterns and
/// then writes only the files they select. On failure the worktree goes
/// again.
pub fn check_out(
    repo: &gix::Repository,
    registry: &registry::Registry,
    name: &str,
    path: &Path,
    full_branch: &str,
    progress: &dyn Progress,
) -> Result<()> {
    let subject = crate::ops::gate::resolve_subject(repo, Some(name), None)?
        .ok_or_else(crate::ops::gate::no_agent)?;
    let tip = repo
        .find_reference(full_branch)
        .git("looking up the agent's branch")?
        .peel_to_id()
        .git("reading the agent's branch")?
        .detach();
    let definition = definition_of(repo, &subject, tip)?;
    let interrupt = AtomicBool::new(false);
    let head = gix::worktree::add::Head::Attached(full_branch.try_into().git("naming the branch")?);
    {
        // gix reads every registration while adding one: serialise that part.
        let _registration = registry.lock_worktree_registration()?;
        repo.prepare_add_worktree(path, head, &interrupt)
            .and_then(|p| p.persist())
            .map_err(|e| Error::Git {
                context: format!("adding the worktree at {}", path.display()),
                message: e.to_string(),
            })?;
    }
    let _spinner = progress.spinner("checking out the sparse worktree");
    let done = apply(path, &definition)
        .and_then(|()| crate::git::run(path, &["read-tree", "-m", "-u", "HEAD"]).map(drop))
        .and_then(|()| protect_context(repo, name, path))
        .and_then(|()| crate::state::marker::mark_checkout(path, name));
    if let Err(e) = done {
        // Never half-apply: the registration and the files go again.
        let main = repo::main_workdir(repo).unwrap_or_else(|| repo.common_dir().to_owned());
        let target = path.to_string_lossy();
        let _ = crate::git::output(&main, &["worktree", "remove", "--force", &target]);
        let _ = std::fs::remove_dir_all(path);
        let _ = crate::git::output(&main, &["worktree", "prune"]);
        return Err(e);
    }
    Ok(())
}

/// Bring a sparse agent's checkout in line with its scope, after the scope
/// changed: `scope add` widens it. Nothing for a full worktree or a clone
/// whose directory is gone.
pub fn refresh(repo: &gix::Repository, agent: &Agent) -> Result<()> {
    if !agent.sparse || !agent.path.is_dir() {
        return Ok(());
    }
    let subject = crate::ops::gate::resolve_subject(repo, Some(&agent.name), None)?
        .ok_or_else(crate::ops::gate::no_agent)?;
    let branch_repo = context::branch_repo(repo, agent)?;
    let Some(tip) = repo::branch_tip(&branch_repo, &agent.branch)? else {
        return Ok(());
    };
    let definition = definition_of(&branch_repo, &subject, tip)?;
    apply(&agent.path, &definition)?;
    protect_context(repo, &agent.name, &agent.path)
}

/// Make the files that sparse checkout `dir` of agent `name` holds only
/// because of the policy's `context:` read-only on disk (write bits
/// cleared), and a context file the scope now allows writable again.
/// Advisory, for the agent's tools: the gate is what refuses the change.
/// git records no write bits, so `git status` is unchanged; it rewrites a
/// file it updates with its usual mode, hence the callers after `sync`.
pub fn protect_context(repo: &gix::Repository, name: &str, dir: &Path) -> Result<()> {
    let subject = crate::ops::gate::resolve_subject(repo, Some(name), None)?
        .ok_or_else(crate::ops::gate::no_agent)?;
    let ignore_case = repo::ignore_case(repo);
    let mut context = Vec::new();
    for text in &subject.manifest.context {
        let pattern = Pattern::new(text, ignore_case).map_err(|why| Error::InvalidPattern {
            pattern: text.clone(),
            why,
        })?;
        context.push(pattern);
    }
    if context.is_empty() {
        return Ok(());
    }
    let scope = subject.scope(repo)?;
    // git lists the index; `-t` tags with `S` what is not checked out, and
    // `--sparse` keeps a sparse index's directories whole rather than
    // expanding it. NUL-separated, so names come as they are.
    let out = crate::git::output(dir, &["ls-files", "--sparse", "-t", "-z"])?;
    if !out.status.success() {
        return Err(Error::GitCommand {
            args: "ls-files --sparse -t -z".into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    for entry in out.stdout.split(|&b| b == 0) {
        let Some((tag, path)) = entry.split_first_chunk::<2>() else {
            continue;
        };
        if tag[0] == b'S' || !context.iter().any(|p| p.matches(path)) {
            continue;
        }
        let Ok(rel) = gix::path::from_byte_slice(path) else {
            continue;
        };
        set_writable(&dir.join(rel), scope.decide(path).allowed)?;
    }
    Ok(())
}

/// Give the regular file at `file` its owner's write bit, or clear every
/// write bit; a symlink or a missing file is left alone.
fn set_writable(file: &Path, writable: bool) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(file) else {
        return Ok(());
    };
    if !meta.is_file() {
        return Ok(());
    }
    let mut perms = meta.permissions();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = perms.mode();
        let wanted = match writable {
            true => mode | 0o200,
            false => mode & !0o222,
        };
        if wanted == mode {
            return Ok(());
        }
        perms.set_mode(wanted);
    }
    #[cfg(not(unix))]
    {
        if perms.readonly() != writable {
            return Ok(());
        }
        perms.set_readonly(!writable);
    }
    std::fs::set_permissions(file, perms).map_err(Error::io(format!(
        "changing the mode of {}",
        file.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(patterns: &[&str], files: &[&str], trees: &[&str]) -> Definition {
        define(patterns.iter().copied(), false, |p| {
            Ok(if trees.contains(&p) {
                Found::Tree
            } else if files.contains(&p) {
                Found::File
            } else {
                Found::Missing
            })
        })
        .unwrap()
    }

    #[test]
    fn directories_and_root_files_are_cone_mode() {
        let d = def(
            &[
                "src/billing/",
                "/tests/billing",
                "/Cargo.toml",
                "!src/billing/gen/",
            ],
            &["Cargo.toml"],
            &["tests/billing"],
        );
        assert_eq!(d.kind, Kind::Cone);
        assert_eq!(
            d.lines,
            [
                ".claude",
                ".codex",
                ".cursor",
                ".gemini",
                "src/billing",
                "tests/billing"
            ]
        );
    }

    #[test]
    fn globs_names_at_any_depth_and_nested_files_are_patterns() {
        for p in ["src/*.rs", "Cargo.toml", "docs/guide.md"] {
            let d = def(&["src/billing/", p], &["docs/guide.md", "Cargo.toml"], &[]);
            assert_eq!(d.kind, Kind::Patterns, "{p}");
            assert_eq!(d.lines[..4], ["/*", "!/*/", "src/billing/", p]);
            assert_eq!(d.lines.last().map(String::as_str), Some("/.gemini/"));
        }
    }
}
