//! The shared remote's `pre-receive` hook (`git agent hooks install
//! --server`): every commit a push brings is checked against the scope of
//! the agent that owns the pushed branch, as the pre-commit gate checks a
//! commit on the agent's machine, so `--no-verify`, plumbing or a cloud
//! agent without the gate cannot get out-of-scope work onto the remote.
//!
//! - New commits are those the repository lacked before the push: reachable
//!   from the new tip and from no existing ref (`git rev-list NEW --not
//!   --all`), so a new branch is not "every file changed".
//! - The owner of `refs/heads/B` is [`Manifest::branch_owner`] under the
//!   standing agents of the policy committed on the base. A branch no
//!   standing agent owns, a deletion, and a ref that is not a branch (a
//!   tag, a note) are let through: no agent's scope applies to them.
//! - A policy that does not parse refuses every push (fail closed), saying
//!   why.
//! - git runs the hook with the pushed objects in a quarantine directory
//!   (`GIT_OBJECT_DIRECTORY`, the repository's own objects in
//!   `GIT_ALTERNATE_OBJECT_DIRECTORIES`); gix reads neither variable, so
//!   [`see_quarantine`] points the object store at both.

use std::io::BufRead;
use std::path::PathBuf;

use gix::ObjectId;

use crate::Io;
use crate::error::{Error, GitContext, Outcome, Result};
use crate::git::{changes, repo};
use crate::ops::gate::{self, Report, Subject};
use crate::ops::hooks;
use crate::ops::receipts;
use crate::policy::manifest::Manifest;
use crate::policy::scope::Scope;

const BEGIN: &str = "# >>> git-agent pre-receive gate >>>";
const END: &str = "# <<< git-agent pre-receive gate <<<";

/// One line of the hook's input: `<old> <new> <ref>`.
struct Update {
    old: ObjectId,
    new: ObjectId,
    name: String,
}

/// What the pre-receive gate found.
pub enum Push {
    /// The policy on `base` does not parse: every push is refused.
    Unparsed {
        base: String,
        error: Box<crate::error::ManifestError>,
    },
    /// Every pushed ref was checked; whether any was refused, and why a
    /// move of the base was (`server.require_receipts`).
    Checked {
        refused: bool,
        base_refusals: Vec<String>,
    },
}

/// A pushed ref refused: the ref, the check's report and its agent.
pub struct RefusedRef<'a> {
    pub refname: &'a str,
    pub report: &'a Report,
    pub subject: &'a Subject,
}

/// Check every ref the push brings (`OLD NEW REF` lines on stdin), handing
/// each refused one to `refused` as it is found.
pub fn run(
    mut repo: gix::Repository,
    mut refused: impl FnMut(&gix::Repository, RefusedRef<'_>) -> Result<()>,
) -> Result<Push> {
    let _store = see_quarantine(&mut repo)?;
    let updates = read_updates(std::io::stdin().lock())?;
    let base = repo::default_base(&repo)?;
    let manifest = match repo::load_policy(&repo, &base) {
        Ok(m) => m,
        Err(Error::UnknownBase { .. }) => Manifest::default(),
        Err(Error::Manifest(error)) => return Ok(Push::Unparsed { base, error }),
        Err(e) => return Err(e),
    };
    let hidden = ref_tips(&repo)?;
    let mut any = false;
    for update in &updates {
        if let Some((report, subject)) = check_update(&repo, &manifest, &base, &hidden, update)?
            && !report.ok
        {
            any = true;
            let refusal = RefusedRef {
                refname: &update.name,
                report: &report,
                subject: &subject,
            };
            refused(&repo, refusal)?;
        }
    }
    let base_refusals = if manifest.server.require_receipts {
        base_move_refusals(&repo, &manifest, &base, &hidden, &updates)?
    } else {
        Vec::new()
    };
    Ok(Push::Checked {
        refused: any || !base_refusals.is_empty(),
        base_refusals,
    })
}

/// `server.require_receipts`: why each move of the base in this push is
/// refused (see [`receipts::base_push_refusal`]); empty when none is.
fn base_move_refusals(
    repo: &gix::Repository,
    manifest: &Manifest,
    base: &str,
    existing: &[ObjectId],
    updates: &[Update],
) -> Result<Vec<String>> {
    let name = format!("refs/heads/{base}");
    let pusher = receipts::pusher();
    let mut refusals = Vec::new();
    for update in updates.iter().filter(|u| u.name == name) {
        let moved = (update.old, update.new);
        if let Some(why) =
            receipts::base_push_refusal(repo, manifest, base, moved, existing, pusher.as_deref())?
        {
            refusals.push(why);
        }
    }
    Ok(refusals)
}

fn read_updates(input: impl BufRead) -> Result<Vec<Update>> {
    let bad = |line: &str| {
        Error::usage(
            format!("pre-receive: unexpected input line '{line}'"),
            "git gives a pre-receive hook lines of `<old-id> <new-id> <refname>`",
        )
    };
    let mut updates = Vec::new();
    for line in input.lines() {
        let line = line.map_err(Error::io("reading the pushed refs"))?;
        let mut parts = line.splitn(3, ' ');
        let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(&line));
        };
        let id = |s: &str| ObjectId::from_hex(s.as_bytes()).map_err(|_| bad(&line));
        // New commits are judged against every ref, not against the ref's
        // old tip; the old tip matters only to `server.require_receipts`.
        updates.push(Update {
            old: id(old)?,
            new: id(new)?,
            name: name.to_owned(),
        });
    }
    Ok(updates)
}

/// Make the pushed objects readable: a private objects directory whose
/// alternates are the quarantine, git's alternates and the repository's
/// own objects. Returns the directory, to be kept while `repo` is used.
fn see_quarantine(repo: &mut gix::Repository) -> Result<Option<tempfile::TempDir>> {
    let Some(quarantine) = std::env::var_os("GIT_OBJECT_DIRECTORY") else {
        return Ok(None);
    };
    let mut dirs = vec![PathBuf::from(quarantine)];
    if let Some(more) = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        dirs.extend(std::env::split_paths(&more));
    }
    dirs.push(repo.objects.store_ref().path().to_owned());
    let tmp = tempfile::Builder::new()
        .prefix("git-agent-objects.")
        .tempdir()
        .map_err(Error::io("creating a temporary object directory"))?;
    let info = tmp.path().join("info");
    std::fs::create_dir_all(&info).map_err(Error::io("creating a temporary object directory"))?;
    let list: Vec<String> = dirs
        .iter()
        .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone()))
        .map(|d| d.display().to_string())
        .collect();
    std::fs::write(info.join("alternates"), list.join("\n") + "\n")
        .map_err(Error::io("writing a temporary alternates file"))?;
    let handle = gix::odb::at(tmp.path(), repo.object_hash())
        .map_err(Error::io("opening the pushed objects"))?;
    repo.objects = gix::OdbHandle::from(handle);
    Ok(Some(tmp))
}

/// The commit every ref points to now, before the push: what the
/// repository already has.
fn ref_tips(repo: &gix::Repository) -> Result<Vec<ObjectId>> {
    let platform = repo.references().git("listing references")?;
    let mut tips = Vec::new();
    for r in platform.all().git("listing references")? {
        let Ok(mut r) = r else { continue };
        if let Ok(id) = r.peel_to_id() {
            tips.push(id.detach());
        }
    }
    Ok(tips)
}

/// The check of one pushed ref, or `None` when no agent's scope applies.
fn check_update(
    repo: &gix::Repository,
    manifest: &Manifest,
    base: &str,
    hidden: &[ObjectId],
    update: &Update,
) -> Result<Option<(Report, Subject)>> {
    let Some(branch) = update.name.strip_prefix("refs/heads/") else {
        return Ok(None);
    };
    if update.new.is_null() {
        return Ok(None);
    }
    let Some(name) = manifest.branch_owner(branch) else {
        return Ok(None);
    };
    let Some(standing) = manifest.agents.get(&name) else {
        return Ok(None);
    };
    let subject = Subject {
        name: name.clone(),
        base: base.to_owned(),
        registered: None,
        patterns: gate::standing_patterns(standing),
        manifest: manifest.clone(),
        detected: false,
    };
    let scope: Scope = subject.scope(repo)?;
    let mut report = Report::new(&subject, &scope);
    report.mode = "range";
    let commits = changes::range_hiding(repo, hidden, update.new)?;
    gate::judge_commits(
        &scope,
        manifest.limits.max_files_per_commit,
        &commits,
        &mut report,
    );
    report.ok = report.refused.is_empty() && report.problems.is_empty();
    Ok(Some((report, subject)))
}

pub fn pre_receive_path(repo: &gix::Repository) -> PathBuf {
    hooks::hooks_dir(repo).join("pre-receive")
}

/// Our block. git gives the hook its input once, on stdin: we keep it in a
/// file, check it, and hand the same lines to the rest of the hook.
fn block() -> String {
    let fallback = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("git-agent")))
        .map(|p| gate::shell_quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "git-agent".into());
    format!(
        "{BEGIN}
# Installed by `git agent hooks install --server`; `git agent hooks uninstall --server` removes this block.
git_agent_in=$(mktemp) || exit 1
cat >\"$git_agent_in\"
if command -v git-agent >/dev/null 2>&1; then
  git-agent hooks pre-receive <\"$git_agent_in\"
elif [ -x {fallback} ]; then
  {fallback} hooks pre-receive <\"$git_agent_in\"
else
  echo 'git-agent: git-agent was not found on the server, so the scope gate cannot run.' >&2
  false
fi
git_agent_status=$?
if [ $git_agent_status -ne 0 ]; then rm -f \"$git_agent_in\"; exit $git_agent_status; fi
exec <\"$git_agent_in\"
rm -f \"$git_agent_in\"
{END}
"
    )
}

fn find_block(text: &str) -> Option<(usize, usize)> {
    let start = text.find(BEGIN)?;
    let mut end = text[start..].find(END)? + start + END.len();
    if text[end..].starts_with('\n') {
        end += 1;
    }
    Some((start, end))
}

pub fn install(repo: &gix::Repository, io: &mut Io) -> Result<Outcome> {
    if !repo.is_bare() {
        return Err(Error::usage(
            "--server installs the pre-receive hook of a shared repository, and this one has a worktree",
            "run it in the bare repository others push to (e.g. git -C /srv/git/shop.git agent hooks install --server); here, `git agent hooks install` installs the pre-commit gate",
        ));
    }
    let path = pre_receive_path(repo);
    let ours = block();
    let said = match hooks::read(&path)? {
        None => {
            hooks::write_hook(&path, &format!("#!/bin/sh\n{ours}"))?;
            "installed the pre-receive gate in"
        }
        Some(text) => match find_block(&text) {
            Some((s, e)) if text[s..e] == ours && hooks::block_runs(&text, s) => {
                "the pre-receive gate is already installed in"
            }
            Some((s, e)) => {
                let rest = hooks::without_block(&text, s, e);
                hooks::write_hook(&path, &hooks::at_top(&rest, &ours))?;
                "updated the pre-receive gate, first in the hook, in"
            }
            None if !hooks::is_shell_script(&text) => {
                writeln!(
                    io.err,
                    "git-agent: {} is not a shell script, so the gate cannot be added to it.\n\
                     Call it from that hook yourself: pipe the hook's input to `git-agent hooks pre-receive` and refuse the push when it exits non-zero.",
                    path.display()
                )
                .map_err(Error::io("writing"))?;
                return Ok(Outcome::Refused);
            }
            None => {
                hooks::write_hook(&path, &hooks::at_top(&text, &ours))?;
                "added the pre-receive gate, before its own lines, to the existing hook"
            }
        },
    };
    writeln!(io.out, "{said} {}", path.display()).map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

pub fn uninstall(repo: &gix::Repository, io: &mut Io) -> Result<Outcome> {
    let path = pre_receive_path(repo);
    let text = hooks::read(&path)?;
    let Some((text, (s, e))) = text.as_ref().and_then(|t| find_block(t).map(|b| (t, b))) else {
        writeln!(
            io.out,
            "the pre-receive gate is not installed in {}",
            path.display()
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    };
    let rest = hooks::without_block(text, s, e);
    if rest.trim().is_empty() || rest.trim() == "#!/bin/sh" {
        std::fs::remove_file(&path).map_err(Error::io(format!("removing {}", path.display())))?;
    } else {
        hooks::write_hook(&path, &rest)?;
    }
    writeln!(
        io.out,
        "removed the pre-receive gate from {}",
        path.display()
    )
    .map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

/// Whether the pre-receive gate runs in this repository's pre-receive hook
/// (`None` when the hook has no block of ours at all).
pub fn installed(repo: &gix::Repository) -> Result<Option<bool>> {
    let text = hooks::read(&pre_receive_path(repo))?.unwrap_or_default();
    Ok(find_block(&text).map(|(s, _)| hooks::block_runs(&text, s)))
}
