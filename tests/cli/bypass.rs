//! The bypass catalogue (issue 15, SECURITY.md): each known way around an
//! agent's scope, tried as an agent would, and the layer that stops it.
//! Agent `a` may change `docs/`; the base is `main`.

use crate::support::*;

/// The layer that stopped an attempt.
#[derive(Debug, PartialEq, Eq)]
enum Layer {
    /// The pre-commit gate (`scope check --staged --hook`).
    Gate,
    /// The reference-transaction hook.
    RefGuard,
}

fn setup() -> Env {
    let env = Env::with_policy("version: 1\nprotected: [Cargo.lock]\n");
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    env
}

/// Which layer refused `run` (it must have failed).
fn stopped_by(run: &Run) -> Layer {
    assert_ne!(run.code, 0, "not stopped: {run:?}");
    if run.stderr.contains("git-agent: refusing to update") {
        Layer::RefGuard
    } else if run.stderr.contains("commit refused") {
        Layer::Gate
    } else {
        panic!("stopped by no layer of ours: {run:?}")
    }
}

fn rev(env: &Env, what: &str) -> String {
    env.git(&["rev-parse", what]).trim().to_owned()
}

/// The land re-check refuses the agent's branch as out of scope, naming
/// `path`, and the base does not move.
fn land_refuses(env: &Env, path: &str) {
    let before = rev(env, "main");
    let run = env.agent("land", &["a", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["refusal"]["reason"], "out_of_scope", "{v}");
    assert!(run.stdout.contains(path), "{run:?}");
    assert_eq!(before, rev(env, "main"));
}

/// An out-of-scope change staged in the agent's worktree.
fn stage_out_of_scope(env: &Env) -> std::path::PathBuf {
    let dir = env.agent_dir("a");
    write_in(&dir, "src/api/routes.rs", "fn routes() { evil }\n");
    env.git_in(&dir, &["add", "-A"]);
    dir
}

#[test]
fn no_verify_is_stopped_at_land() {
    let env = setup();
    let dir = stage_out_of_scope(&env);
    assert_eq!(
        stopped_by(&git_as(&env, &dir, true, &["commit", "-qm", "x"])),
        Layer::Gate
    );
    git_as(
        &env,
        &dir,
        true,
        &["commit", "-q", "--no-verify", "-m", "x"],
    );
    land_refuses(&env, "src/api/routes.rs");
}

#[test]
fn hooks_path_to_dev_null_is_stopped_at_land() {
    let env = setup();
    let dir = stage_out_of_scope(&env);
    let run = git_as(
        &env,
        &dir,
        true,
        &["-c", "core.hooksPath=/dev/null", "commit", "-qm", "x"],
    );
    assert_eq!(run.code, 0, "no hook runs at all: {run:?}");
    land_refuses(&env, "src/api/routes.rs");
}

#[test]
fn deleting_the_hooks_is_stopped_at_land() {
    let env = setup();
    for hook in ["pre-commit", "reference-transaction"] {
        std::fs::remove_file(env.repo().join(".git/hooks").join(hook)).unwrap();
    }
    let dir = stage_out_of_scope(&env);
    git_as(&env, &dir, true, &["commit", "-qm", "x"]);
    // Tamper evidence names the deleted hooks before anything else ...
    let before = rev(&env, "main");
    let run = env.agent("land", &["a", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["refusal"]["reason"], "tampered", "{v}");
    assert!(run.stdout.contains("pre-commit hook"), "{run:?}");
    assert_eq!(before, rev(&env, "main"));
    // ... and once a person puts the gate back, the re-check still refuses
    // the commit the missing gate let through.
    env.ok(env.agent("hooks", &["install"]));
    land_refuses(&env, "src/api/routes.rs");
}

#[test]
fn committing_on_another_branch_is_stopped_by_the_ref_guard() {
    let env = setup();
    let dir = env.agent_dir("a");
    for (as_agent, args) in [
        (true, &["switch", "-q", "-c", "mine"][..]),
        (false, &["checkout", "-q", "-b", "mine"][..]),
        (false, &["branch", "mine"][..]),
        (true, &["update-ref", "refs/heads/mine", "HEAD"][..]),
        (false, &["tag", "v1"][..]),
    ] {
        let run = git_as(&env, &dir, as_agent, args);
        assert_eq!(stopped_by(&run), Layer::RefGuard, "{args:?}");
        assert!(run.stderr.contains("agent 'a'"), "{run:?}");
    }
    assert_eq!(env.git(&["branch", "--list", "mine"]), "");
    assert_eq!(env.git(&["tag"]), "");
}

#[test]
fn renaming_a_file_out_of_scope_is_stopped_by_the_gate_then_land() {
    let env = setup();
    let dir = env.agent_dir("a");
    env.git_in(&dir, &["mv", "docs/guide.md", "src/guide.md"]);
    let run = git_as(&env, &dir, true, &["commit", "-qm", "move"]);
    assert_eq!(stopped_by(&run), Layer::Gate);
    assert!(run.stderr.contains("src/guide.md"), "{run:?}");
    git_as(
        &env,
        &dir,
        true,
        &["commit", "-q", "--no-verify", "-m", "move"],
    );
    land_refuses(&env, "src/guide.md");
}

#[test]
fn type_changes_out_of_scope_are_stopped_by_the_gate() {
    let env = setup();
    let dir = env.agent_dir("a");
    let head = rev(&env, "HEAD");
    let blob = env
        .git_in(&dir, &["hash-object", "-w", "--stdin"])
        .trim()
        .to_owned();
    // file -> symlink, file -> submodule, through the index as plumbing.
    for info in [
        format!("120000,{blob},src/api/routes.rs"),
        format!("160000,{head},src/api/routes.rs"),
    ] {
        env.git_in(&dir, &["update-index", "--cacheinfo", &info]);
        let run = git_as(&env, &dir, true, &["commit", "-qm", "type"]);
        assert_eq!(stopped_by(&run), Layer::Gate, "{info}");
        assert!(run.stderr.contains("src/api/routes.rs"), "{run:?}");
        env.git_in(&dir, &["reset", "-q"]);
    }
    // symlink -> file: a symlink out of scope committed by hand first.
    std::os::unix::fs::symlink("routes.rs", dir.join("src/api/link")).unwrap();
    env.git_in(&dir, &["add", "src/api/link"]);
    assert_eq!(
        stopped_by(&git_as(&env, &dir, true, &["commit", "-qm", "link"])),
        Layer::Gate
    );
}

#[test]
fn a_symlink_in_scope_pointing_out_commits_but_writing_through_it_does_not() {
    let env = setup();
    let dir = env.agent_dir("a");
    // The symlink is a path in scope, and committing it changes nothing
    // outside: allowed.
    std::os::unix::fs::symlink("../src/api/routes.rs", dir.join("docs/link")).unwrap();
    env.git_in(&dir, &["add", "docs/link"]);
    let run = git_as(&env, &dir, true, &["commit", "-qm", "link"]);
    assert_eq!(run.code, 0, "{run:?}");
    // Writing through it changes src/api/routes.rs in the worktree (only
    // the sandbox could stop the write); committing that is refused.
    std::fs::write(dir.join("docs/link"), "fn routes() { evil }\n").unwrap();
    env.git_in(&dir, &["add", "-A"]);
    let run = git_as(&env, &dir, true, &["commit", "-qm", "through"]);
    assert_eq!(stopped_by(&run), Layer::Gate);
    assert!(run.stderr.contains("src/api/routes.rs"), "{run:?}");
}

#[test]
fn amending_the_bases_commit_is_stopped_at_land() {
    let env = setup();
    let dir = env.agent_dir("a");
    // The agent's branch starts at the base's tip: amending rewrites a
    // commit of the base's, on the agent's own branch.
    write_in(&dir, "docs/guide.md", "# Guide, amended\n");
    env.git_in(&dir, &["add", "-A"]);
    git_as(
        &env,
        &dir,
        true,
        &[
            "commit",
            "-q",
            "--amend",
            "--no-verify",
            "-m",
            "Policy, rewritten",
        ],
    );
    land_refuses(&env, ".git-agent.yaml");
}

#[test]
fn editing_the_policy_in_the_worktree_is_stopped_by_the_gate_and_land() {
    let env = setup();
    let dir = env.agent_dir("a");
    write_in(
        &dir,
        ".git-agent.yaml",
        "version: 1\nagents:\n  a: { scope: [\"**\"] }\n",
    );
    env.git_in(&dir, &["add", "-A"]);
    let run = git_as(&env, &dir, true, &["commit", "-qm", "widen"]);
    assert_eq!(stopped_by(&run), Layer::Gate);
    // The policy is read from the base, never from the worktree: a
    // commit of it past the gate widens nothing and is refused at land.
    git_as(
        &env,
        &dir,
        true,
        &["commit", "-q", "--no-verify", "-m", "widen"],
    );
    land_refuses(&env, ".git-agent.yaml");
}

#[test]
fn widening_the_scope_through_git_agent_is_refused_to_the_agent() {
    let env = setup();
    let dir = env.agent_dir("a");
    let run = Run::from_output(
        env.command(bin("git-agent-scope"), &dir)
            .args(["add", "a", "build.rs"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Humans orchestrate"), "{run:?}");
}

/// Issue 15's first bypass: the agent edits the registry by hand. Only the
/// registry's seal (issue 15 item 3, not on this branch) stops it.
#[test]
fn a_registry_edited_by_hand_is_refused_at_land() {
    let env = setup();
    let dir = env.agent_dir("a");
    let registry = env.repo().join(".git/git-agent/agents.json");
    let text = std::fs::read_to_string(&registry).unwrap();
    std::fs::write(
        &registry,
        text.replacen("\"docs/\"", "\"docs/\", \"build.rs\"", 1),
    )
    .unwrap();
    write_in(&dir, "build.rs", "fn main() {}\n");
    env.git_in(&dir, &["add", "-A"]);
    git_as(&env, &dir, true, &["commit", "-qm", "build"]);
    let before = rev(&env, "main");
    let run = env.agent("land", &["a"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("build.rs"), "{run:?}");
    assert_eq!(before, rev(&env, "main"));
}

/// The base checked out nowhere, so that only our layers stand in the way
/// (git itself refuses to move a branch checked out in a worktree).
fn base_checked_out_nowhere(env: &Env) {
    env.git(&["switch", "-q", "-c", "person"]);
}

#[test]
fn moving_the_base_by_hand_is_stopped_by_the_ref_guard() {
    let env = setup();
    base_checked_out_nowhere(&env);
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "# More\n");
    env.git_in(&dir, &["commit", "-qam", "docs"]);
    let before = rev(&env, "main");
    let stdin_update = |run_as: bool| {
        let mut cmd = env.command("git", &dir);
        if run_as {
            cmd.env("GIT_AGENT", "a");
        }
        let mut child = cmd
            .args(["update-ref", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let line = "update refs/heads/main HEAD\n";
        child
            .stdin
            .take()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
        Run::from_output(child.wait_with_output().unwrap())
    };
    for as_agent in [false, true] {
        for args in [
            &["update-ref", "refs/heads/main", "HEAD"][..],
            &["branch", "-f", "main", "HEAD"][..],
            &["push", "-q", ".", "HEAD:main"][..],
            &["update-ref", "-d", "refs/heads/main"][..],
        ] {
            let run = git_as(&env, &dir, as_agent, args);
            assert_eq!(stopped_by(&run), Layer::RefGuard, "{args:?}");
            assert!(run.stderr.contains("refs/heads/main"), "{run:?}");
            assert!(run.stderr.contains("git agent land a"), "{run:?}");
        }
        assert_eq!(stopped_by(&stdin_update(as_agent)), Layer::RefGuard);
        // The main worktree's HEAD, named from here.
        let run = git_as(
            &env,
            &dir,
            as_agent,
            &["update-ref", "main-worktree/HEAD", "HEAD"],
        );
        assert_eq!(stopped_by(&run), Layer::RefGuard);
        assert!(run.stderr.contains("main-worktree/HEAD"), "{run:?}");
    }
    assert_eq!(before, rev(&env, "main"));
    // The person lands it.
    env.git(&["switch", "-q", "main"]);
    let agent_tip = rev(&env, "agent/a");
    env.ok(env.agent("land", &["a"]));
    env.git(&["merge-base", "--is-ancestor", &agent_tip, "main"]);
}

#[test]
fn pushing_to_the_main_repository_by_path_is_stopped_with_git_agent_set() {
    let env = setup();
    base_checked_out_nowhere(&env);
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "# More\n");
    env.git_in(&dir, &["commit", "-qam", "docs"]);
    let before = rev(&env, "main");
    let main_repo = env.repo().display().to_string();
    let args = ["push", "-q", main_repo.as_str(), "HEAD:main"];
    let run = git_as(&env, &dir, true, &args);
    assert_eq!(stopped_by(&run), Layer::RefGuard);
    assert!(run.stderr.contains("refs/heads/main"), "{run:?}");
    assert_eq!(before, rev(&env, "main"));
    // Without GIT_AGENT, receive-pack runs in the main repository, outside
    // every agent's context: a gap SECURITY.md names (the sandbox's).
}

#[test]
fn an_agent_committing_in_the_main_worktree_is_stopped_by_the_gate_anywhere() {
    let env = setup();
    let before = rev(&env, "main");
    env.write(
        ".git-agent.yaml",
        "version: 1\nagents:\n  a: { scope: [\"**\"] }\n",
    );
    env.write("docs/guide.md", "# Changed from main\n");
    env.git(&["add", "-A"]);
    let run = git_as(&env, &env.repo(), true, &["commit", "-qm", "widen"]);
    assert_eq!(stopped_by(&run), Layer::Gate);
    assert!(run.stderr.contains("GIT_AGENT=a is set"), "{run:?}");
    assert!(run.stderr.contains("not an agent's worktree"), "{run:?}");
    // The same refusal as a document, whichever way JSON is asked for.
    for json in [&["--json"][..], &["--format", "json"][..]] {
        let mut cmd = env.command(bin("git-agent"), &env.repo());
        cmd.args(["scope", "check", "--staged"])
            .args(json)
            .env("GIT_AGENT", "a");
        let check = Run::from_output(cmd.output().unwrap());
        assert_eq!(check.code, 1, "{check:?}");
        let v = json_of(&check);
        assert_eq!(v["ok"], false, "{v}");
        assert!(
            v["problems"][0].as_str().unwrap().contains("GIT_AGENT=a"),
            "{v}"
        );
    }
    // Past the gate, the ref guard refuses the base.
    let run = git_as(
        &env,
        &env.repo(),
        true,
        &["commit", "-q", "--no-verify", "-m", "widen"],
    );
    assert_eq!(stopped_by(&run), Layer::RefGuard);
    assert_eq!(before, rev(&env, "main"));
    // In another agent's worktree too.
    env.ok(env.agent("add", &["b", "--scope", "src/"]));
    let other = env.agent_dir("b");
    write_in(&other, "src/api/routes.rs", "x\n");
    env.git_in(&other, &["add", "-A"]);
    let run = git_as(&env, &other, true, &["commit", "-qm", "x"]);
    assert_eq!(stopped_by(&run), Layer::Gate);
    assert!(run.stderr.contains("agent 'b''s worktree"), "{run:?}");
    // A person (no GIT_AGENT) commits in the main worktree as before.
    env.git(&["commit", "-qm", "by a person"]);
}

#[test]
fn checking_out_the_base_in_the_agents_worktree_and_committing_is_stopped() {
    let env = setup();
    base_checked_out_nowhere(&env);
    let dir = env.agent_dir("a");
    let before = rev(&env, "main");
    // Switching is allowed (HEAD is the worktree's own)...
    env.git_in(&dir, &["switch", "-q", "main"]);
    write_in(&dir, "docs/guide.md", "# On the base\n");
    env.git_in(&dir, &["add", "-A"]);
    // ...committing there is not: the gate (HEAD is not the agent's
    // branch), then the ref guard (the base would move).
    let run = git_as(&env, &dir, false, &["commit", "-qm", "on base"]);
    assert_eq!(stopped_by(&run), Layer::Gate);
    assert!(run.stderr.contains("not 'agent/a'"), "{run:?}");
    let run = git_as(
        &env,
        &dir,
        false,
        &["commit", "-q", "--no-verify", "-m", "x"],
    );
    assert_eq!(stopped_by(&run), Layer::RefGuard);
    assert_eq!(before, rev(&env, "main"));
}
