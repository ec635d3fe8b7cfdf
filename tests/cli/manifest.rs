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
