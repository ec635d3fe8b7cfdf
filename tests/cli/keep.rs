//! Work is never lost: repairs archive before they delete, restore applies
//! whole or not at all, and what cannot be kept is said.

use crate::support::*;

fn list_json(env: &Env) -> serde_json::Value {
    json_of(&env.ok(env.agent("list", &["--json"])))
}

fn archives(env: &Env, name: &str) -> Vec<String> {
    env.git(&[
        "for-each-ref",
        "--format=%(refname)",
        &format!("refs/agent-archive/{name}/"),
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

fn registry_path(env: &Env) -> std::path::PathBuf {
    env.repo().join(".git/git-agent/agents.json")
}

/// Change the registry file as a crash or a person might have left it.
fn edit_registry(env: &Env, change: impl FnOnce(&mut serde_json::Value)) {
    let path = registry_path(env);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn restore_gives_a_free_port_when_another_agent_holds_the_archived_one() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    write_in(&env.agent_dir("a"), "notes.txt", "work\n");
    let port_a = list_port(&env, "a");
    env.ok(env.agent("rm", &["a", "--force"]));
    env.ok(env.agent("add", &["b", "--scope", "docs/"]));
    // b now holds the port a had.
    edit_registry(&env, |v| v["agents"]["b"]["port"] = port_a.into());
    env.ok(env.agent("restore", &["a"]));
    let (a, b) = (list_port(&env, "a"), list_port(&env, "b"));
    assert_eq!(b, port_a);
    assert_ne!(a, b, "two agents share port {a}");
    let run = env.ok(env.agent("exec", &["a", "--", "sh", "-c", "echo $GIT_AGENT_PORT"]));
    assert_eq!(run.stdout.trim(), a.to_string());
}

fn list_port(env: &Env, name: &str) -> u64 {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(registry_path(env)).unwrap()).unwrap();
    v["agents"][name]["port"].as_u64().unwrap()
}

#[test]
fn restore_keeps_the_archived_port_when_it_is_free() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    edit_registry(&env, |v| v["agents"]["a"]["port"] = 24567.into());
    write_in(&env.agent_dir("a"), "notes.txt", "work\n");
    env.ok(env.agent("rm", &["a", "--force"]));
    env.ok(env.agent("restore", &["a"]));
    assert_eq!(list_port(&env, "a"), 24567);
}

#[test]
fn a_restored_agent_has_its_guardrails_and_brief_and_doctor_finds_nothing() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    write_in(&env.agent_dir("a"), "notes.txt", "work\n");
    env.ok(env.agent("rm", &["a", "--force"]));
    assert!(!env.agent_dir("a").exists());
    env.ok(env.agent("restore", &["a"]));
    let dir = env.agent_dir("a");
    let claude = std::fs::read_to_string(dir.join(".claude/settings.local.json")).unwrap();
    assert!(claude.contains("docs"), "{claude}");
    let brief = env.git_in(&dir, &["rev-parse", "--git-path", "git-agent-brief.md"]);
    assert!(dir.join(brief.trim()).is_file());
    env.ok(env.agent("doctor", &[]));
}

#[test]
fn doctor_archives_the_work_in_a_half_added_worktree_before_rolling_it_back() {
    let env = Env::new();
    env.commit_policy("version: 1\nsetup: [\"touch setup-started; sleep 20\"]\n");
    let mut child = env
        .command(bin("git-agent-add"), &env.repo())
        .args(["slow", "--scope", "docs/"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dir = env.agent_dir("slow");
    let started = std::time::Instant::now();
    while !dir.join("setup-started").exists() {
        assert!(started.elapsed().as_secs() < 20, "setup never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    write_in(&dir, "docs/draft.md", "written during setup\n");
    write_in(&dir, "README.md", "changed\n");

    let v = json_of(&env.ok(env.agent("doctor", &["--fix", "--json"])));
    assert_eq!(v["problems"][0]["kind"], "half_added", "{v}");
    let archived = v["problems"][0]["archived"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(archives(&env, "slow"), vec![archived.to_owned()]);
    assert!(!dir.exists());
    assert_eq!(
        env.git(&["show", &format!("{archived}:docs/draft.md")]),
        "written during setup\n"
    );
    env.git(&["fsck"]);
    env.ok(env.agent("restore", &["slow"]));
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        "changed\n"
    );
    assert!(dir.join("docs/draft.md").is_file());
}

#[test]
fn doctor_leaves_an_agent_branch_checked_out_in_the_main_worktree() {
    let env = Env::new();
    env.git(&["switch", "-q", "-c", "agent/stray"]);
    env.write("docs/stray.md", "stray\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "stray work"]);
    let tip = env.git(&["rev-parse", "HEAD"]);
    let run = env.agent("doctor", &["--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["problems"][0]["kind"], "in_main_worktree", "{v}");
    assert_eq!(v["problems"][0]["path"], env.repo().display().to_string());
    let before = env.state();
    let run = env.agent("doctor", &["--fix", "--json"]);
    assert_eq!(
        run.code, 1,
        "a problem --fix must leave is still there: {run:?}"
    );
    let v = json_of(&run);
    assert_eq!(v["problems"][0]["fixed"], false, "{v}");
    assert_eq!(before, env.state(), "nothing changed");
    assert_eq!(
        env.git(&["symbolic-ref", "HEAD"]),
        "refs/heads/agent/stray\n"
    );
    assert_eq!(env.git(&["rev-parse", "HEAD"]), tip);
    let run = env.agent("doctor", &[]);
    assert!(
        run.stdout.contains("checked out in the main worktree"),
        "{run:?}"
    );
    assert!(run.stdout.contains("git switch"), "{run:?}");
}

#[test]
fn an_orphan_branch_is_archived_even_when_it_is_the_default_base() {
    let env = Env::new();
    env.git(&["switch", "-q", "-c", "agent/stray"]);
    env.write("docs/stray.md", "stray\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "stray work"]);
    let tip = env.git(&["rev-parse", "HEAD"]);
    // Left in the main worktree's HEAD only by name: detach, so the branch
    // is an orphan and the default base is nothing useful.
    env.git(&["switch", "-q", "--detach"]);
    let run = env.ok(env.agent("doctor", &["--fix"]));
    let refs = archives(&env, "stray");
    assert_eq!(refs.len(), 1, "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("archived agent/stray as {}", refs[0])),
        "{run:?}"
    );
    assert_eq!(env.git(&["rev-parse", &format!("{}^1", refs[0])]), tip);
    env.git(&["fsck"]);
    // It comes back at the default place, as an agent.
    let run = env.ok(env.agent("restore", &["stray"]));
    assert_eq!(
        run.stdout.trim(),
        env.agent_dir("stray").display().to_string()
    );
    assert_eq!(env.git(&["rev-parse", "agent/stray"]), tip);
}

#[test]
fn a_restore_that_fails_leaves_no_branch_behind() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    write_in(&env.agent_dir("a"), "notes.txt", "work\n");
    env.ok(env.agent("rm", &["a", "--force"]));
    // Where the worktree would go, a file: the checkout fails.
    std::fs::create_dir_all(env.root.join("repo.agents")).unwrap();
    std::fs::write(env.root.join("blocker"), "x").unwrap();
    let before = env.state();
    let run = env.agent("restore", &["a", "--path", "../blocker/a"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(before, env.state(), "half-applied");
}

#[test]
fn restore_over_a_live_agent_suggests_what_helps() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    write_in(&env.agent_dir("a"), "notes.txt", "work\n");
    env.ok(env.agent("rm", &["a", "--force"]));
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let run = env.agent("restore", &["a"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        !run.stderr.contains("--path"),
        "--path does not help: {run:?}"
    );
    assert!(run.stderr.contains("git agent rm a"), "{run:?}");
}

#[test]
fn rm_of_a_clone_deleted_by_hand_drops_its_entry() {
    let env = Env::with_policy("version: 1\nareas:\n  billing: [src/billing/]\n");
    env.ok(env.agent("add", &["billing", "--area", "billing", "--clone"]));
    std::fs::remove_dir_all(env.agent_dir("billing")).unwrap();
    let run = env.ok(env.agent("rm", &["billing", "--json"]));
    let v = json_of(&run);
    assert_eq!(v["removed"], true, "{v}");
    assert_eq!(list_json(&env)["agents"], serde_json::json!([]));
    env.ok(env.agent("doctor", &[]));
}

#[test]
fn list_reports_an_area_removed_from_the_policy() {
    let env = Env::with_policy("version: 1\nareas:\n  billing: [src/billing/]\n");
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    env.commit_policy("version: 1\nareas:\n  api: [src/api/]\n");
    let v = list_json(&env);
    let problems = v["agents"][0]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("unknown area 'billing'")),
        "{v}"
    );
}

fn allow_file_submodules(env: &Env) {
    let config = env.root.join(".gitconfig");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("[protocol \"file\"]\n\tallow = always\n");
    std::fs::write(config, text).unwrap();
}

#[test]
fn rm_force_refuses_to_delete_a_nested_repository_s_commits() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "src/billing/"]));
    let proto = env.agent_dir("a").join("src/billing/proto");
    write_in(&proto, "api.proto", "syntax = \"proto3\";\n");
    env.git_in(&proto, &["init", "-q"]);
    env.git_in(&proto, &["add", "-A"]);
    env.git_in(&proto, &["commit", "-q", "-m", "proto"]);
    let commit = env.git_in(&proto, &["rev-parse", "HEAD"]);
    let before = env.state();
    let run = env.agent("rm", &["a", "--force", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["removed"], false, "{v}");
    assert_eq!(v["refusal"]["reason"], "nested_repository", "{v}");
    assert_eq!(
        v["refusal"]["paths"],
        serde_json::json!(["src/billing/proto/"])
    );
    let message = v["refusal"]["message"].as_str().unwrap();
    assert!(message.contains("own .git"), "{message}");
    assert_eq!(before, env.state(), "nothing changed");
    assert_eq!(env.git_in(&proto, &["rev-parse", "HEAD"]), commit);
    // Moved out of the way, the agent goes.
    std::fs::rename(&proto, env.root.join("proto")).unwrap();
    env.ok(env.agent("rm", &["a", "--force"]));
}

fn repo_with_submodule(env: &Env) {
    allow_file_submodules(env);
    let sub = env.root.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    env.git_in(&sub, &["init", "-q"]);
    write_in(&sub, "lib.txt", "v1\n");
    env.git_in(&sub, &["add", "-A"]);
    env.git_in(&sub, &["commit", "-q", "-m", "lib"]);
    env.git(&["submodule", "add", "-q", "../sub", "vendor/lib"]);
    env.git(&["commit", "-q", "-m", "submodule"]);
}

#[test]
fn rm_force_refuses_to_delete_commits_inside_a_submodule() {
    let env = Env::new();
    repo_with_submodule(&env);
    env.ok(env.agent("add", &["a", "--scope", "vendor/"]));
    let lib = env.agent_dir("a").join("vendor/lib");
    assert!(lib.join("lib.txt").is_file(), "add initialises submodules");
    write_in(&lib, "lib.txt", "v2\n");
    env.git_in(&lib, &["commit", "-q", "-am", "only here"]);
    let before = env.state();
    let run = env.agent("rm", &["a", "--force", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["refusal"]["reason"], "nested_repository", "{v}");
    assert_eq!(v["refusal"]["paths"], serde_json::json!(["vendor/lib"]));
    assert_eq!(before, env.state(), "nothing changed");
}

#[test]
fn restore_initialises_submodules() {
    let env = Env::new();
    repo_with_submodule(&env);
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "work\n");
    // A clean submodule at the recorded commit loses nothing.
    env.ok(env.agent("rm", &["a", "--force"]));
    env.ok(env.agent("restore", &["a"]));
    assert_eq!(
        std::fs::read_to_string(dir.join("vendor/lib/lib.txt")).unwrap(),
        "v1\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/guide.md")).unwrap(),
        "work\n"
    );
}
