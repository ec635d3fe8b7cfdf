//! Showing and editing scopes.

use crate::support::*;

#[test]
fn show_set_add_rm() {
    let env = Env::with_policy(
        "version: 1\nprotected: [Cargo.lock]\nareas:\n  billing: [src/billing/]\n",
    );
    env.ok(env.agent(
        "add",
        &["billing", "--area", "billing", "--scope", "tests/billing/"],
    ));
    let run = env.ok(env.agent("scope", &["billing"]));
    assert!(
        run.stdout.starts_with("agent billing (base main)\n"),
        "{run:?}"
    );
    assert!(run.stdout.contains("src/billing/"), "{run:?}");
    assert!(run.stdout.contains("area 'billing'"), "{run:?}");
    assert!(
        run.stdout
            .contains("protected (no agent may change): Cargo.lock"),
        "{run:?}"
    );

    let run = env.ok(env.agent(
        "scope",
        &["add", "billing", "docs/billing/", "!docs/billing/internal/"],
    ));
    assert_eq!(
        run.stdout,
        "scope of billing: tests/billing/, docs/billing/, !docs/billing/internal/\n"
    );
    let run = env.ok(env.agent("scope", &["rm", "billing", "tests/billing/"]));
    assert_eq!(
        run.stdout,
        "scope of billing: docs/billing/, !docs/billing/internal/\n"
    );
    let run = env.ok(env.agent("scope", &["set", "billing", "x/"]));
    assert_eq!(run.stdout, "scope of billing: x/\n");

    // Detected from the worktree, and as JSON.
    let run = env.ok(env.agent_in(&env.agent_dir("billing"), "scope", &["--json"]));
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["agent"], "billing");
    assert_eq!(v["patterns"][0]["pattern"], "src/billing/");
    assert_eq!(v["patterns"][0]["origin"]["area"], "billing");
    assert_eq!(v["patterns"][1]["pattern"], "x/");
}

#[test]
fn an_agent_cannot_widen_its_own_scope() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let before = env.state();
    let run = env.agent_in(&env.agent_dir("a"), "scope", &["add", "a", "**"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("refusing to edit a scope (agent 'a') from inside agent 'a''s context"),
        "{run:?}"
    );
    let run = Run::from_output(
        env.command(bin("git-agent-scope"), &env.repo())
            .env("GIT_AGENT", "a")
            .args(["add", "a", "**"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(before, env.state());
}

#[test]
fn edit_errors_exit_2_and_change_nothing() {
    let env = Env::with_policy("version: 1\nagents:\n  docs-bot: { scope: [docs/] }\n");
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let before = env.state();
    let run = env.agent("scope", &["add", "b", "x/"]);
    assert_bad_input(&env, &before, &run, &["unknown agent 'b'"]);
    let run = env.agent("scope", &["add", "a", "x/[oops"]);
    assert_bad_input(&env, &before, &run, &["invalid scope pattern 'x/[oops'"]);
    let run = env.agent("scope", &["rm", "a", "nothere/"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["'nothere/' is not in the scope of agent 'a'"],
    );
    let run = env.agent("scope", &["add", "docs-bot", "x/"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["'docs-bot' is a standing agent", "commit it on main"],
    );
    let run = env.agent("scope", &["nobody"]);
    assert_bad_input(&env, &before, &run, &["unknown agent 'nobody'"]);
}

#[test]
fn options_may_come_before_the_subcommand() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let run = env.agent_in(
        &env.root,
        "scope",
        &["-C", "repo", "check", "--agent", "a", "--paths", "docs/x"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let run = env.agent_in(&env.root, "scope", &["-C", "repo", "a"]);
    assert_eq!(run.code, 0, "{run:?}");
    let before = env.state();
    let run = env.agent("scope", &["a", "check", "--paths", "docs/x"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["unexpected agent name 'a' before the subcommand"],
    );
}
