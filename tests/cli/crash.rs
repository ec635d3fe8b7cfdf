//! Crash safety: every command that writes is killed (SIGKILL, by its own
//! named crash point, see `git_agent::state::crash`) at each of its steps,
//! and after each crash the repository must hold up: `git fsck --strict`
//! passes, the base is at its old tip or its new one and its worktree
//! matches it, no commit that existed before is unreachable, the registry
//! parses, and `doctor --fix` brings back a state in which the same
//! command, run again, succeeds (or whose work is already complete).
//!
//! One small repository per command, and a loop over its steps. A new
//! command's crash test is a [`Crashing`] per step and a call to
//! [`crash_each_step`].

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use git_agent::state::crash;

use crate::support::*;

/// One crashed run: the command, its arguments, and what it may replace.
pub struct Crashing {
    /// `land`, as in `git-agent-land`.
    pub cmd: &'static str,
    pub args: Vec<String>,
    /// Commits the command replaces by design (a squash landing's, a
    /// rebase's), which may become unreachable; every other one must stay.
    pub replaced: BTreeSet<String>,
    /// Where the command may move the base back to (`unland --hard`);
    /// otherwise the base may only move forward.
    pub back_to: Option<String>,
}

impl Crashing {
    pub fn new(cmd: &'static str, args: &[&str]) -> Crashing {
        Crashing {
            cmd,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            replaced: BTreeSet::new(),
            back_to: None,
        }
    }

    fn run(&self, env: &Env, crash_at: Option<&str>) -> std::process::Output {
        let mut cmd = env.command(bin(&format!("git-agent-{}", self.cmd)), &env.repo());
        cmd.args(&self.args);
        if let Some(step) = crash_at {
            cmd.env(crash::VARIABLE, step);
        }
        cmd.output().unwrap()
    }
}

/// What must still hold after a crash, read before the run.
struct Before {
    base: String,
    base_tip: String,
    base_moves: usize,
    kept: BTreeSet<String>,
}

impl Before {
    fn read(env: &Env, base: &str) -> Before {
        Before {
            base: base.to_owned(),
            base_tip: tip(env, base),
            base_moves: moves(env, base),
            kept: kept_commits(env),
        }
    }
}

fn tip(env: &Env, branch: &str) -> String {
    env.git(&["rev-parse", &format!("refs/heads/{branch}")])
        .trim()
        .to_owned()
}

/// How often `branch` moved: its reflog's length.
fn moves(env: &Env, branch: &str) -> usize {
    env.git(&[
        "reflog",
        "show",
        "--format=%H",
        &format!("refs/heads/{branch}"),
    ])
    .lines()
    .count()
}

/// Every commit reachable from a branch (the base among them) or an archive.
pub fn kept_commits(env: &Env) -> BTreeSet<String> {
    let refs = env.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/heads/",
        "refs/agent-archive/",
    ]);
    let mut args = vec!["rev-list"];
    args.extend(refs.lines());
    env.git(&args).lines().map(str::to_owned).collect()
}

/// The registry parses, and each entry is whole: named as its key, on its
/// own branch.
pub fn registry_is_sound(env: &Env, context: &str) {
    let registry = git_agent::state::registry::Registry::new(&env.repo().join(".git"));
    let agents = registry
        .load()
        .unwrap_or_else(|e| panic!("{context}: the registry does not parse: {e}"));
    for (name, agent) in &agents {
        assert_eq!(&agent.name, name, "{context}: {agent:?}");
        assert_eq!(
            agent.branch,
            format!("agent/{name}"),
            "{context}: {agent:?}"
        );
        assert!(agent.path.is_absolute(), "{context}: {agent:?}");
    }
}

/// fsck, the base, the worktree on it, every earlier commit, the registry.
fn holds_up(env: &Env, before: &Before, crashing: &Crashing, context: &str) {
    let fsck = env.git_run(&env.repo(), &["fsck", "--strict", "--no-progress"]);
    assert_eq!(fsck.code, 0, "{context}: git fsck --strict: {fsck:?}");
    let now = tip(env, &before.base);
    if now != before.base_tip {
        // One move, forward: a compare-and-swap, never a step in between.
        assert_eq!(
            moves(env, &before.base),
            before.base_moves + 1,
            "{context}: {} moved more than once",
            before.base
        );
        let forward = env.git_run(
            &env.repo(),
            &["merge-base", "--is-ancestor", &before.base_tip, &now],
        );
        assert!(
            forward.code == 0 || crashing.back_to.as_ref() == Some(&now),
            "{context}: {} went back",
            before.base
        );
    }
    let status = env.git(&["status", "--porcelain", "--untracked-files=no"]);
    assert_eq!(
        status, "",
        "{context}: the base's worktree does not match it"
    );
    let kept = kept_commits(env);
    let lost: Vec<&String> = before
        .kept
        .iter()
        .filter(|c| !kept.contains(*c) && !crashing.replaced.contains(*c))
        .collect();
    assert!(lost.is_empty(), "{context}: commits lost: {lost:?}");
    registry_is_sound(env, context);
}

/// Run `case(env, n)` killed at each of `steps` (the n-th), then check that
/// the repository holds up, that `doctor --fix` repairs it, and that the
/// work is complete (`done`) or the same command, run again, succeeds and
/// completes it.
pub fn crash_each_step(
    env: &Env,
    base: &str,
    steps: &[&str],
    case: impl Fn(&Env, usize) -> Crashing,
    done: impl Fn(&Env, usize) -> bool,
) {
    for (n, step) in steps.iter().enumerate() {
        let crashing = case(env, n);
        let before = Before::read(env, base);
        let out = crashing.run(env, Some(step));
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGKILL),
            "{step}: never reached (git-agent-{} {:?}): {:?}",
            crashing.cmd,
            crashing.args,
            Run::from_output(out.clone())
        );
        holds_up(env, &before, &crashing, &format!("{step}, killed"));
        let fix = env.agent("doctor", &["--fix"]);
        assert_eq!(fix.code, 0, "{step}: doctor --fix: {fix:?}");
        let after = env.agent("doctor", &[]);
        assert_eq!(after.code, 0, "{step}: left after doctor --fix: {after:?}");
        holds_up(env, &before, &crashing, &format!("{step}, fixed"));
        if !done(env, n) {
            let again = Run::from_output(crashing.run(env, None));
            assert_eq!(again.code, 0, "{step}: run again after the fix: {again:?}");
            assert!(done(env, n), "{step}: run again, and still not done");
            holds_up(env, &before, &crashing, &format!("{step}, again"));
        }
    }
}

const POLICY: &str = "version: 1\nchecks: [\"true\"]\n";

fn registered(env: &Env, name: &str) -> Option<git_agent::state::registry::Agent> {
    git_agent::state::registry::Registry::new(&env.repo().join(".git"))
        .load()
        .unwrap()
        .get(name)
        .cloned()
}

fn ready(env: &Env, name: &str) -> bool {
    registered(env, name)
        .is_some_and(|a| a.state == git_agent::state::registry::State::Ready && a.path.is_dir())
}

/// Commit `file` in `dir` (the gate is on: it must be in scope).
fn commit_in(env: &Env, dir: &Path, file: &str) -> String {
    write_in(dir, file, &format!("{file}\n"));
    env.git_in(dir, &["add", file]);
    env.git_in(dir, &["commit", "-q", "-m", file]);
    env.git_in(dir, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn has_file(env: &Env, rev: &str, file: &str) -> bool {
    env.git_run(&env.repo(), &["cat-file", "-e", &format!("{rev}:{file}")])
        .code
        == 0
}

/// The commits of `branch` that `base` lacks.
fn unlanded(env: &Env, base: &str, branch: &str) -> BTreeSet<String> {
    env.git(&["rev-list", &format!("{base}..{branch}")])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_crash_point_is_listed_and_every_list_is_tested() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut named = BTreeSet::new();
    let mut stack: Vec<PathBuf> = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("crash::point(\"").skip(1) {
                    named.insert(piece.split('"').next().unwrap().to_owned());
                }
            }
        }
    }
    let listed: BTreeSet<String> = crash::STEPS
        .iter()
        .flat_map(|(_, steps)| steps.iter().map(|s| (*s).to_owned()))
        .collect();
    assert_eq!(named, listed, "crash points in src/ vs state::crash::STEPS");
    let tested: Vec<&str> = crash::STEPS.iter().map(|(cmd, _)| *cmd).collect();
    // Each of these has a test below that crashes it at every listed step.
    assert_eq!(
        tested,
        [
            "add", "land", "train", "unland", "sync", "rm", "restore", "scope", "doctor", "exec",
            "registry"
        ]
    );
}

#[test]
fn add_killed_at_each_step() {
    let env = Env::with_policy(POLICY);
    crash_each_step(
        &env,
        "main",
        crash::ADD,
        |_, n| Crashing::new("add", &[&format!("k{n}"), "--scope", "docs/"]),
        |env, n| ready(env, &format!("k{n}")),
    );
}

#[test]
fn land_killed_at_each_step_merge_and_squash() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["lander", "--scope", "docs/"]));
    let dir = env.agent_dir("lander");
    for strategy in ["merge", "squash"] {
        crash_each_step(
            &env,
            "main",
            crash::LAND,
            |env, n| {
                commit_in(env, &dir, &format!("docs/{strategy}{n}.md"));
                let mut c = Crashing::new("land", &["lander", "--strategy", strategy]);
                if strategy == "squash" {
                    c.replaced = unlanded(env, "main", "agent/lander");
                }
                c
            },
            |env, n| has_file(env, "main", &format!("docs/{strategy}{n}.md")),
        );
    }
}

/// `unland` of a merge landing, by revert at every step, and `--hard` at
/// its steps (the base then moves back to before the landing, whose merge
/// commit it drops by design). Done: the base lacks the landed file, and
/// the agent's branch holds it in a commit the base lacks, so landing again
/// brings it back.
#[test]
fn unland_killed_at_each_step_revert_and_hard() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["undone", "--scope", "docs/"]));
    let dir = env.agent_dir("undone");
    for (how, steps) in [("revert", crash::UNLAND), ("hard", crash::UNLAND_HARD)] {
        let file = |n: usize| format!("docs/{how}{n}.md");
        crash_each_step(
            &env,
            "main",
            steps,
            |env, n| {
                commit_in(env, &dir, &file(n));
                env.ok(env.agent("land", &["undone", "--no-checks"]));
                if how == "revert" {
                    return Crashing::new("unland", &["undone"]);
                }
                let mut c = Crashing::new("unland", &["undone", "--hard"]);
                c.replaced = BTreeSet::from([tip(env, "main")]);
                c.back_to = Some(tip(env, "main~1"));
                c
            },
            |env, n| {
                !has_file(env, "main", &file(n))
                    && has_file(env, "agent/undone", &file(n))
                    && !unlanded(env, "main", "agent/undone").is_empty()
            },
        );
    }
}

#[test]
fn train_killed_at_each_step() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["t1", "--scope", "docs/"]));
    env.ok(env.agent("add", &["t2", "--scope", "src/"]));
    let (d1, d2) = (env.agent_dir("t1"), env.agent_dir("t2"));
    crash_each_step(
        &env,
        "main",
        crash::TRAIN,
        |env, n| {
            commit_in(env, &d1, &format!("docs/train{n}.md"));
            commit_in(env, &d2, &format!("src/train{n}.rs"));
            Crashing::new("land", &["t1", "t2"])
        },
        |env, n| {
            has_file(env, "main", &format!("docs/train{n}.md"))
                && has_file(env, "main", &format!("src/train{n}.rs"))
        },
    );
}

#[test]
fn sync_killed_at_each_step_merge_and_rebase() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["syncer", "--scope", "docs/"]));
    // The base moves as it does in use: another agent lands.
    env.ok(env.agent("add", &["mover", "--scope", "src/"]));
    let dir = env.agent_dir("syncer");
    let mover = env.agent_dir("mover");
    for how in ["--merge", "--rebase"] {
        crash_each_step(
            &env,
            "main",
            crash::SYNC,
            |env, n| {
                commit_in(env, &dir, &format!("docs/{how}{n}.md"));
                commit_in(env, &mover, &format!("src/base{how}{n}.rs"));
                env.ok(env.agent("land", &["mover", "--no-checks"]));
                let mut c = Crashing::new("sync", &["syncer", how]);
                if how == "--rebase" {
                    c.replaced = unlanded(env, "main", "agent/syncer");
                }
                c
            },
            |env, _| {
                env.git_run(
                    &env.repo(),
                    &["merge-base", "--is-ancestor", "main", "agent/syncer"],
                )
                .code
                    == 0
            },
        );
    }
}

#[test]
fn rm_killed_at_each_step() {
    let env = Env::with_policy(POLICY);
    crash_each_step(
        &env,
        "main",
        crash::RM,
        |env, n| {
            let name = format!("r{n}");
            env.ok(env.agent("add", &[&name, "--scope", "docs/"]));
            let dir = env.agent_dir(&name);
            commit_in(env, &dir, &format!("docs/{name}.md"));
            write_in(&dir, "notes.txt", "untracked work\n");
            Crashing::new("rm", &[&name, "--force"])
        },
        |env, n| {
            let name = format!("r{n}");
            registered(env, &name).is_none()
                && env
                    .git(&["branch", "--list", &format!("agent/{name}")])
                    .is_empty()
                && !env.agent_dir(&name).exists()
        },
    );
}

#[test]
fn restore_killed_at_each_step() {
    let env = Env::with_policy(POLICY);
    crash_each_step(
        &env,
        "main",
        crash::RESTORE,
        |env, n| {
            let name = format!("s{n}");
            env.ok(env.agent("add", &[&name, "--scope", "docs/"]));
            let dir = env.agent_dir(&name);
            commit_in(env, &dir, &format!("docs/{name}.md"));
            write_in(&dir, "docs/guide.md", "uncommitted work\n");
            env.ok(env.agent("rm", &[&name, "--force"]));
            Crashing::new("restore", &[&name])
        },
        |env, n| ready(env, &format!("s{n}")),
    );
}

#[test]
fn scope_edits_and_registry_writes_killed_at_each_step() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["scoped", "--scope", "docs/"]));
    let steps: Vec<&str> = crash::SCOPE
        .iter()
        .chain(crash::REGISTRY)
        .copied()
        .collect();
    let edits = ["set", "add", "rm"];
    crash_each_step(
        &env,
        "main",
        &steps,
        |_, n| {
            let edit = edits[n % edits.len()];
            // Removes what the step before added.
            let pattern = match edit {
                "rm" => format!("x{}/", n - 1),
                _ => format!("x{n}/"),
            };
            Crashing::new("scope", &[edit, "scoped", &pattern])
        },
        |env, n| {
            let scope = registered(env, "scoped").unwrap().scope;
            match edits[n % edits.len()] {
                "rm" => !scope.contains(&format!("x{}/", n - 1)),
                _ => scope.contains(&format!("x{n}/")),
            }
        },
    );
}

#[test]
fn doctor_fix_killed_at_each_step() {
    let env = Env::with_policy(POLICY);
    crash_each_step(
        &env,
        "main",
        crash::DOCTOR,
        |env, n| {
            // A half-made agent with work in it, a stale lease, an orphan branch.
            let name = format!("half{n}");
            let mut add = env.command(bin("git-agent-add"), &env.repo());
            add.args([name.as_str(), "--scope", "docs/"])
                .env(crash::VARIABLE, "add:after-make");
            assert_eq!(add.output().unwrap().status.signal(), Some(libc::SIGKILL));
            write_in(&env.agent_dir(&name), "docs/wip.md", "work in progress\n");
            env.ok(env.agent("add", &[&format!("leased{n}"), "--scope", "docs/"]));
            env.write_lease(&format!("leased{n}"), dead_pid(), "x");
            env.git(&["branch", &format!("agent/orphan{n}"), "main"]);
            Crashing::new("doctor", &["--fix"])
        },
        |env, _| env.agent("doctor", &[]).code == 0,
    );
}

#[test]
fn exec_killed_at_each_step() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["runner", "--scope", "docs/"]));
    crash_each_step(
        &env,
        "main",
        crash::EXEC,
        |_, n| Crashing::new("exec", &["runner", "--", "touch", &format!("ran{n}")]),
        |env, n| env.agent_dir("runner").join(format!("ran{n}")).exists(),
    );
}

/// An agent whose `add` stopped after its worktree was made (its entry
/// still `adding`): `land`, `sync` and `exec` refuse it as not ready,
/// changing nothing, until `doctor --fix` rolls it back.
#[test]
fn an_agent_still_being_added_is_not_ready() {
    let env = Env::with_policy(POLICY);
    let mut add = env.command(bin("git-agent-add"), &env.repo());
    add.args(["half", "--scope", "docs/"])
        .env(crash::VARIABLE, "add:after-make");
    assert_eq!(add.output().unwrap().status.signal(), Some(libc::SIGKILL));
    let before = env.state();
    for (cmd, args) in [
        ("land", vec!["half", "--json"]),
        ("sync", vec!["half", "--json"]),
    ] {
        let run = env.agent(cmd, &args);
        assert_eq!(run.code, 1, "{cmd}: {run:?}");
        let v = json_of(&run);
        assert_eq!(v["refusal"]["reason"], "not_ready", "{cmd}: {v}");
    }
    let run = env.agent("exec", &["half", "--", "touch", "ran"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("agent 'half' is not ready"), "{run:?}");
    assert!(!env.agent_dir("half").join("ran").exists());
    assert_eq!(before, env.state(), "a refusal changes nothing");
    env.ok(env.agent("doctor", &["--fix"]));
    assert!(registered(&env, "half").is_none());
}

/// An `add` killed after its entry was ready but before it wrote the
/// guardrails: `doctor` reports them missing and `--fix` writes them as
/// `add` does; an agent added with `--guardrails none` has a record of
/// that choice and is not reported.
#[test]
fn add_killed_before_its_guardrails_is_reported_and_fixed_by_doctor() {
    let env = Env::with_policy(POLICY);
    let mut add = env.command(bin("git-agent-add"), &env.repo());
    add.args(["bare", "--scope", "docs/"])
        .env(crash::VARIABLE, "add:after-ready");
    assert_eq!(add.output().unwrap().status.signal(), Some(libc::SIGKILL));
    env.ok(env.agent(
        "add",
        &["chosen", "--scope", "src/", "--guardrails", "none"],
    ));
    let dir = env.agent_dir("bare");
    let settings = dir.join(".claude/settings.local.json");
    assert!(!settings.exists());

    let run = env.agent("doctor", &["--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{v}");
    assert_eq!(problems[0]["kind"], "guardrails_missing", "{v}");
    assert_eq!(problems[0]["agent"], "bare", "{v}");

    env.ok(env.agent("doctor", &["--fix"]));
    for file in [
        ".claude/settings.local.json",
        ".codex/config.toml",
        ".cursor/cli.json",
        ".gemini/policies/git-agent.toml",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let claude = std::fs::read_to_string(&settings).unwrap();
    assert!(claude.contains("docs"), "written from its scope: {claude}");
    let brief = env.git_in(&dir, &["rev-parse", "--git-path", "git-agent-brief.md"]);
    assert!(dir.join(brief.trim()).is_file(), "the brief too");
    env.ok(env.agent("doctor", &[]));
    assert!(!env.agent_dir("chosen").join(".claude").exists());
}
