//! The policy's checks on a landing's result: a persistent checks worktree
//! per base, kept between landings, and the write sandbox around them,
//! tried the way an agent's test or build script would try to get out.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

fn checks_dir(env: &Env, n: usize) -> PathBuf {
    env.repo().join(format!(".git/git-agent/checks/main.{n}"))
}

/// Agent `name` with scope `src/NAME/` and one commit there.
fn agent_with_commit(env: &Env, name: &str) {
    env.ok(env.agent("add", &[name, "--scope", &format!("src/{name}/")]));
    commit_in(env, name, &format!("src/{name}/lib.rs"), "fn f() {}\n");
}

fn commit_in(env: &Env, name: &str, rel: &str, text: &str) {
    let dir = env.agent_dir(name);
    write_in(&dir, rel, text);
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "-m", &format!("{name}: {rel}")]);
}

/// A policy whose one check is `check`.
fn policy_with_check(check: &str) -> String {
    format!(
        "version: 1\nchecks:\n  - {}\n",
        serde_json::to_string(check).unwrap()
    )
}

#[test]
fn the_checks_worktree_is_kept_and_moved_keeping_ignored_build_output() {
    let env = Env::new();
    env.write(".gitignore", "out/\n");
    // The check fails unless it starts on exactly the tree to check; then
    // it counts its runs in ignored build output and leaves a mess in the
    // tracked tree, which the next landing must not see.
    env.write(
        "check.sh",
        r#"test -z "$(git status --porcelain --untracked-files=all)" || { git status --porcelain; exit 1; }
mkdir -p out
echo $(( $(cat out/runs 2>/dev/null || echo 0) + 1 )) > out/runs
echo mess >> README.md
echo mess > stray.txt
mkdir -p junk && echo mess > junk/file
"#,
    );
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "the check"]);
    env.commit_policy(&policy_with_check("sh check.sh"));
    agent_with_commit(&env, "a");
    agent_with_commit(&env, "b");
    env.ok(env.agent("land", &["a"]));
    let dir = checks_dir(&env, 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("out/runs")).unwrap(),
        "1\n"
    );
    env.ok(env.agent("land", &["b"]));
    // The same worktree, moved to b's landing: b's file is there, the
    // mess is gone, the ignored output stayed.
    assert_eq!(
        std::fs::read_to_string(dir.join("out/runs")).unwrap(),
        "2\n"
    );
    assert_eq!(
        env.git_in(&dir, &["rev-parse", "HEAD"]),
        env.git(&["rev-parse", "main"])
    );
    assert!(dir.join("src/b/lib.rs").is_file());
    assert!(
        !checks_dir(&env, 1).exists(),
        "one landing at a time needs one worktree"
    );
    // Nothing of the checks' mess landed.
    assert!(!env.repo().join("stray.txt").exists());
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    // git knows it, and no agent command counts it as an agent.
    let listing = env.git(&["worktree", "list", "--porcelain"]);
    assert!(
        listing.contains(".git/git-agent/checks/main.0"),
        "{listing}"
    );
    let doctor = env.ok(env.agent("doctor", &[]));
    assert!(doctor.stdout.contains("no problems"), "{doctor:?}");
    let list = env.ok(env.agent("list", &["--json"]));
    assert_eq!(
        json_of(&list)["agents"].as_array().unwrap().len(),
        2,
        "{list:?}"
    );
}

#[test]
fn a_checks_worktree_deleted_or_broken_is_reported_and_made_anew() {
    let env = Env::with_policy(&policy_with_check("test -f README.md"));
    agent_with_commit(&env, "a");
    agent_with_commit(&env, "b");
    agent_with_commit(&env, "c");
    env.ok(env.agent("land", &["a"]));
    let dir = checks_dir(&env, 0);

    // Deleted by hand: doctor says so, and the next landing makes it anew.
    std::fs::remove_dir_all(&dir).unwrap();
    let doctor = env.agent("doctor", &["--json"]);
    assert_eq!(doctor.code, 1, "{doctor:?}");
    let problems = json_of(&doctor)["problems"].clone();
    assert_eq!(problems[0]["kind"], "checks_worktree", "{problems}");
    env.ok(env.agent("land", &["b"]));
    assert_eq!(
        env.git_in(&dir, &["rev-parse", "HEAD"]),
        env.git(&["rev-parse", "main"])
    );

    // A `.git` file that no longer leads home: doctor --fix remakes it.
    std::fs::write(dir.join(".git"), "gitdir: /nowhere\n").unwrap();
    let doctor = env.agent("doctor", &[]);
    assert_eq!(doctor.code, 1, "{doctor:?}");
    assert!(doctor.stdout.contains("checks worktree"), "{doctor:?}");
    env.ok(env.agent("doctor", &["--fix"]));
    env.ok(env.agent("doctor", &[]));
    assert_eq!(
        env.git_in(&dir, &["rev-parse", "HEAD"]),
        env.git(&["rev-parse", "main"])
    );
    env.ok(env.agent("land", &["c"]));
    env.git(&["fsck", "--strict", "--no-progress"]);
}

#[test]
fn a_landing_killed_during_its_checks_leaves_the_base_and_a_reusable_worktree() {
    let env = Env::new();
    let started = env.root.join("started");
    let slow = env.root.join("slow");
    std::fs::write(&slow, "").unwrap();
    env.commit_policy(&policy_with_check(&format!(
        "if [ -e {slow} ]; then touch {started}; sleep 20; fi",
        slow = slow.display(),
        started = started.display()
    )));
    agent_with_commit(&env, "a");
    let base = env.git(&["rev-parse", "main"]);
    let mut land = env
        .command(bin("git-agent"), &env.repo())
        .args(["land", "a"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the check never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    land.kill().unwrap();
    land.wait().unwrap();
    std::fs::remove_file(&slow).unwrap();
    assert_eq!(env.git(&["rev-parse", "main"]), base);
    env.git(&["fsck", "--strict", "--no-progress"]);
    // The next landing takes the same worktree (its lock died with the
    // killed landing) and lands.
    env.ok(env.agent("land", &["a"]));
    assert!(!checks_dir(&env, 1).exists());
    assert_eq!(
        env.git_in(&checks_dir(&env, 0), &["rev-parse", "HEAD"]),
        env.git(&["rev-parse", "main"])
    );
}

#[test]
fn concurrent_landings_each_take_their_own_checks_worktree() {
    let env = Env::new();
    let marks = env.root.join("marks");
    std::fs::create_dir(&marks).unwrap();
    // Each check waits until both have started, so they overlap for sure.
    env.commit_policy(&policy_with_check(&format!(
        "touch {m}/$GIT_AGENT_LANDING; i=0; while [ $(ls {m} | wc -l) -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done",
        m = marks.display()
    )));
    agent_with_commit(&env, "a");
    agent_with_commit(&env, "b");
    let spawn = |name: &str| {
        env.command(bin("git-agent"), &env.repo())
            .args(["land", name])
            .output()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| spawn("a"));
        let b = s.spawn(|| spawn("b"));
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    assert!(a.status.success(), "{:?}", Run::from_output(a));
    assert!(b.status.success(), "{:?}", Run::from_output(b));
    assert!(checks_dir(&env, 0).is_dir() && checks_dir(&env, 1).is_dir());
    let log = env.git(&["log", "--format=%s", "main"]);
    assert!(log.contains("agent/a") && log.contains("agent/b"), "{log}");
}

/// Checks that try to get out of their worktree, each carried in by the
/// agent's own commit, as an agent's test or build script would.
#[test]
fn contained_checks_cannot_touch_the_registry_refs_hooks_policy_or_worktrees() {
    if require(
        "Landlock",
        git_agent::ops::sandbox::kernel_abi().map(|_| PathBuf::new()),
    )
    .is_none()
    {
        return;
    }
    let env = Env::new_in(&outside_temporary_dirs());
    env.commit_policy(&policy_with_check("sh attack.sh"));
    env.ok(env.agent("hooks", &["install"]));
    env.ok(env.agent("add", &["a", "--scope", "attack.sh", "--scope", "src/a/"]));
    env.ok(env.agent("add", &["b", "--scope", "docs/"]));
    let common = env.repo().join(".git");
    let r = |p: &Path| p.display().to_string();
    let targets: Vec<(&str, String, PathBuf)> = vec![
        (
            "registry",
            format!("echo x >> {}", r(&common.join("git-agent/agents.json"))),
            common.join("git-agent/agents.json"),
        ),
        (
            "base ref",
            "git update-ref refs/heads/main HEAD~1".to_owned(),
            common.join("refs/heads"),
        ),
        (
            "hook",
            format!("echo exit 0 > {}", r(&common.join("hooks/pre-commit"))),
            common.join("hooks/pre-commit"),
        ),
        (
            "policy in the main worktree",
            format!("echo x >> {}", r(&env.repo().join(".git-agent.yaml"))),
            env.repo().join(".git-agent.yaml"),
        ),
        (
            "another agent's worktree",
            format!("echo x > {}", r(&env.agent_dir("b").join("docs-note"))),
            env.agent_dir("b").join("docs-note"),
        ),
        (
            "config",
            "git config core.hooksPath /dev/null".to_owned(),
            common.join("config"),
        ),
    ];
    let mut n = 0;
    for (what, attack, path) in targets {
        n += 1;
        commit_in(&env, "a", "attack.sh", &format!("set -e\n{attack}\n"));
        commit_in(&env, "a", "src/a/lib.rs", &format!("// {n}\n"));
        let before = env.state();
        let snapshot = std::fs::read(&path).ok();
        let config = std::fs::read(common.join("config")).unwrap();
        let run = env.agent("land", &["a", "--json"]);
        assert_eq!(run.code, 1, "{what}: {run:?}");
        let v = json_of(&run);
        assert_eq!(v["refusal"]["reason"], "check_failed", "{what}: {run:?}");
        assert_eq!(v["checks"]["sandboxed"], true, "{what}");
        assert_eq!(std::fs::read(&path).ok(), snapshot, "{what} changed");
        assert_eq!(
            std::fs::read(common.join("config")).unwrap(),
            config,
            "{what}"
        );
        assert_eq!(before, env.state(), "{what}");
        // The sandbox's own error.
        assert!(run.stderr.contains("Permission denied"), "{what}: {run:?}");
    }
}

#[test]
fn a_check_writing_outside_names_the_path_and_checks_sandbox_false_lets_it() {
    if require(
        "Landlock",
        git_agent::ops::sandbox::kernel_abi().map(|_| PathBuf::new()),
    )
    .is_none()
    {
        return;
    }
    let env = Env::new_in(&outside_temporary_dirs());
    let outside = env.root.join("outside-note");
    let check = format!("echo x > {}", outside.display());
    env.commit_policy(&policy_with_check(&check));
    agent_with_commit(&env, "a");
    let run = env.agent("land", &["a"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&outside.display().to_string())
            && run.stderr.contains("Permission denied"),
        "the refusal names the path: {run:?}"
    );
    assert!(!outside.exists());

    // Turned off by the policy: the check runs unconfined, and the
    // landing's output and receipt say so.
    env.commit_policy(&format!(
        "{}checks_sandbox: false\n",
        policy_with_check(&check)
    ));
    let run = env.ok(env.agent("land", &["a"]));
    assert!(outside.exists());
    assert!(
        run.stdout.contains("unsandboxed (checks_sandbox: false)"),
        "{run:?}"
    );
    let message = env.git(&["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("Agent-Checks-Sandbox: unsandboxed (checks_sandbox: false)"),
        "{message}"
    );
}

#[test]
fn a_dirty_base_worktree_refuses_the_landing_and_its_dry_run() {
    let env = Env::new();
    // In a directory of its own, made before the snapshot of the state.
    let ran = env.root.join("marks/check-ran");
    std::fs::create_dir(env.root.join("marks")).unwrap();
    env.commit_policy(&policy_with_check(&format!("touch {}", ran.display())));
    agent_with_commit(&env, "a");
    env.write("README.md", "edited by a person\n");
    let before = env.state();
    for dry_run in [true, false] {
        let mut args = vec!["a", "--json"];
        if dry_run {
            args.push("--dry-run");
        }
        let run = env.agent("land", &args);
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(json_of(&run)["refusal"]["reason"], "base_dirty", "{run:?}");
        // The dry run runs no checks; the landing ran them, then refused.
        assert_eq!(ran.exists(), !dry_run);
        assert_eq!(before, env.state());
    }
}

/// The two-tree move of a clean checks worktree: additions, deletions
/// (with the directories they empty), a mode change and a type change
/// leave exactly the landed tree, with an index git agrees with.
#[test]
fn a_clean_checks_worktree_moves_to_exactly_the_landed_tree() {
    let env = Env::new();
    env.write("src/old/deep/gone.rs", "gone\n");
    env.write("src/tool.sh", "echo\n");
    env.write("src/link-target.rs", "target\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "files to change"]);
    env.commit_policy(&policy_with_check("test -f README.md"));
    env.ok(env.agent("add", &["a", "--scope", "src/"]));
    let dir = env.agent_dir("a");
    commit_in(&env, "a", "src/new/nested/added.rs", "added\n");
    env.ok(env.agent("land", &["a"]));
    // Now a change of every kind at once.
    std::fs::remove_file(dir.join("src/old/deep/gone.rs")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("src/tool.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::remove_file(dir.join("src/link-target.rs")).unwrap();
    std::os::unix::fs::symlink("tool.sh", dir.join("src/link-target.rs")).unwrap();
    write_in(&dir, "src/new/nested/added.rs", "changed\n");
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "-m", "every kind of change"]);
    env.ok(env.agent("land", &["a"]));
    let checks = checks_dir(&env, 0);
    assert_eq!(
        env.git_in(&checks, &["rev-parse", "HEAD^{tree}"]),
        env.git(&["rev-parse", "main^{tree}"])
    );
    assert_eq!(
        env.git_in(&checks, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert_eq!(
        env.git_in(&checks, &["diff", "--cached", "--name-only", "HEAD"]),
        ""
    );
    assert!(!checks.join("src/old").exists(), "emptied directories stay");
    assert!(checks.join("src/link-target.rs").is_symlink());
    let mode = std::fs::metadata(checks.join("src/tool.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111);
    assert_eq!(
        std::fs::read_to_string(checks.join("src/new/nested/added.rs")).unwrap(),
        "changed\n"
    );
}

/// Run `land args` while its checks wait: once they have started, narrow
/// agent `narrowed`'s scope as a person would, then let the checks finish.
fn land_while_scope_narrows(env: &Env, args: &[&str], narrowed: &str) -> Run {
    let marks = env.root.join("marks");
    let _ = std::fs::remove_dir_all(&marks);
    std::fs::create_dir(&marks).unwrap();
    let land = env
        .command(bin("git-agent"), &env.repo())
        .arg("land")
        .args(args)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = marks.join("started");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the checks never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    env.ok(env.agent("scope", &["set", narrowed, "docs/"]));
    std::fs::write(marks.join("go"), "").unwrap();
    Run::from_output(land.wait_with_output().unwrap())
}

fn waiting_check(env: &Env) -> String {
    policy_with_check(&format!(
        "touch {m}/started; i=0; while [ ! -e {m}/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done",
        m = env.root.join("marks").display()
    ))
}

/// A scope narrowed while a landing's checks run: the landing reads the
/// entry again just before it moves the base, and stops; landed again, the
/// branch is checked against the narrowed scope. The same for a train.
#[test]
fn a_scope_narrowed_during_the_checks_stops_the_landing_and_the_train() {
    let env = Env::new();
    env.commit_policy(&waiting_check(&env));
    agent_with_commit(&env, "a");
    agent_with_commit(&env, "b");
    let base = env.git(&["rev-parse", "main"]);

    let run = land_while_scope_narrows(&env, &["a"], "a");
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["refusal"]["reason"], "scope_changed", "{v}");
    let message = v["refusal"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("checked against src/a/") && message.contains("now docs/"),
        "{v}"
    );
    assert_eq!(
        env.git(&["rev-parse", "main"]),
        base,
        "the base did not move"
    );
    // Landed again: checked against the scope it has now.
    std::fs::write(env.root.join("marks/go"), "").unwrap();
    let run = env.agent("land", &["a", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        json_of(&run)["refusal"]["reason"],
        "out_of_scope",
        "{run:?}"
    );

    let run = land_while_scope_narrows(&env, &["b", "a"], "b");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("scope_changed"), "{run:?}");
    assert_eq!(
        env.git(&["rev-parse", "main"]),
        base,
        "the train did not move it"
    );
}
