use crate::support::*;

fn registry(env: &Env) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(env.repo().join(".git/git-agent/agents.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn add_creates_branch_worktree_and_registry_entry() {
    let env = Env::with_policy("version: 1\nareas:\n  billing: [src/billing/]\n");
    let run = env.ok(env.agent(
        "add",
        &[
            "billing",
            "--area",
            "billing",
            "--scope",
            "tests/billing/",
            "--task",
            "invoices",
        ],
    ));
    let dir = env.agent_dir("billing");
    assert_eq!(run.stdout.trim(), dir.display().to_string());
    assert!(
        run.stderr
            .contains("created agent 'billing' on branch agent/billing from main"),
        "{run:?}"
    );
    assert!(dir.join("src/billing/invoice.rs").is_file());

    let list = env.git(&["worktree", "list", "--porcelain"]);
    assert!(
        list.contains(&format!("worktree {}\n", dir.display())),
        "{list}"
    );
    assert!(list.contains("branch refs/heads/agent/billing"), "{list}");
    env.git(&["fsck", "--strict"]);
    assert_eq!(
        env.git(&["rev-parse", "agent/billing"]),
        env.git(&["rev-parse", "main"]),
        "the branch starts at the base"
    );
    // git itself sees a clean, usable worktree.
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    assert_eq!(
        env.git_in(&dir, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "agent/billing\n"
    );

    let reg = registry(&env);
    let agent = &reg["agents"]["billing"];
    assert_eq!(agent["branch"], "agent/billing");
    assert_eq!(agent["base"], "main");
    assert_eq!(agent["areas"], serde_json::json!(["billing"]));
    assert_eq!(agent["scope"], serde_json::json!(["tests/billing/"]));
    assert_eq!(agent["task"], "invoices");
    assert_eq!(agent["state"], "ready");
}

#[test]
fn add_honours_path_and_base() {
    let env = Env::new();
    env.git(&["branch", "develop"]);
    let run = env.ok(env.agent(
        "add",
        &[
            "x",
            "--scope",
            "src/",
            "--base",
            "develop",
            "--path",
            "../elsewhere/x",
        ],
    ));
    let dir = env.root.join("elsewhere/x");
    assert_eq!(run.stdout.trim(), dir.display().to_string());
    assert_eq!(registry(&env)["agents"]["x"]["base"], "develop");
    env.git(&["fsck"]);
}

#[test]
fn add_from_a_subdirectory_and_with_dash_c() {
    let env = Env::new();
    env.ok(env.agent_in(
        &env.repo().join("src/api"),
        "add",
        &["a", "--scope", "src/"],
    ));
    env.ok(env.agent_in(&env.root, "add", &["-C", "repo", "b", "--scope", "docs/"]));
    assert!(env.agent_dir("a").is_dir());
    assert!(env.agent_dir("b").is_dir());
}

#[test]
fn invalid_names_are_refused_with_exit_2_and_nothing_changes() {
    let env = Env::new();
    let before = env.state();
    for name in ["-x", "a/b", "a..b", "has space", "x.lock", "ünï"] {
        let run = env.agent("add", &["--scope", "src/", "--", name]);
        assert_bad_input(&env, &before, &run, &["invalid agent name"]);
    }
}

#[test]
fn an_existing_agent_branch_or_path_is_refused_and_nothing_is_created() {
    let env = Env::new();
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    let before = env.state();
    let run = env.agent("add", &["billing", "--scope", "src/"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("agent 'billing' already exists"),
        "{run:?}"
    );
    assert_eq!(before, env.state());

    env.git(&["branch", "agent/taken"]);
    let before = env.state();
    let run = env.agent("add", &["taken", "--scope", "src/"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("branch 'agent/taken' already exists"),
        "{run:?}"
    );
    assert_eq!(before, env.state());

    write_in(&env.root, "repo.agents/occupied/file", "x");
    let before = env.state();
    let run = env.agent("add", &["occupied", "--scope", "src/"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("already exists; choose another place with --path"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn bad_base_area_or_pattern_exit_2_and_change_nothing() {
    let env = Env::with_policy("version: 1\nareas:\n  billing: [src/billing/]\n");
    let before = env.state();
    let run = env.agent("add", &["a", "--scope", "src/", "--base", "nope"]);
    assert_bad_input(&env, &before, &run, &["base 'nope' does not exist"]);
    let run = env.agent("add", &["a", "--area", "biling"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["unknown area 'biling'", "did you mean 'billing'?"],
    );
    let run = env.agent("add", &["a", "--scope", "src/[x"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["invalid scope pattern 'src/[x'", "unclosed '['"],
    );
}

#[test]
fn not_a_repository_exits_2() {
    let env = Env::new();
    let run = env.agent_in(&env.root, "add", &["a", "--scope", "x/"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{run:?}"
    );
}

#[test]
fn concurrent_adds_never_lose_a_registry_entry() {
    let env = Env::new();
    let names: Vec<String> = (0..8).map(|i| format!("agent{i}")).collect();
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            env.command(bin("git-agent-add"), &env.repo())
                .args([n.as_str(), "--scope", "src/"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let reg = registry(&env);
    let agents = reg["agents"].as_object().unwrap();
    assert_eq!(agents.len(), names.len(), "{reg}");
    for n in &names {
        assert_eq!(agents[n]["state"], "ready");
    }
    env.git(&["fsck"]);
    let list = env.git(&["worktree", "list"]);
    assert_eq!(list.lines().count(), names.len() + 1, "{list}");
}

#[test]
fn init_writes_a_commented_manifest_and_installs_the_hook() {
    let env = Env::new();
    let run = env.ok(env.agent("init", &[]));
    let text = std::fs::read_to_string(env.repo().join(".git-agent.yaml")).unwrap();
    assert!(text.contains("version: 1"));
    assert!(text.contains("  base: main"));
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
            > 10,
        "{text}"
    );
    assert!(env.repo().join(".git/hooks/pre-commit").is_file());
    // The starter is not committed yet, and init says so.
    assert!(
        run.stderr
            .contains("differs from the one committed on 'main'"),
        "{run:?}"
    );
    // A second init leaves the manifest alone and the hook as it was.
    let before = env.state();
    let run = env.ok(env.agent("init", &[]));
    assert!(
        run.stdout.contains("already exists; left as it is"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn add_warns_when_the_gate_is_not_installed() {
    let env = Env::new();
    let run = env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    assert!(
        run.stderr.contains("the pre-commit gate is not installed"),
        "{run:?}"
    );
    env.ok(env.agent("hooks", &["install"]));
    let run = env.ok(env.agent("add", &["b", "--scope", "docs/"]));
    assert!(!run.stderr.contains("not installed"), "{run:?}");
}

#[test]
fn a_held_registry_lock_times_out_with_exit_2_and_a_dead_holders_lock_is_taken_over() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo().join(".git/git-agent")).unwrap();
    let lock = env.repo().join(".git/git-agent/agents.json.lock");
    // Held by a live process: this test's own.
    let held = std::fs::File::create(&lock).unwrap();
    held.try_lock().unwrap();
    let before = env.state();
    let run = Run::from_output(
        env.command(bin("git-agent-add"), &env.repo())
            .env("GIT_AGENT_LOCK_TIMEOUT_MS", "300")
            .args(["a", "--scope", "docs/"])
            .output()
            .unwrap(),
    );
    assert_bad_input(
        &env,
        &before,
        &run,
        &["the agent registry is locked by another git-agent process"],
    );
    assert!(lock.exists(), "someone else's lock is left alone");
    drop(held);

    // Left by a process that no longer exists.
    let pid = dead_pid();
    std::fs::write(&lock, pid.to_string()).unwrap();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    // Free again: the next writer takes it at once.
    assert!(std::fs::File::open(&lock).unwrap().try_lock().is_ok());
}

#[test]
fn copy_files_and_setup_commands_prepare_the_worktree() {
    let env = Env::with_policy(
        "version: 1\ncopy: [.env, config/local/, missing.txt]\nsetup: [\"echo setting up $GIT_AGENT; touch setup-ran\"]\n",
    );
    env.write(".env", "SECRET=1\n");
    env.write("config/local/a.toml", "a = 1\n");
    let run = env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    assert_eq!(
        std::fs::read_to_string(dir.join(".env")).unwrap(),
        "SECRET=1\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("config/local/a.toml")).unwrap(),
        "a = 1\n"
    );
    assert!(dir.join("setup-ran").is_file());
    // Setup output is shown, on stderr: stdout is only the path.
    assert!(run.stderr.contains("setup: echo setting up"), "{run:?}");
    assert!(run.stderr.contains("setting up a"), "{run:?}");
    assert_eq!(run.stdout.trim(), dir.display().to_string());
}

#[test]
fn a_failing_setup_leaves_the_agent_created_and_marked() {
    let env = Env::with_policy(
        "version: 1\nsetup: [\"true\", \"echo broken >&2; exit 3\", \"touch never\"]\n",
    );
    let run = env.agent("add", &["a", "--scope", "docs/"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("setup command `echo broken >&2; exit 3` exited with 3"),
        "{run:?}"
    );
    assert!(run.stderr.contains("marked setup-failed"), "{run:?}");
    let dir = env.agent_dir("a");
    assert!(dir.is_dir());
    assert!(
        !dir.join("never").exists(),
        "later setup commands do not run"
    );
    let run = env.ok(env.agent("list", &["--json"]));
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        v["agents"][0]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "setup failed"),
        "{v}"
    );
    let run = env.ok(env.agent("list", &[]));
    assert!(run.stdout.contains("! setup failed"), "{run:?}");
}

#[test]
fn submodules_are_initialized() {
    let env = Env::new();
    let sub = env.root.join("sub");
    std::fs::create_dir(&sub).unwrap();
    env.git_in(&sub, &["init", "-q"]);
    write_in(&sub, "lib.txt", "sub\n");
    env.git_in(&sub, &["add", "-A"]);
    env.git_in(&sub, &["commit", "-q", "-m", "sub"]);
    env.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        "../sub",
        "vendor/sub",
    ]);
    env.git(&["commit", "-q", "-m", "Add submodule"]);
    let run = env
        .command(bin("git-agent-add"), &env.repo())
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_0", "always")
        .args(["a", "--scope", "docs/"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(env.agent_dir("a").join("vendor/sub/lib.txt")).unwrap(),
        "sub\n"
    );
}
