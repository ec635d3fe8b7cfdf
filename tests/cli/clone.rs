//! `git agent add --clone`: the same gate, list, rm and doctor on a clone.

use crate::support::*;

fn clone_agent() -> (Env, std::path::PathBuf) {
    let env = Env::with_policy("version: 1\nareas:\n  billing: [src/billing/]\n");
    let run = env.ok(env.agent("add", &["billing", "--area", "billing", "--clone"]));
    let dir = env.agent_dir("billing");
    assert_eq!(run.stdout.trim(), dir.display().to_string());
    (env, dir)
}

#[test]
fn a_clone_borrows_objects_and_has_its_own_branch() {
    let (env, dir) = clone_agent();
    assert!(dir.join(".git").is_dir(), "a clone, not a worktree");
    let alternates = std::fs::read_to_string(dir.join(".git/objects/info/alternates")).unwrap();
    assert!(
        alternates.contains(&env.repo().join(".git/objects").display().to_string()),
        "{alternates}"
    );
    let packs = std::fs::read_dir(dir.join(".git/objects/pack"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(packs, 0, "no objects were copied");
    assert_eq!(
        env.git_in(&dir, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "agent/billing\n"
    );
    assert_eq!(
        env.git_in(&dir, &["rev-parse", "HEAD"]),
        env.git(&["rev-parse", "main"])
    );
    assert_eq!(
        env.git(&["worktree", "list"]).lines().count(),
        1,
        "no worktree was added"
    );
    env.git_in(&dir, &["fsck"]);
}

#[test]
fn the_gate_and_list_work_in_a_clone() {
    let (env, dir) = clone_agent();
    write_in(&dir, "src/api/routes.rs", "out\n");
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "out of scope"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("outside the scope of agent 'billing'"),
        "{run:?}"
    );
    env.git_in(&dir, &["reset", "-q", "--hard"]);
    write_in(&dir, "src/billing/invoice.rs", "in\n");
    env.git_in(&dir, &["commit", "-q", "-am", "in scope"]);

    let run = env.ok(env.agent("list", &["--json"]));
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["agents"][0]["ahead"], 1, "{v}");
    assert_eq!(v["agents"][0]["out_of_scope"], false, "{v}");
    // scope check in the clone finds the agent and the policy of its home.
    let run = env.agent_in(&dir, "scope", &["check", "--paths", "src/api/x"]);
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn rm_of_a_clone_keeps_its_work_in_the_main_repository() {
    let (env, dir) = clone_agent();
    write_in(&dir, "src/billing/invoice.rs", "work\n");
    env.git_in(&dir, &["commit", "-q", "-am", "clone work"]);
    let tip = env.git_in(&dir, &["rev-parse", "HEAD"]);
    write_in(&dir, "scratch.txt", "untracked\n");
    let before = env.state();
    let run = env.agent("rm", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(before, env.state());
    env.ok(env.agent("rm", &["billing", "--force"]));
    assert!(!dir.exists());
    let archive = env.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/agent-archive/billing/",
    ]);
    assert_eq!(
        env.git(&["rev-parse", &format!("{}^1", archive.trim())]),
        tip
    );
    env.git(&["fsck", "--strict"]);
    // It comes back, as a worktree.
    env.ok(env.agent("restore", &["billing"]));
    assert_eq!(
        std::fs::read_to_string(dir.join("scratch.txt")).unwrap(),
        "untracked\n"
    );
    assert_eq!(env.git_in(&dir, &["rev-parse", "HEAD"]), tip);
}

#[test]
fn doctor_notices_a_clone_deleted_by_hand() {
    let (env, dir) = clone_agent();
    std::fs::remove_dir_all(&dir).unwrap();
    let run = env.agent("doctor", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("its clone"), "{run:?}");
    env.ok(env.agent("doctor", &["--fix"]));
    env.ok(env.agent("doctor", &[]));
}
