//! The ref guard (git's reference-transaction hook): what an agent's own
//! work and the orchestrator's commands may still do, how it is installed,
//! and that outside an agent's context it never starts the engine.

use std::path::Path;

use crate::support::*;

fn setup() -> Env {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    env
}

/// git as the agent runs it, which must succeed.
fn git_ok(env: &Env, dir: &Path, as_agent: bool, args: &[&str]) -> Run {
    let run = git_as(env, dir, as_agent, args);
    assert_eq!(run.code, 0, "git {args:?}: {run:?}");
    run
}

fn rev(env: &Env, what: &str) -> String {
    env.git(&["rev-parse", what]).trim().to_owned()
}

#[test]
fn an_agents_own_porcelain_work_passes() {
    let env = setup();
    let dir = env.agent_dir("a");
    for as_agent in [false, true] {
        let g = |args: &[&str]| git_ok(&env, &dir, as_agent, args);
        // A base commit to merge, cherry-pick and rebase onto.
        env.write("README.md", &format!("# Shop {as_agent}\n"));
        env.git(&["commit", "-qam", "base moves"]);
        write_in(&dir, "docs/guide.md", &format!("# One {as_agent}\n"));
        g(&["commit", "-qam", "one"]);
        g(&["commit", "-q", "--amend", "-m", "one, amended"]);
        write_in(&dir, "docs/guide.md", "# Stashed\n");
        g(&["stash", "push", "-q"]);
        g(&["stash", "pop", "-q"]);
        g(&["commit", "-qam", "two"]);
        g(&["merge", "-q", "--no-edit", "main"]);
        g(&["reset", "-q", "--hard", "HEAD~1"]);
        g(&["rebase", "-q", "-i", "main"]);
        env.write("docs/picked.md", &format!("# Picked {as_agent}\n"));
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "to pick"]);
        let base = rev(&env, "main");
        g(&["cherry-pick", "main"]);
        g(&["reset", "-q", "--hard", "HEAD~1"]);
        g(&["bisect", "start", "HEAD", "main~1"]);
        g(&["bisect", "good"]);
        g(&["bisect", "reset"]);
        g(&["switch", "-q", "--detach"]);
        g(&["switch", "-q", "agent/a"]);
        // git gc packs refs, the base's among them: values unchanged.
        g(&["pack-refs", "--all"]);
        g(&["gc", "-q"]);
        assert_eq!(base, rev(&env, "main"));
    }
    // Its stash and its branch moved; nothing else of the repository did.
    assert_eq!(
        env.git(&["for-each-ref", "--format=%(refname)", "refs/heads"]),
        "refs/heads/agent/a\nrefs/heads/main\n"
    );
}

#[test]
fn the_orchestrators_commands_pass() {
    let env = Env::with_policy("version: 1\ndefaults: { strategy: ff }\n");
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "# Agent\n");
    env.git_in(&dir, &["commit", "-qam", "agent"]);
    env.write("README.md", "# Moved\n");
    env.git(&["commit", "-qam", "base moves"]);
    // sync rebases in the agent's worktree; land moves the base with
    // merge --ff-only in the main worktree and the agent's branch after.
    env.ok(env.agent("sync", &["a"]));
    env.ok(env.agent("land", &["a"]));
    assert_eq!(rev(&env, "main"), rev(&env, "agent/a"));
    // An agent syncing itself (GIT_AGENT set) rebases its own branch.
    env.write("README.md", "# Moved again\n");
    env.git(&["commit", "-qam", "base moves again"]);
    write_in(&dir, "docs/guide.md", "# Agent 2\n");
    env.git_in(&dir, &["commit", "-qam", "agent 2"]);
    let run = Run::from_output(
        env.command(bin("git-agent-sync"), &dir)
            .env("GIT_AGENT", "a")
            .args(["a"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    env.git(&["merge-base", "--is-ancestor", "main", "agent/a"]);
    env.ok(env.agent("rm", &["a", "--force"]));
}

/// A `git-agent` first on PATH that logs its arguments, then runs ours.
fn logging_engine(env: &Env) -> (std::path::PathBuf, std::path::PathBuf) {
    let shim_dir = env.root.join("shim");
    std::fs::create_dir_all(&shim_dir).unwrap();
    let log = env.root.join("engine.log");
    let shim = shim_dir.join("git-agent");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            bin("git-agent").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    (shim_dir, log)
}

#[test]
fn outside_an_agents_context_the_engine_never_starts() {
    let env = setup();
    let (shim_dir, log) = logging_engine(&env);
    let path = std::env::join_paths(
        std::iter::once(shim_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let git = |dir: &Path, agent: Option<&str>, args: &[&str]| {
        let mut cmd = env.command("git", dir);
        cmd.env("PATH", &path);
        if let Some(a) = agent {
            cmd.env("GIT_AGENT", a);
        }
        let run = Run::from_output(cmd.args(args).output().unwrap());
        assert_eq!(run.code, 0, "{run:?}");
    };
    let guards = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("hooks ref-guard"))
            .count()
    };
    git(
        &env.repo(),
        None,
        &["commit", "-q", "--allow-empty", "-m", "x"],
    );
    git(&env.repo(), None, &["branch", "feature"]);
    assert_eq!(guards(), 0, "{:?}", std::fs::read_to_string(&log));
    // In the agent's worktree (its mark), and with GIT_AGENT: only the
    // `prepared` phase starts it.
    let dir = env.agent_dir("a");
    git(&dir, None, &["commit", "-q", "--allow-empty", "-m", "y"]);
    let in_worktree = guards();
    assert!(in_worktree >= 1, "{:?}", std::fs::read_to_string(&log));
    git(
        &dir,
        Some("a"),
        &["commit", "-q", "--allow-empty", "-m", "z"],
    );
    assert_eq!(guards(), 2 * in_worktree);
}

/// Pseudo-refs of the agent's own worktree (not `HEAD`) pass in the shell,
/// without the engine: a commit starts it once, for its branch. Anything
/// else, or another agent's name in `GIT_AGENT`, still goes to the engine.
#[test]
fn the_agents_own_pseudo_refs_pass_without_the_engine_and_nothing_else_does() {
    let env = setup();
    env.ok(env.agent("add", &["b", "--scope", "src/"]));
    let (shim_dir, log) = logging_engine(&env);
    let path = std::env::join_paths(
        std::iter::once(shim_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let dir = env.agent_dir("a");
    let git = |agent: Option<&str>, args: &[&str]| {
        let mut cmd = env.command("git", &dir);
        cmd.env("PATH", &path);
        if let Some(a) = agent {
            cmd.env("GIT_AGENT", a);
        }
        Run::from_output(cmd.args(args).output().unwrap())
    };
    let guards = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("hooks ref-guard prepared"))
            .count()
    };
    for agent in [None, Some("a")] {
        let before = guards();
        assert_eq!(git(agent, &["update-ref", "ORIG_HEAD", "HEAD"]).code, 0);
        assert_eq!(git(agent, &["update-ref", "-d", "ORIG_HEAD"]).code, 0);
        assert_eq!(guards(), before, "{:?}", std::fs::read_to_string(&log));
        let commit = git(agent, &["commit", "-q", "--allow-empty", "-m", "x"]);
        assert_eq!(commit.code, 0, "{commit:?}");
        assert_eq!(guards(), before + 1, "one engine run per commit");
    }
    // HEAD goes to the engine, which lets the agent detach its own HEAD.
    let before = guards();
    assert_eq!(
        git(None, &["update-ref", "--no-deref", "HEAD", "HEAD"]).code,
        0
    );
    assert_eq!(guards(), before + 1);
    // GIT_AGENT naming another agent: the engine decides, and refuses
    // even a pseudo-ref of a worktree that is not b's.
    let run = git(Some("b"), &["update-ref", "ORIG_HEAD", "HEAD"]);
    assert_eq!(run.code, 128, "{run:?}");
    assert!(
        run.stderr.contains("refusing to update ORIG_HEAD"),
        "{run:?}"
    );
    let orig_head = env.git_run(&dir, &["rev-parse", "-q", "--verify", "ORIG_HEAD"]);
    assert_ne!(orig_head.code, 0, "{orig_head:?}");
}

#[test]
fn install_keeps_a_foreign_reference_transaction_hook_and_its_input() {
    let env = Env::new();
    let hook = env.repo().join(".git/hooks/reference-transaction");
    let seen = env.root.join("seen");
    let foreign = format!(
        "#!/bin/sh\n# another tool\nwhile read -r old new ref; do echo \"$1 $ref\" >> '{}'; done\nexit 0\n",
        seen.display()
    );
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, &foreign).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = env.ok(env.agent("hooks", &["install"]));
    assert!(
        run.stdout
            .contains("added the ref guard to the existing hook"),
        "{run:?}"
    );
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(
        text.starts_with("#!/bin/sh\n# >>> git-agent ref guard >>>\n"),
        "{text}"
    );
    assert!(text.ends_with(&foreign["#!/bin/sh\n".len()..]), "{text}");
    let run = env.ok(env.agent("hooks", &["install"]));
    assert!(
        run.stdout.contains("the ref guard is already installed"),
        "{run:?}"
    );
    assert_eq!(text, std::fs::read_to_string(&hook).unwrap());
    let status = env.ok(env.agent("hooks", &["status"]));
    assert!(
        status.stdout.contains("\nref guard installed: "),
        "{status:?}"
    );

    // The foreign part still reads every update, in and out of an agent's
    // context (our block gives back what it read).
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    std::fs::write(&seen, "").unwrap();
    write_in(&dir, "docs/guide.md", "# A\n");
    env.git_in(&dir, &["commit", "-qam", "a"]);
    let lines = std::fs::read_to_string(&seen).unwrap();
    assert!(lines.contains("prepared refs/heads/agent/a"), "{lines}");
    assert!(lines.contains("committed refs/heads/agent/a"), "{lines}");

    env.ok(env.agent("hooks", &["uninstall"]));
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), foreign);
    let status = env.ok(env.agent("hooks", &["status"]));
    assert!(
        status.stdout.contains("\nref guard not installed"),
        "{status:?}"
    );
}

#[test]
fn install_marks_agents_added_before_the_mark_existed() {
    let env = setup();
    let mark = env.repo().join(".git/worktrees/a/git-agent-agent");
    assert!(mark.exists());
    std::fs::remove_file(&mark).unwrap();
    let dir = env.agent_dir("a");
    // Without its mark (and without GIT_AGENT) the worktree is not seen.
    env.git_in(&dir, &["branch", "stray"]);
    env.git(&["branch", "-D", "stray"]);
    env.ok(env.agent("hooks", &["install"]));
    assert!(mark.exists());
    let run = env.git_run(&dir, &["branch", "stray"]);
    assert_eq!(run.code, 128, "{run:?}");
    assert!(run.stderr.contains("refusing to update refs/heads/stray"));
}

#[test]
fn a_clone_agent_moves_only_its_own_branch() {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["c", "--scope", "docs/", "--clone"]));
    let dir = env.agent_dir("c");
    assert!(dir.join(".git/git-agent-agent").exists());
    write_in(&dir, "docs/guide.md", "# C\n");
    env.git_in(&dir, &["commit", "-qam", "c"]);
    let run = env.git_run(&dir, &["update-ref", "refs/heads/main", "HEAD"]);
    assert_eq!(run.code, 128, "{run:?}");
    assert!(run.stderr.contains("its clone"), "{run:?}");
    // rm archives its work (a ref in the clone) past the guard.
    write_in(&dir, "docs/more.md", "# unsaved\n");
    env.ok(env.agent("rm", &["c", "--force"]));
    assert!(!env.git(&["for-each-ref", "refs/agent-archive/"]).is_empty());
}
