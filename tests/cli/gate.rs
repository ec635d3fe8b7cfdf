//! The pre-commit gate, through real `git commit`s.

use crate::support::*;

const POLICY: &str = "version: 1\nprotected: [Cargo.lock]\nareas:\n  billing: [src/billing/, tests/billing/, \"!src/billing/secrets/\"]\n";

fn billing() -> (Env, std::path::PathBuf) {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    (env, dir)
}

fn head(env: &Env, dir: &std::path::Path) -> String {
    env.git_in(dir, &["rev-parse", "HEAD"])
}

#[test]
fn an_in_scope_commit_goes_through() {
    let (env, dir) = billing();
    write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 1 }\n");
    write_in(&dir, "tests/billing/t.rs", "#[test] fn t() {}\n");
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "ok"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.git_in(&dir, &["log", "-1", "--format=%s"]), "ok\n");
}

#[test]
fn an_out_of_scope_commit_is_refused_with_the_fix() {
    let (env, dir) = billing();
    let before = head(&env, &dir);
    write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 1 }\n");
    write_in(&dir, "src/api/routes.rs", "fn routes() { 1 }\n");
    write_in(&dir, "src/billing/secrets/key.rs", "const K: u8 = 2;\n");
    write_in(&dir, "Cargo.lock", "# changed\n");
    write_in(
        &dir,
        ".git-agent.yaml",
        "version: 1\nareas: { billing: ['**'] }\n",
    );
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "too much"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(before, head(&env, &dir), "nothing was committed");
    insta::assert_snapshot!(run.stderr, @r"
    git-agent: commit refused: 4 staged paths are outside the scope of agent 'billing'
      .git-agent.yaml             the policy file .git-agent.yaml is always protected
      Cargo.lock                  protected by 'Cargo.lock' in .git-agent.yaml
      src/api/routes.rs           no pattern of the scope matches
      src/billing/secrets/key.rs  excluded by '!src/billing/secrets/' (area 'billing')

    To leave them out of this commit, unstage them:
      git restore --staged -- .git-agent.yaml Cargo.lock src/api/routes.rs src/billing/secrets/key.rs
    If agent 'billing' should change them, the person orchestrating the agents (not the agent) widens its scope from outside its worktree:
      git agent scope add billing /src/api/routes.rs /src/billing/secrets/key.rs
    Protected paths stay out of every agent's scope; only a change to `protected` in .git-agent.yaml, committed on main, allows them.
    Scope of 'billing': src/billing/, tests/billing/, !src/billing/secrets/
    ");
    // The printed fix works: after it, the rest commits.
    env.git_in(
        &dir,
        &[
            "restore",
            "--staged",
            "--",
            ".git-agent.yaml",
            "Cargo.lock",
            "src/api/routes.rs",
            "src/billing/secrets/key.rs",
        ],
    );
    let run = env.git_run(&dir, &["commit", "-q", "-m", "just billing"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn commit_all_commit_path_and_subdirectory_commits_are_gated() {
    let (env, dir) = billing();
    let before = head(&env, &dir);
    write_in(&dir, "src/api/routes.rs", "fn routes() { 2 }\n");
    // git commit -a stages through a temporary index (GIT_INDEX_FILE).
    let run = env.git_run(&dir, &["commit", "-a", "-q", "-m", "all"]);
    assert_eq!(run.code, 1, "commit -a: {run:?}");
    assert!(run.stderr.contains("src/api/routes.rs"), "{run:?}");
    // git commit PATH also uses a temporary index.
    let run = env.git_run(&dir, &["commit", "-q", "-m", "path", "src/api/routes.rs"]);
    assert_eq!(run.code, 1, "commit PATH: {run:?}");
    // From a subdirectory.
    let run = env.git_run(
        &dir.join("src/billing"),
        &["commit", "-a", "-q", "-m", "sub"],
    );
    assert_eq!(run.code, 1, "from a subdirectory: {run:?}");
    assert_eq!(before, head(&env, &dir));

    // And an in-scope commit PATH goes through even with other changes lying around.
    write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 3 }\n");
    let run = env.git_run(
        &dir.join("src/billing"),
        &["commit", "-q", "-m", "in scope", "invoice.rs"],
    );
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn renames_deletions_and_mode_changes_count() {
    let (env, dir) = billing();
    // A rename out of the scope counts its new path.
    env.git_in(
        &dir,
        &["mv", "src/billing/invoice.rs", "src/api/invoice.rs"],
    );
    let run = env.git_run(&dir, &["commit", "-q", "-m", "move"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("src/api/invoice.rs"), "{run:?}");
    env.git_in(&dir, &["reset", "-q", "--hard"]);
    // A rename into the scope counts its old path.
    env.git_in(&dir, &["mv", "src/api/routes.rs", "src/billing/routes.rs"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "move in"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("src/api/routes.rs"), "{run:?}");
    env.git_in(&dir, &["reset", "-q", "--hard"]);
    // A deletion.
    env.git_in(&dir, &["rm", "-q", "docs/guide.md"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "delete"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("docs/guide.md"), "{run:?}");
    env.git_in(&dir, &["reset", "-q", "--hard"]);
    // A mode change alone.
    env.git_in(&dir, &["update-index", "--chmod=+x", "README.md"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "chmod"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("README.md"), "{run:?}");
    env.git_in(&dir, &["reset", "-q", "--hard"]);
    // A file replaced by a symlink.
    std::fs::remove_file(dir.join("docs/guide.md")).unwrap();
    std::os::unix::fs::symlink("../README.md", dir.join("docs/guide.md")).unwrap();
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "symlink"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("docs/guide.md"), "{run:?}");
}

#[test]
fn committing_onto_another_branch_from_an_agent_worktree_is_refused() {
    let (env, dir) = billing();
    // The ref guard refuses creating a branch from here; a person made it.
    assert_eq!(env.git_run(&dir, &["branch", "sneaky"]).code, 128);
    env.git(&["branch", "sneaky", "agent/billing"]);
    env.git_in(&dir, &["switch", "-q", "sneaky"]);
    write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 9 }\n");
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "elsewhere"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("HEAD is on 'sneaky', not 'agent/billing'"),
        "{run:?}"
    );
    assert!(run.stderr.contains("git switch agent/billing"), "{run:?}");
}

#[test]
fn outside_every_agent_worktree_the_hook_allows_everything() {
    let (env, _dir) = billing();
    env.write("src/api/routes.rs", "fn routes() { 5 }\n");
    env.write("Cargo.lock", "# human change\n");
    env.git(&["add", "-A"]);
    let run = env.git_run(&env.repo(), &["commit", "-q", "-m", "human"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
}

#[test]
fn the_policy_comes_from_the_base_not_the_working_copy() {
    let (env, dir) = billing();
    // An uncommitted edit in the main worktree widens nothing.
    env.write(".git-agent.yaml", "version: 1\nareas:\n  billing: ['**']\n");
    write_in(&dir, "src/api/routes.rs", "fn routes() { 6 }\n");
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "x"]);
    assert_eq!(run.code, 1, "{run:?}");
    // Committed on the base, it takes effect at once.
    env.git(&["commit", "-q", "-am", "Widen billing"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "x"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn core_ignore_case_is_honoured() {
    let (env, dir) = billing();
    write_in(&dir, "SRC/Billing/new.rs", "x\n");
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "case"]);
    assert_eq!(run.code, 1, "case-sensitive by default: {run:?}");
    env.git(&["config", "core.ignoreCase", "true"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "case"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn max_files_per_commit_is_enforced() {
    let env = Env::with_policy("version: 1\nlimits: { max_files_per_commit: 2 }\n");
    env.ok(env.agent("add", &["wide", "--scope", "**"]));
    let dir = env.agent_dir("wide");
    for i in 0..3 {
        write_in(&dir, &format!("n{i}.txt"), "x\n");
    }
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "many"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("3 files are staged, more than limits.max_files_per_commit (2)"),
        "{run:?}"
    );
}

#[test]
fn scope_check_json_and_paths() {
    let (env, dir) = billing();
    write_in(&dir, "src/api/routes.rs", "fn routes() { 7 }\n");
    write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 7 }\n");
    env.git_in(&dir, &["add", "-A"]);
    let run = env.agent_in(&dir, "scope", &["check", "--staged", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["agent"], "billing");
    assert_eq!(v["mode"], "staged");
    assert_eq!(v["ok"], false);
    assert_eq!(v["checked"], 2);
    assert_eq!(v["refused"][0]["path"], "src/api/routes.rs");
    assert_eq!(v["refused"][0]["kind"], "modified");
    assert_eq!(v["refused"][0]["allowed"], false);
    assert_eq!(v["refused"][0]["pattern"], serde_json::Value::Null);

    // --paths is relative to the current directory, like git's pathspecs.
    let run = env.agent_in(
        &dir.join("src/billing"),
        "scope",
        &["check", "--paths", "invoice.rs", "../api/routes.rs"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("src/api/routes.rs  no pattern of the scope matches"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("src/billing/invoice.rs"), "{run:?}");
    let run = env.agent_in(&dir, "scope", &["check", "--paths", "src/billing/x.rs"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("ok: 1 change is in the scope of agent 'billing'"),
        "{run:?}"
    );
    // From the main worktree, with --agent.
    let run = env.agent(
        "scope",
        &[
            "check",
            "--agent",
            "billing",
            "--paths",
            "src/billing/secrets/k",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn scope_check_bad_input_exits_2() {
    let (env, dir) = billing();
    let before = env.state();
    let run = env.agent("scope", &["check", "--staged"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["no agent given", "pass --agent NAME"],
    );
    let run = env.agent("scope", &["check", "--agent", "biling", "--paths", "x"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["unknown agent 'biling'", "did you mean 'billing'?"],
    );
    let run = env.agent_in(&dir, "scope", &["check", "--paths", "../../outside"]);
    assert_bad_input(&env, &before, &run, &["invalid path '../../outside'"]);
    let run = env.agent_in(&dir, "scope", &["check", "--staged", "--range", "a..b"]);
    assert_bad_input(&env, &before, &run, &["cannot be used with"]);
}
