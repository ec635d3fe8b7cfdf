//! `scope check --range`: every commit the base lacks, as at land time.

use crate::support::*;

const POLICY: &str = "version: 1\nareas:\n  billing: [src/billing/]\nagents:\n  docs-bot: { scope: [\"*.md\", docs/], role: proposer }\n";

#[test]
fn no_verify_commits_and_reverted_changes_are_caught() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "1\n");
    env.git_in(&dir, &["commit", "-q", "-am", "in scope"]);
    write_in(&dir, "src/api/routes.rs", "sneaky\n");
    env.git_in(
        &dir,
        &["commit", "-q", "--no-verify", "-am", "sneaky change"],
    );
    env.git_in(
        &dir,
        &[
            "-c",
            "core.hooksPath=/dev/null",
            "revert",
            "--no-edit",
            "HEAD",
        ],
    );

    let run = env.agent_in(&dir, "scope", &["check", "--range", "main..agent/billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "branch refused: 2 changes in the range are outside the scope of agent 'billing'"
        ),
        "{run:?}"
    );
    assert!(run.stderr.contains("sneaky change"), "{run:?}");
    assert!(run.stderr.contains("Revert \"sneaky change\""), "{run:?}");
    assert!(run.stderr.contains("git rebase -i main"), "{run:?}");

    let run = env.agent_in(
        &dir,
        "scope",
        &["check", "--range", "main..agent/billing", "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["mode"], "range");
    assert_eq!(v["checked"], 3);
    assert_eq!(v["refused"].as_array().unwrap().len(), 2);
    assert_eq!(v["refused"][0]["summary"], "sneaky change");
    assert_eq!(v["refused"][0]["commit"].as_str().unwrap().len(), 40);
}

#[test]
fn a_merge_of_the_base_is_not_the_agents_change_but_its_own_edits_are() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "agent\n");
    env.git_in(&dir, &["commit", "-q", "-am", "agent work"]);
    // The base moves on, outside billing's scope.
    env.write("src/api/routes.rs", "base moved\n");
    env.git(&["commit", "-q", "-am", "base work"]);
    env.git_in(&dir, &["merge", "-q", "--no-edit", "main"]);
    let run = env.agent_in(&dir, "scope", &["check", "--range", "main..HEAD"]);
    assert_eq!(run.code, 0, "{run:?}");

    // A merge that also edits a path beyond both parents is the agent's.
    env.write("docs/guide.md", "base again\n");
    env.git(&["commit", "-q", "-am", "more base work"]);
    env.git_in(&dir, &["merge", "-q", "--no-commit", "main"]);
    write_in(&dir, "src/api/routes.rs", "edited in the merge\n");
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "--no-verify", "--no-edit"]);
    let run = env.agent_in(&dir, "scope", &["check", "--range", "main..HEAD", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let refused: Vec<&str> = v["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(refused, ["src/api/routes.rs"], "{v}");
}

#[test]
fn a_bare_repository_checks_standing_agents_by_branch() {
    let env = Env::with_policy(POLICY);
    env.git(&["switch", "-q", "-c", "agent/docs-bot"]);
    env.write("docs/new.md", "x\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "docs"]);
    env.write("src/api/routes.rs", "not docs\n");
    env.git(&["commit", "-q", "-am", "code"]);
    env.git(&["switch", "-q", "main"]);
    let bare = env.root.join("server.git");
    env.git_in(&env.root, &["clone", "-q", "--bare", "repo", "server.git"]);
    env.git_in(
        &bare,
        &["fetch", "-q", "../repo", "agent/docs-bot:agent/docs-bot"],
    );

    // The agent is known from the branch name.
    let run = env.agent_in(
        &bare,
        "scope",
        &["check", "--range", "main..agent/docs-bot"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("src/api/routes.rs"), "{run:?}");
    assert!(!run.stderr.contains("docs/new.md"), "{run:?}");
    assert!(
        run.stderr
            .contains("widen its scope under `agents:` in .git-agent.yaml"),
        "{run:?}"
    );
    // Or named with --agent.
    let run = env.agent_in(
        &bare,
        "scope",
        &[
            "check",
            "--agent",
            "docs-bot",
            "--range",
            "main..agent/docs-bot~1",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    // --staged needs a worktree.
    let run = env.agent_in(
        &bare,
        "scope",
        &["check", "--agent", "docs-bot", "--staged"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("this repository is bare"), "{run:?}");
}

#[test]
fn bad_ranges_exit_2() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let before = env.state();
    let run = env.agent("scope", &["check", "--agent", "billing", "--range", "main"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["invalid revision range 'main'", "expected A..B"],
    );
    let run = env.agent(
        "scope",
        &["check", "--agent", "billing", "--range", "main..nope"],
    );
    assert_bad_input(&env, &before, &run, &["'nope' is not a known revision"]);
    let run = env.agent(
        "scope",
        &[
            "check",
            "--agent",
            "billing",
            "--range",
            "main...agent/billing",
        ],
    );
    assert_bad_input(&env, &before, &run, &["symmetric difference"]);
}
