//! A bad committed policy: a located diagnostic, exit 2, nothing changed.

use crate::support::*;

fn broken(policy: &str, needles: &[&str]) {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    env.commit_policy(policy);
    let before = env.state();
    for run in [
        env.agent("add", &["b", "--scope", "docs/"]),
        env.agent("scope", &["check", "--agent", "a", "--paths", "docs/x"]),
        env.agent("scope", &["a"]),
    ] {
        assert_bad_input(&env, &before, &run, needles);
    }
}

#[test]
fn unknown_key_is_located_and_suggests_the_nearest() {
    broken(
        "version: 1\nprotcted: [x/]\n",
        &[
            ".git-agent.yaml on main:2:1: unknown field",
            "did you mean `protected`?",
        ],
    );
}

#[test]
fn duplicate_key_is_an_error() {
    broken(
        "version: 1\nareas:\n  a: [x/]\n  a: [y/]\n",
        &[".git-agent.yaml on main:4:", "duplicate"],
    );
}

#[test]
fn bad_glob_is_shown_in_place() {
    let env = Env::new();
    env.commit_policy("version: 1\nprotected:\n  - ok/\n  - \"src/[ab\"\n");
    let run = env.agent("add", &["b", "--scope", "docs/"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains(".git-agent.yaml on main:4:5: bad pattern 'src/[ab': unclosed '['"),
        "{run:?}"
    );
    // miette draws the offending line with a label under the pattern.
    assert!(run.stderr.contains("- \"src/[ab\""), "{run:?}");
    assert!(run.stderr.contains("this pattern"), "{run:?}");
}

#[test]
fn wrong_version_is_an_error() {
    broken(
        "version: 3\n",
        &[".git-agent.yaml on main:1:10: unsupported manifest version 3"],
    );
}

#[test]
fn a_wrong_type_is_located() {
    broken(
        "version: 1\ndefaults:\n  strategy: yolo\n",
        &[".git-agent.yaml on main:3:13"],
    );
}

#[test]
fn no_manifest_is_an_empty_policy() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let run = env.ok(env.agent(
        "scope",
        &["check", "--agent", "a", "--paths", "docs/x", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["ok"], true);
}

#[test]
fn an_area_removed_from_the_policy_is_reported() {
    let env = Env::with_policy("version: 1\nareas:\n  billing: [src/billing/]\n");
    env.ok(env.agent("add", &["a", "--area", "billing"]));
    env.commit_policy("version: 1\nareas:\n  payments: [src/billing/]\n");
    let before = env.state();
    let run = env.agent_in(
        &env.agent_dir("a"),
        "scope",
        &["check", "--paths", "src/billing/x"],
    );
    assert_bad_input(
        &env,
        &before,
        &run,
        &["unknown area 'billing'", "areas on main: payments"],
    );
}

#[test]
fn a_corrupt_registry_is_reported_not_overwritten() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    std::fs::write(env.repo().join(".git/git-agent/agents.json"), "{ not json").unwrap();
    let before = env.state();
    let run = env.agent("add", &["b", "--scope", "docs/"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["agent registry at", "is corrupt", "move it aside"],
    );
    let run = env.agent("scope", &["a"]);
    assert_bad_input(&env, &before, &run, &["is corrupt"]);
}

#[test]
fn init_in_a_bare_repository_and_a_missing_dash_c_directory_exit_2() {
    let env = Env::new();
    env.git_in(&env.root, &["clone", "-q", "--bare", "repo", "bare.git"]);
    let bare = env.root.join("bare.git");
    let before = std::fs::read_dir(&bare).unwrap().count();
    let run = env.agent_in(&bare, "init", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("init needs a worktree, and this repository is bare"),
        "{run:?}"
    );
    assert_eq!(before, std::fs::read_dir(&bare).unwrap().count());
    let run = env.agent("scope", &["-C", "no/such/dir", "check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{run:?}"
    );
}
