//! `git agent doctor`: drift found, reported with its fix, and repaired.

use crate::support::*;

fn doctor(env: &Env) -> Run {
    env.agent("doctor", &[])
}

#[test]
fn a_healthy_repository_has_no_problems() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let run = env.ok(doctor(&env));
    assert_eq!(run.stdout, "no problems found\n");
}

#[test]
fn a_worktree_deleted_by_hand_is_recreated_from_its_branch() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "kept\n");
    env.git_in(&dir, &["commit", "-q", "-am", "work"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let before = env.state();
    let run = doctor(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("agent 'a': its worktree"), "{run:?}");
    assert!(
        run.stdout.contains("is missing (deleted or moved by hand)"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("git worktree repair NEWPATH"),
        "{run:?}"
    );
    assert_eq!(before, env.state(), "without --fix nothing changes");
    env.ok(env.agent("doctor", &["--fix"]));
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/guide.md")).unwrap(),
        "kept\n"
    );
    env.git(&["fsck"]);
    env.ok(doctor(&env));
}

#[test]
fn a_worktree_moved_with_git_is_followed() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let to = env.root.join("moved-a");
    env.git(&[
        "worktree",
        "move",
        env.agent_dir("a").to_str().unwrap(),
        to.to_str().unwrap(),
    ]);
    let run = doctor(&env);
    assert!(
        run.stdout.contains(&format!("to {}", to.display())),
        "{run:?}"
    );
    env.ok(env.agent("doctor", &["--fix"]));
    let run = env.ok(env.agent("list", &["--json"]));
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["agents"][0]["path"], to.display().to_string());
}

#[test]
fn a_missing_branch_an_orphan_branch_and_a_stale_lease_are_repaired() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "a's work\n");
    env.git_in(&dir, &["commit", "-q", "-am", "a work"]);
    let a_tip = env.git(&["rev-parse", "agent/a"]);
    env.git(&["update-ref", "-d", "refs/heads/agent/a"]);
    // A branch named like an agent's, with work, but no agent.
    env.git(&["switch", "-q", "-c", "agent/stray"]);
    env.write("docs/stray.md", "stray\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "stray work"]);
    env.git(&["switch", "-q", "main"]);
    let stray_tip = env.git(&["rev-parse", "agent/stray"]);
    let pid = dead_pid();
    let lease = env.write_lease("a", pid, "x");

    let run = doctor(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("agent 'a': its branch agent/a is missing"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("branch agent/stray belongs to no agent"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains(&format!("held by pid {pid}, which is gone")),
        "{run:?}"
    );
    assert!(run.stdout.contains("3 problem(s)"), "{run:?}");

    let run = env.ok(env.agent("doctor", &["--fix"]));
    assert!(
        run.stdout
            .contains("archived agent/stray as refs/agent-archive/stray/"),
        "{run:?}"
    );
    assert_eq!(
        env.git(&["rev-parse", "agent/a"]),
        a_tip,
        "recreated at the worktree's HEAD"
    );
    assert_eq!(env.git(&["branch", "--list", "agent/stray"]), "");
    let archived = env.git(&[
        "for-each-ref",
        "--format=%(objectname)",
        "refs/agent-archive/stray/",
    ]);
    assert_eq!(
        env.git(&["rev-parse", &format!("{}^1", archived.trim())]),
        stray_tip,
        "the stray work is kept"
    );
    assert!(!lease.exists());
    env.ok(doctor(&env));
    env.git(&["fsck"]);
}

#[test]
fn kill_9_during_add_is_rolled_back_by_doctor() {
    let env = Env::new();
    for i in 0..3000 {
        env.write(&format!("bulk/d{}/f{i}.txt", i % 50), &format!("{i}\n"));
    }
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "bulk"]);
    // Kill at different moments of the add.
    for (n, delay_ms) in [0u64, 5, 15, 30, 60, 120].into_iter().enumerate() {
        let name = format!("k{n}");
        let mut child = env
            .command(bin("git-agent-add"), &env.repo())
            .args([name.as_str(), "--scope", "docs/"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        env.ok(env.agent("doctor", &["--fix"]));
        env.git(&["fsck", "--strict"]);
        let worktrees = env.git(&["worktree", "list", "--porcelain"]);
        let branches = env.git(&["branch", "--list", "agent/*"]);
        let run = env.ok(env.agent("list", &["--json"]));
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        if status.success() {
            // The add finished before the kill: a complete, healthy agent.
            assert_eq!(v["agents"].as_array().unwrap().len(), 1, "{v}");
            env.ok(env.agent("rm", &[&name]));
        } else {
            assert_eq!(v["agents"], serde_json::json!([]), "delay {delay_ms}: {v}");
            assert_eq!(branches, "", "delay {delay_ms}: stray branch");
            assert_eq!(
                worktrees.matches("worktree ").count(),
                1,
                "delay {delay_ms}: {worktrees}"
            );
            assert!(
                !env.agent_dir(&name).exists(),
                "delay {delay_ms}: stray directory"
            );
        }
        env.ok(doctor(&env));
    }
}

#[test]
fn doctor_json_reports_each_problem_and_what_fix_repaired() {
    let env = Env::new();
    let v = json_of(&env.ok(env.agent("doctor", &["--json"])));
    assert_eq!(
        v,
        serde_json::json!({"version": 1, "fix": false, "problems": []})
    );

    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "kept\n");
    env.git_in(&dir, &["commit", "-q", "-am", "work"]);
    std::fs::remove_dir_all(&dir).unwrap();
    // A branch named like an agent's, with work, but no agent.
    env.git(&["branch", "agent/stray", "agent/a"]);
    let pid = dead_pid();
    env.write_lease("a", pid, "x");
    let before = env.state();

    let run = env.agent("doctor", &["--json"]);
    assert_eq!(run.code, 1, "problems without --fix: {run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["fix"], false);
    let problems = v["problems"].as_array().unwrap();
    let by_kind = |kind: &str| {
        problems
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}: {v}"))
            .clone()
    };
    assert_eq!(problems.len(), 3, "{v}");
    let missing = by_kind("directory_missing");
    assert_eq!(missing["agent"], "a");
    assert_eq!(missing["path"], dir.display().to_string());
    assert_eq!(missing["moved_to"], serde_json::Value::Null);
    assert_eq!(missing["fixed"], false);
    assert!(
        missing["problem"]
            .as_str()
            .unwrap()
            .contains("is missing (deleted or moved by hand)"),
        "{missing}"
    );
    assert!(
        missing["fix"]
            .as_str()
            .unwrap()
            .contains("recreate it from branch agent/a"),
        "{missing}"
    );
    let lease = by_kind("stale_lease");
    assert_eq!(lease["agent"], "a");
    assert_eq!(lease["pid"], pid);
    assert_eq!(lease["path"], serde_json::Value::Null);
    let stray = by_kind("orphan_branch");
    assert_eq!(stray["agent"], "stray");
    assert_eq!(stray["archived"], serde_json::Value::Null);
    assert_eq!(before, env.state(), "without --fix nothing changes");

    let run = env.ok(env.agent("doctor", &["--fix", "--json"]));
    let v = json_of(&run);
    assert_eq!(v["fix"], true);
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3, "{v}");
    assert!(problems.iter().all(|p| p["fixed"] == true), "{v}");
    let archive = env.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/agent-archive/stray/",
    ]);
    assert!(
        archive.starts_with("refs/agent-archive/stray/"),
        "{archive}"
    );
    let stray = problems
        .iter()
        .find(|p| p["kind"] == "orphan_branch")
        .unwrap();
    assert_eq!(stray["archived"], archive.trim());
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/guide.md")).unwrap(),
        "kept\n"
    );
    let v = json_of(&env.ok(env.agent("doctor", &["--json"])));
    assert_eq!(v["problems"], serde_json::json!([]));
}

#[test]
fn doctor_json_follows_a_moved_worktree() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let to = env.root.join("moved-a");
    env.git(&[
        "worktree",
        "move",
        env.agent_dir("a").to_str().unwrap(),
        to.to_str().unwrap(),
    ]);
    let run = env.agent("doctor", &["--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["problems"][0]["kind"], "moved", "{v}");
    assert_eq!(
        v["problems"][0]["path"],
        env.agent_dir("a").display().to_string()
    );
    assert_eq!(v["problems"][0]["moved_to"], to.display().to_string());
}
