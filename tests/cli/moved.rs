//! `doctor` after an agent's directory was moved or copied by hand: one
//! directory per agent afterwards, on an admin directory of its own, and no
//! work lost.

use std::path::{Path, PathBuf};

use crate::support::*;

fn doctor_json(env: &Env, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = env.agent("doctor", &all);
    (run.code, json_of(&run))
}

fn registered_path(env: &Env, name: &str) -> String {
    let v = json_of(&env.ok(env.agent("list", &["--json"])));
    let agents = v["agents"].as_array().unwrap();
    let a = agents.iter().find(|a| a["name"] == name).unwrap();
    a["path"].as_str().unwrap().to_owned()
}

fn git_dir(env: &Env, dir: &Path) -> String {
    env.git_in(dir, &["rev-parse", "--absolute-git-dir"])
        .trim()
        .to_owned()
}

/// Every directory in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Uncommitted and untracked work in an agent's directory.
fn make_work(dir: &Path) {
    write_in(dir, "docs/guide.md", "edited, not committed\n");
    write_in(dir, "notes/todo.txt", "untracked\n");
}

fn assert_work_in(env: &Env, dir: &Path) {
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/guide.md")).unwrap(),
        "edited, not committed\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes/todo.txt")).unwrap(),
        "untracked\n"
    );
    let status = env.git_in(dir, &["status", "--porcelain"]);
    assert!(status.contains(" M docs/guide.md"), "{status}");
    assert!(status.contains("?? notes/"), "{status}");
}

fn assert_healthy(env: &Env) {
    env.git(&["fsck"]);
    let (code, v) = doctor_json(env, &[]);
    assert_eq!(code, 0, "{v}");
}

/// Move the agent's directory by hand; doctor finds it and --fix re-adopts
/// it where it is, with its files.
fn moved_by_hand_is_readopted(env: &Env, from: &Path, to: &Path, work: bool) {
    if work {
        make_work(from);
    }
    std::fs::rename(from, to).unwrap();
    let before = env.state();
    let (code, v) = doctor_json(env, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["problems"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["problems"][0]["kind"], "moved", "{v}");
    assert_eq!(v["problems"][0]["path"], from.display().to_string());
    assert_eq!(v["problems"][0]["moved_to"], to.display().to_string());
    assert_eq!(before, env.state(), "without --fix nothing changes");
    let (code, v) = doctor_json(env, &["--fix"]);
    assert_eq!(code, 0, "{v}");
    assert!(!from.exists(), "nothing recreated at the old place");
    assert_eq!(registered_path(env, "a"), to.display().to_string());
    if work {
        assert_work_in(env, to);
    }
    // git knows the new place too.
    let worktrees = env.git(&["worktree", "list", "--porcelain"]);
    assert!(
        worktrees.contains(&format!("worktree {}\n", to.display())),
        "{worktrees}"
    );
    assert_healthy(env);
}

#[test]
fn a_worktree_moved_within_the_agents_directory_is_readopted() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let from = env.agent_dir("a");
    let to = env.root.join("repo.agents/a-moved");
    moved_by_hand_is_readopted(&env, &from, &to, false);
    assert_eq!(entries(&env.root.join("repo.agents")), ["a-moved"]);
}

#[test]
fn a_worktree_moved_with_uncommitted_work_keeps_it() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let from = env.agent_dir("a");
    let to = env.root.join("repo.agents/renamed");
    moved_by_hand_is_readopted(&env, &from, &to, true);
    assert_eq!(entries(&env.root.join("repo.agents")), ["renamed"]);
}

#[test]
fn a_worktree_moved_elsewhere_under_its_parent_is_readopted() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/", "--path", "../work/a"]));
    let from = env.root.join("work/a");
    let to = env.root.join("work/b");
    moved_by_hand_is_readopted(&env, &from, &to, true);
    assert_eq!(entries(&env.root.join("work")), ["b"]);
}

#[test]
fn a_clone_moved_by_hand_is_readopted() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/", "--clone"]));
    let from = env.agent_dir("a");
    let to = env.root.join("repo.agents/a-moved");
    make_work(&from);
    std::fs::rename(&from, &to).unwrap();
    let (code, v) = doctor_json(&env, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["problems"][0]["kind"], "moved", "{v}");
    assert_eq!(v["problems"][0]["moved_to"], to.display().to_string());
    let (code, v) = doctor_json(&env, &["--fix"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(registered_path(&env, "a"), to.display().to_string());
    assert_work_in(&env, &to);
    assert_eq!(entries(&env.root.join("repo.agents")), ["a-moved"]);
    env.git_in(&to, &["fsck"]);
    assert_healthy(&env);
}

#[test]
fn a_clone_moved_out_of_reach_is_reported_missing_not_moved() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/", "--clone"]));
    std::fs::create_dir_all(env.root.join("far/away")).unwrap();
    std::fs::rename(env.agent_dir("a"), env.root.join("far/away/a")).unwrap();
    let (code, v) = doctor_json(&env, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["problems"][0]["kind"], "clone_missing", "{v}");
}

#[test]
fn a_worktree_moved_then_recreated_by_hand_on_the_same_admin_directory() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    let moved = env.root.join("repo.agents/a-moved");
    make_work(&dir);
    std::fs::rename(&dir, &moved).unwrap();
    // What a person in a hurry does: forget the old registration, check
    // the branch out again. git gives the new one the old admin directory.
    env.git(&["worktree", "prune"]);
    env.git(&["worktree", "add", "-q", dir.to_str().unwrap(), "agent/a"]);
    assert_eq!(git_dir(&env, &dir), git_dir(&env, &moved), "shared");

    let (code, v) = doctor_json(&env, &[]);
    assert_eq!(code, 1, "two directories on one admin directory: {v}");
    let kinds: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    // The checkout made by hand has none of the guardrails `add` wrote.
    assert_eq!(kinds, ["guardrails_missing", "shared_admin_dir"], "{v}");
    assert_eq!(v["problems"][1]["path"], moved.display().to_string());
    let (code, v) = doctor_json(&env, &["--fix"]);
    assert_eq!(code, 0, "{v}");
    assert!(
        dir.join(".claude/settings.local.json").is_file(),
        "the guardrails are back: {v}"
    );
    let archived = v["problems"][1]["archived"].as_str().unwrap().to_owned();
    assert!(archived.starts_with("refs/agent-archive/a/"), "{v}");
    assert_eq!(entries(&env.root.join("repo.agents")), ["a"]);
    // The copy's files are in the archive.
    assert_eq!(
        env.git(&["show", &format!("{archived}:notes/todo.txt")]),
        "untracked\n"
    );
    assert_eq!(
        env.git(&["show", &format!("{archived}:docs/guide.md")]),
        "edited, not committed\n"
    );
    assert_healthy(&env);
}

#[test]
fn a_copy_of_a_live_worktree_is_reported_and_archived() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    let copy = env.root.join("repo.agents/a-copy");
    let out = std::process::Command::new("cp")
        .args(["-a", dir.to_str().unwrap(), copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    write_in(&copy, "notes/copy.txt", "only in the copy\n");
    let (code, v) = doctor_json(&env, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["problems"][0]["kind"], "shared_admin_dir", "{v}");
    let (code, v) = doctor_json(&env, &["--fix"]);
    assert_eq!(code, 0, "{v}");
    let archived = v["problems"][0]["archived"].as_str().unwrap().to_owned();
    assert_eq!(
        env.git(&["show", &format!("{archived}:notes/copy.txt")]),
        "only in the copy\n"
    );
    assert_eq!(entries(&env.root.join("repo.agents")), ["a"]);
    assert!(dir.join("docs/guide.md").is_file(), "the agent's own stays");
    assert_healthy(&env);
}

#[test]
fn a_worktree_recreated_by_doctor_never_shares_its_old_admin_directory() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    let old_admin = git_dir(&env, &dir);
    make_work(&dir);
    // Moved out of doctor's reach: it cannot be found.
    let far: PathBuf = env.root.join("far/away/a");
    std::fs::create_dir_all(far.parent().unwrap()).unwrap();
    std::fs::rename(&dir, &far).unwrap();
    let (code, v) = doctor_json(&env, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["problems"][0]["kind"], "directory_missing", "{v}");
    env.ok(env.agent("doctor", &["--fix"]));
    assert!(dir.is_dir(), "recreated");
    assert_ne!(git_dir(&env, &dir), old_admin, "a fresh admin directory");
    // The copy still has its own index and files.
    assert_eq!(git_dir(&env, &far), old_admin);
    assert_work_in(&env, &far);
    assert_healthy(&env);

    // Then the copy turns up beside the agents.
    let back = env.root.join("repo.agents/a-old");
    std::fs::rename(&far, &back).unwrap();
    let (code, v) = doctor_json(&env, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["problems"][0]["kind"], "stray_copy", "{v}");
    assert_eq!(v["problems"][0]["agent"], "a");
    assert_eq!(v["problems"][0]["path"], back.display().to_string());
    let (code, v) = doctor_json(&env, &["--fix"]);
    assert_eq!(code, 0, "{v}");
    let archived = v["problems"][0]["archived"].as_str().unwrap().to_owned();
    assert_eq!(
        env.git(&["show", &format!("{archived}:notes/todo.txt")]),
        "untracked\n"
    );
    assert_eq!(entries(&env.root.join("repo.agents")), ["a"]);
    assert!(
        !Path::new(&old_admin).exists(),
        "the retired admin dir goes"
    );
    let worktrees = env.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(worktrees.matches("worktree ").count(), 2, "{worktrees}");
    assert_healthy(&env);
}
