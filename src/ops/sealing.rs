//! Sealing agents' rights and checking the seals: what `add`, `scope`,
//! `restore` and `doctor` call after changing an entry, and what `land` and
//! `doctor` check before trusting one (see `state::seal`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{RefusalReport, Result};
use crate::state::registry::{Agent, Agents};
use crate::state::seal::{self, Gate, Key, Record, Sealed, Seals, Store};

/// The hooks whose blocks make the gate.
const GATE_HOOKS: [&str; 2] = ["pre-commit", "reference-transaction"];

/// What the seal says about one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Sealed,
    /// No seal: the agent predates sealing, or its record was deleted.
    Unsealed,
    /// Changed since sealed.
    Tampered(Tamper),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tamper {
    /// Each names one change.
    pub changes: Vec<String>,
    /// Only registry fields changed, and the record holds their sealed
    /// values: `doctor --fix` can put them back.
    pub restorable: bool,
}

impl Tamper {
    /// What a person does about it.
    pub fn remedy(&self) -> &'static str {
        if self.restorable {
            "`git agent doctor --fix` puts back the values `git agent` sealed; then widen the scope, if you mean to, with `git agent scope add`"
        } else {
            "undo the change (`git agent hooks install` puts the gate back; `git config --worktree --unset core.hooksPath` in the agent's directory), or, if you made it on purpose, accept what is there now with `git agent doctor --reseal`"
        }
    }
}

/// The seals as loaded, with the key, for checking several agents.
pub struct Checker {
    record: Record,
}

impl Checker {
    pub fn load(common_dir: &Path) -> Result<Checker> {
        let key = Key::load_or_create()?;
        Ok(Checker {
            record: Store::new(common_dir).load(&key)?,
        })
    }

    /// The sealed values of `name`, when the record verifies.
    pub fn sealed(&self, name: &str) -> Option<&Sealed> {
        match &self.record {
            Record::Valid(seals) => seals.get(name),
            _ => None,
        }
    }

    pub fn verify(&self, agent: &Agent) -> Result<Verdict> {
        let seals = match &self.record {
            Record::Missing => return Ok(Verdict::Unsealed),
            Record::Forged(why) => {
                return Ok(Verdict::Tampered(Tamper {
                    changes: vec![format!(
                        "the seal record was changed outside `git agent`: {why}"
                    )],
                    restorable: false,
                }));
            }
            Record::Valid(seals) => seals,
        };
        let Some(sealed) = seals.get(&agent.name) else {
            return Ok(Verdict::Unsealed);
        };
        let mut changes = entry_changes(&agent.name, sealed, agent);
        let mut gate = Vec::new();
        if let Some(then) = &sealed.gate
            && let Some(now) = gate_of(&agent.path)?
        {
            gate = gate_changes(&agent.name, then, &now);
        }
        let restorable = gate.is_empty();
        changes.extend(gate);
        Ok(if changes.is_empty() {
            Verdict::Sealed
        } else {
            Verdict::Tampered(Tamper {
                changes,
                restorable,
            })
        })
    }
}

/// Why `git agent` must not re-seal `agent` now: sealing an entry changed
/// by hand would make the change its own. `None` when it may.
pub fn edit_refusal(repo: &gix::Repository, agent: &Agent) -> Result<Option<String>> {
    let verdict = Checker::load(repo.common_dir())?.verify(agent)?;
    Ok(match verdict {
        Verdict::Sealed => None,
        Verdict::Unsealed => Some(format!(
            "git-agent: refusing to change agent '{}': its entry carries no seal (added before seals, or its seal record was deleted)\n  \
             check it with `git agent scope {0}`, then seal it with `git agent doctor --reseal`",
            agent.name
        )),
        Verdict::Tampered(t) => Some(format!(
            "git-agent: refusing to change agent '{}': it was changed outside `git agent`:\n{}\n  {}",
            agent.name,
            bullets(&t.changes),
            t.remedy()
        )),
    })
}

/// `agent`'s entry as it is now, when `land` may trust it, else why not.
/// The entry and the seals are read together, under the registry's lock:
/// a scope edit seals and writes under it, so an entry read before one
/// (`agent`, as the caller loaded it) would look tampered against the new
/// seal. An entry gone meanwhile is judged as the caller read it.
pub fn entry_to_land(
    repo: &gix::Repository,
    agent: &Agent,
) -> Result<std::result::Result<Agent, RefusalReport>> {
    Ok(entries_to_land(repo, &[agent])?
        .pop()
        .expect("one verdict for one agent"))
}

/// [`entry_to_land`] for each of `agents`, with one read of the registry
/// and the seals (a train asks for all of its agents at once).
pub fn entries_to_land(
    repo: &gix::Repository,
    agents: &[&Agent],
) -> Result<Vec<std::result::Result<Agent, RefusalReport>>> {
    let read = crate::ops::context::registry(repo).read_locked(|now| {
        let checker = Checker::load(repo.common_dir())?;
        agents
            .iter()
            .map(|agent| {
                // Gone, or removed and made again, since the caller read it:
                // its missing seal would read as `unsealed`, which names the
                // wrong cause.
                let Some(current) = now.get(&agent.name).filter(|a| a.created == agent.created)
                else {
                    return Err(crate::ops::landing::removed_while_landing(&agent.name));
                };
                Ok((current.clone(), checker.verify(current)?))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(read
        .into_iter()
        .map(|(current, verdict)| {
            if current.state == crate::state::registry::State::Adding {
                return Err(crate::state::registry::not_ready(&current.name, "land"));
            }
            match land_refusal(&current, verdict) {
                Some(refusal) => Err(refusal),
                None => Ok(current),
            }
        })
        .collect())
}

/// Why `land` must not trust `agent`'s entry, given its seal's verdict.
fn land_refusal(agent: &Agent, verdict: Verdict) -> Option<RefusalReport> {
    match verdict {
        Verdict::Sealed => None,
        Verdict::Unsealed => Some(RefusalReport::new(
            "unsealed",
            format!(
                "refusing to land '{}': its entry carries no seal, so nothing shows that `git agent` set its scope (it was added before seals, or its seal record was deleted)\n  \
                 check it with `git agent scope {0}`, seal it with `git agent doctor --reseal`, then land again",
                agent.name
            ),
        )),
        Verdict::Tampered(t) => Some(RefusalReport::new(
            "tampered",
            format!(
                "refusing to land '{}': its rights were changed since `git agent` last set them:\n{}\n  {}",
                agent.name,
                bullets(&t.changes),
                t.remedy()
            ),
        )),
    }
}

/// One change per line, indented.
pub fn bullets(changes: &[String]) -> String {
    changes
        .iter()
        .map(|c| format!("  {c}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fail now, before anything changes, when the key is unusable: a command
/// that seals at its end must not stop half-way over a bad key.
pub fn require_key() -> Result<()> {
    Key::load_or_create().map(|_| ())
}

/// Seal `names` as they are in `agents`. Call it inside the registry's
/// update, so it runs under the registry's lock. A record that does not
/// verify is not carried over: its other agents become unsealed.
pub fn seal(common_dir: &Path, agents: &Agents, names: &[&str]) -> Result<()> {
    let key = Key::load_or_create()?;
    let store = Store::new(common_dir);
    let mut seals = match store.load(&key)? {
        Record::Valid(seals) => seals,
        Record::Missing | Record::Forged(_) => Seals::new(),
    };
    for name in names {
        match agents.get(*name) {
            Some(agent) => {
                let gate = gate_of(&agent.path)?;
                seals.insert((*name).to_owned(), Sealed::of(agent, gate));
            }
            None => {
                seals.remove(*name);
            }
        }
    }
    seals.retain(|name, _| agents.contains_key(name));
    store.write(&key, &seals)
}

/// Whether any agent of this repository was ever sealed.
pub fn any_sealed(common_dir: &Path) -> bool {
    Store::new(common_dir).path().exists()
}

/// After a person installed or removed the gate in `hooks_dir`: every
/// seal that records that directory takes the hooks' new digests. Only the
/// digests change, not which directory git runs hooks from nor any
/// registry value, so nothing an agent changed is accepted along the way.
/// Call it inside the registry's update.
pub fn reseal_hooks(common_dir: &Path, hooks_dir: &Path) -> Result<()> {
    let store = Store::new(common_dir);
    if !store.path().exists() {
        return Ok(()); // nothing sealed yet: no key needed either
    }
    let key = Key::load_or_create()?;
    let Record::Valid(mut seals) = store.load(&key)? else {
        return Ok(());
    };
    let mut changed = false;
    for gate in seals.values_mut().filter_map(|s| s.gate.as_mut()) {
        let sealed_dir = std::fs::canonicalize(&gate.hooks_dir).unwrap_or(gate.hooks_dir.clone());
        if sealed_dir == hooks_dir {
            for hook in GATE_HOOKS {
                gate.hooks
                    .insert(hook.to_owned(), seal::file_digest(&hooks_dir.join(hook)));
            }
            changed = true;
        }
    }
    if changed {
        store.write(&key, &seals)?;
    }
    Ok(())
}

/// Record that `name`'s directory moved to `to` (doctor re-adopted it):
/// only the path (and hooks found under it) change in its seal. Call it inside the registry's update.
pub fn follow_move(common_dir: &Path, name: &str, to: &Path) -> Result<()> {
    let key = Key::load_or_create()?;
    let store = Store::new(common_dir);
    if let Record::Valid(mut seals) = store.load(&key)?
        && let Some(sealed) = seals.get_mut(name)
    {
        // A clone's hooks (or a relative core.hooksPath) move with it.
        if let Some(gate) = &mut sealed.gate
            && let Ok(rest) = gate.hooks_dir.strip_prefix(&sealed.path)
        {
            gate.hooks_dir = to.join(rest);
        }
        sealed.path = to.to_owned();
        return store.write(&key, &seals);
    }
    Ok(())
}

/// The gate's reach as git sees it from `dir`; `None` when `dir` is gone.
pub fn gate_of(dir: &Path) -> Result<Option<Gate>> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let hooks = git_in(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
    )?;
    let Some(hooks) = hooks.filter(|h| !h.is_empty()) else {
        return Ok(None); // not a git directory any more: doctor's business
    };
    let hooks_dir = PathBuf::from(hooks);
    let mut digests = BTreeMap::new();
    for hook in GATE_HOOKS {
        digests.insert(hook.to_owned(), seal::file_digest(&hooks_dir.join(hook)));
    }
    let ignore_case = git_in(dir, &["config", "--get", "core.ignoreCase"])?;
    Ok(Some(Gate {
        hooks_dir,
        hooks: digests,
        ignore_case,
    }))
}

/// git's answer from inside `dir`, trimmed; `None` when git says nothing.
/// git, not gix: what counts is the hooks directory git itself will use,
/// with every config level (the worktree's `config.worktree` included).
fn git_in(dir: &Path, args: &[&str]) -> Result<Option<String>> {
    // git::output finds the repository from `dir` alone: the agent's own,
    // not one the caller's environment names.
    let out = match crate::git::output(dir, args) {
        Ok(out) => out,
        // Gone since the caller looked (an `rm` under way): git cannot
        // start in it, and a directory that is gone has no gate.
        Err(_) if !dir.is_dir() => return Ok(None),
        Err(e) => return Err(e),
    };
    if !out.status.success() {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()))
}

fn entry_changes(name: &str, sealed: &Sealed, agent: &Agent) -> Vec<String> {
    let mut found = Vec::new();
    list_changes(
        &mut found,
        name,
        "scope",
        &sealed.scope,
        &agent.scope,
        "`git agent scope`",
    );
    list_changes(
        &mut found,
        name,
        "areas",
        &sealed.areas,
        &agent.areas,
        "`git agent scope`",
    );
    let mut field = |what: &str, then: String, now: String| {
        if then != now {
            found.push(format!(
                "{what} of '{name}' changed from {then} to {now} outside `git agent`"
            ));
        }
    };
    field("role", sealed.role.to_string(), agent.role.to_string());
    field("base", sealed.base.clone(), agent.base.clone());
    field("branch", sealed.branch.clone(), agent.branch.clone());
    field(
        "path",
        sealed.path.display().to_string(),
        agent.path.display().to_string(),
    );
    field(
        "mode",
        format!("{:?}", sealed.mode).to_lowercase(),
        format!("{:?}", agent.mode).to_lowercase(),
    );
    found
}

/// Gained and lost patterns; a reordering too, since the last match wins.
fn list_changes(
    found: &mut Vec<String>,
    name: &str,
    what: &str,
    then: &[String],
    now: &[String],
    how: &str,
) {
    let gained: Vec<&str> = now
        .iter()
        .filter(|p| !then.contains(p))
        .map(String::as_str)
        .collect();
    let lost: Vec<&str> = then
        .iter()
        .filter(|p| !now.contains(p))
        .map(String::as_str)
        .collect();
    if !gained.is_empty() {
        found.push(format!(
            "{what} of '{name}' gained {} outside {how}",
            gained.join(", ")
        ));
    }
    if !lost.is_empty() {
        found.push(format!(
            "{what} of '{name}' lost {} outside {how}",
            lost.join(", ")
        ));
    }
    if gained.is_empty() && lost.is_empty() && then != now {
        found.push(format!("{what} of '{name}' was reordered outside {how}"));
    }
}

fn gate_changes(name: &str, then: &Gate, now: &Gate) -> Vec<String> {
    let mut found = Vec::new();
    if then.hooks_dir != now.hooks_dir {
        found.push(format!(
            "git runs hooks for '{name}' from {} instead of {} (core.hooksPath changed outside `git agent`)",
            now.hooks_dir.display(),
            then.hooks_dir.display()
        ));
        return found;
    }
    for (hook, digest) in &then.hooks {
        // A hook that appeared cannot open the gate; one changed or gone can.
        let Some(digest) = digest else { continue };
        let path = then.hooks_dir.join(hook);
        match now.hooks.get(hook).cloned().flatten() {
            None => found.push(format!("the {hook} hook {} was deleted", path.display())),
            Some(d) if &d != digest => found.push(format!(
                "the {hook} hook {} was changed outside `git agent hooks`",
                path.display()
            )),
            Some(_) => {}
        }
    }
    if then.ignore_case != now.ignore_case {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unset".into());
        found.push(format!(
            "core.ignoreCase seen from '{name}''s directory changed from {} to {}",
            show(&then.ignore_case),
            show(&now.ignore_case)
        ));
    }
    found
}
