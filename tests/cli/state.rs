//! The state code's review (issue 15, item 5): locks, leases around an
//! agent's directory, the environment git children get, and the caches.

use crate::support::*;

const POLICY: &str = "version: 1\nareas:\n  billing: [src/billing/]\n  docs: [docs/]\n";

fn rev(env: &Env, what: &str) -> String {
    env.git(&["rev-parse", what]).trim().to_owned()
}

/// `billing` with two commits, and a commit on `main` since it started: a
/// squash landing moves the agent's branch and worktree on.
fn squashable() -> Env {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 1 }\n");
    env.git_in(&dir, &["commit", "-q", "-am", "Invoices total one"]);
    write_in(&dir, "src/billing/tax.rs", "fn tax() {}\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Tax"]);
    env.write("docs/guide.md", "# Guide, moved on\n");
    env.git(&["commit", "-q", "-am", "Base moves"]);
    env
}

/// Run from a hook of the main worktree, git-agent inherits `GIT_DIR`
/// naming the main repository. The gits it starts in the agent's worktree must not follow
/// them there: the landing moves the agent's worktree, not the main one.
#[test]
fn git_children_find_their_repository_from_their_directory() {
    let env = squashable();
    let dir = env.agent_dir("billing");
    let main_index = env.repo().join(".git/index");
    let index_before = std::fs::read(&main_index).unwrap();
    let run = Run::from_output(
        env.command(bin("git-agent-land"), &env.repo())
            .args(["billing", "--strategy", "squash"])
            .env("GIT_DIR", env.repo().join(".git"))
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("warning"), "{run:?}");
    // The agent's branch and worktree followed the landed commit.
    assert_eq!(rev(&env, "agent/billing"), rev(&env, "main"));
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/guide.md")).unwrap(),
        "# Guide, moved on\n"
    );
    // The main worktree, on main, moved with the base, and nothing else.
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    assert_ne!(std::fs::read(&main_index).unwrap(), index_before);
}
