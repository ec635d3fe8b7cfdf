//! `exec --sandbox`: writes confined by Landlock on the real kernel, tried
//! the way an agent would try to get around them.
//!
//! The repositories live outside every temporary directory (below the
//! build's scratch directory, or the user's cache when the checkout itself
//! sits in /tmp): the sandbox leaves temporary directories writable, so a
//! repository in one would be writable whatever it says.

use std::path::Path;

use crate::support::*;

const POLICY: &str = "version: 1\nsandbox:\n  writable: [target/]\n";

/// A repository with the gate, agent `a` (scope `src/billing/`) and agent
/// `b` (scope `docs/`).
fn setup(policy: &str) -> Env {
    let env = Env::new_in(&outside_temporary_dirs());
    env.commit_policy(policy);
    env.ok(env.agent("hooks", &["install"]));
    env.ok(env.agent("add", &["a", "--scope", "src/billing/"]));
    env.ok(env.agent("add", &["b", "--scope", "docs/"]));
    env
}

/// Shell functions for the scripts: `try NAME CMD...` prints `NAME ok` or
/// `NAME denied: <first line of stderr>`.
const TRY: &str = r#"try() { name=$1; shift; if err=$( ("$@") 2>&1 >/dev/null ); then echo "$name ok"; else echo "$name denied: $(echo "$err" | head -n1)"; fi; }
"#;

fn exec_script(env: &Env, args: &[&str], script: &str) -> Run {
    let script = format!("{TRY}{script}");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--", "sh", "-c", &script]);
    env.agent("exec", &all)
}

/// The outcome line of `name` in `out`.
fn outcome<'a>(out: &'a Run, name: &str) -> &'a str {
    let prefix = format!("{name} ");
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no outcome for {name}: {out:?}"))
}

fn assert_ok(out: &Run, name: &str) {
    assert_eq!(outcome(out, name), "ok", "{name}: {out:?}");
}

/// Refused by the kernel (EACCES or EPERM), not by something else.
fn assert_denied(out: &Run, name: &str) {
    let o = outcome(out, name);
    assert!(
        o.starts_with("denied:")
            && (o.contains("Permission denied") || o.contains("not permitted")),
        "{name} was not refused by the sandbox: {o}\n{out:?}"
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn sandboxed_agent_writes_its_scope_and_commits_but_nothing_else() {
    let env = setup(POLICY);
    let repo = env.repo();
    let other = env.agent_dir("b");
    env.git(&["branch", "side"]);
    let main_before = env.git(&["rev-parse", "main"]);
    let config_before = read(&repo.join(".git/config"));
    let registry_before = read(&repo.join(".git/git-agent/agents.json"));
    let hook_before = read(&repo.join(".git/hooks/pre-commit"));
    let script = format!(
        r#"export R='{repo}' B='{other}'
try scope sh -c 'echo new > src/billing/new.rs'
try commit sh -c 'git add src/billing/new.rs && git commit -q -m billing'
try target sh -c 'mkdir -p target/debug && echo o > target/debug/out'
try tmp sh -c 'echo t > "${{TMPDIR:-/tmp}}/git-agent-sandbox-test.$$"'
try out-of-scope sh -c 'echo y > src/api/routes.rs'
try root-file sh -c 'echo y > README.md'
try manifest sh -c 'echo y > .git-agent.yaml'
try registry sh -c 'echo y >> "$R/.git/git-agent/agents.json"'
try registry-rename sh -c 'cp "$R/.git/git-agent/agents.json" src/billing/x && mv src/billing/x "$R/.git/git-agent/agents.json"'
try hook sh -c 'echo y > "$R/.git/hooks/pre-commit"'
try hook-rm rm -f "$R/.git/hooks/pre-commit"
try config sh -c 'echo y >> "$R/.git/config"'
try config-cmd git config core.hooksPath /dev/null
try base-update-ref git update-ref refs/heads/main HEAD
try branch-f git branch -f side HEAD
try branch-new git branch fresh
try push-side git push -q . HEAD:side
try base-file sh -c 'git rev-parse HEAD > "$R/.git/refs/heads/main"'
try other-agent sh -c 'echo y > "$B/docs/guide.md"'
try main-worktree sh -c 'echo y > "$R/src/billing/invoice.rs"'
try nested sh -c 'sh -c "sh -c \"echo y > src/api/routes.rs\""'
try background sh -c '(echo y > src/api/bg.rs) & wait $!'
try rename-out mv src/billing/invoice.rs src/api/moved.rs
try hardlink-out ln src/billing/invoice.rs src/api/hard.rs
try symlink-out ln -s ../billing/invoice.rs src/api/sym.rs
try symlink-in ln -s ../api src/billing/api-link
try through-symlink sh -c 'echo y > src/billing/api-link/routes.rs'
"#,
        repo = repo.display(),
        other = other.display(),
    );
    let out = exec_script(&env, &["a", "--sandbox"], &script);
    assert_eq!(out.code, 0, "{out:?}");
    for name in ["scope", "commit", "target", "tmp", "symlink-in"] {
        assert_ok(&out, name);
    }
    for name in [
        "out-of-scope",
        "root-file",
        "manifest",
        "registry",
        "registry-rename",
        "hook",
        "hook-rm",
        "config",
        "config-cmd",
        "base-update-ref",
        "branch-f",
        "branch-new",
        "push-side",
        "base-file",
        "other-agent",
        "main-worktree",
        "nested",
        "background",
        "rename-out",
        "hardlink-out",
        "symlink-out",
        "through-symlink",
    ] {
        assert_denied(&out, name);
    }
    let a = env.agent_dir("a");
    assert_eq!(
        env.git_in(&a, &["log", "-1", "--format=%s", "agent/a"]),
        "billing\n"
    );
    assert_eq!(env.git(&["rev-parse", "main"]), main_before);
    assert_eq!(env.git(&["rev-parse", "side"]), main_before);
    assert_eq!(read(&repo.join(".git/config")), config_before);
    assert_eq!(
        read(&repo.join(".git/git-agent/agents.json")),
        registry_before
    );
    assert_eq!(read(&repo.join(".git/hooks/pre-commit")), hook_before);
    assert_eq!(read(&a.join("src/api/routes.rs")), "fn routes() {}\n");
    assert_eq!(read(&a.join("target/debug/out")), "o\n");
    assert!(!a.join("src/api/moved.rs").exists());
    assert_eq!(read(&other.join("docs/guide.md")), "# Guide\n");
    assert_eq!(
        read(&repo.join("src/billing/invoice.rs")),
        "fn total() {}\n"
    );
}

#[test]
fn writable_dir_and_whole_worktree_scopes() {
    let env = setup(POLICY);
    let outside = env.root.join("agent-state");
    std::fs::create_dir(&outside).unwrap();
    let script = format!(
        "try named sh -c 'echo s > \"{0}/state\"'\ntry beside sh -c 'echo s > \"{1}/stray\"'\n",
        outside.display(),
        env.root.display()
    );
    let out = exec_script(
        &env,
        &[
            "a",
            "--sandbox=strict",
            "--writable",
            outside.to_str().unwrap(),
        ],
        &script,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_ok(&out, "named");
    assert_denied(&out, "beside");
    assert_eq!(read(&outside.join("state")), "s\n");
    // A pattern with no literal directory leaves the whole worktree
    // writable (the gate still judges each path), but nothing outside it.
    env.ok(env.agent("scope", &["set", "b", "*.md"]));
    let script = "try top sh -c 'echo y > NOTES.md'\ntry deep sh -c 'echo y > src/api/x.md'\ntry commit sh -c 'git add NOTES.md && git commit -q -m notes'\ntry common sh -c 'echo y > \"$(git rev-parse --git-common-dir)/description\"'\n";
    let out = exec_script(&env, &["b", "--sandbox"], script);
    assert_eq!(out.code, 0, "{out:?}");
    for name in ["top", "deep", "commit"] {
        assert_ok(&out, name);
    }
    assert_denied(&out, "common");
}

#[test]
fn the_policy_default_confines_exec_without_the_flag() {
    let env = setup("version: 1\ndefaults: { sandbox: true }\n");
    let out = exec_script(
        &env,
        &["a"],
        "try scope sh -c 'echo y > src/billing/n.rs'\ntry out sh -c 'echo y > src/api/routes.rs'\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_ok(&out, "scope");
    assert_denied(&out, "out");
}

/// `exec` as a kernel without Landlock would see it (debug builds only).
fn exec_without_landlock(env: &Env, args: &[&str]) -> Run {
    Run::from_output(
        env.command(bin("git-agent-exec"), &env.repo())
            .env("GIT_AGENT_TEST_NO_LANDLOCK", "1")
            .args(args)
            .output()
            .unwrap(),
    )
}

#[test]
fn strict_sandbox_without_landlock_refuses_and_runs_nothing() {
    let env = setup("version: 1\ndefaults: { sandbox: true }\n");
    let marker = env.agent_dir("a").join("src/billing/ran");
    let before = env.state();
    for args in [
        &["a", "--sandbox", "--", "touch", "src/billing/ran"][..],
        &["a", "--", "touch", "src/billing/ran"][..],
    ] {
        let run = exec_without_landlock(&env, args);
        assert_bad_input(
            &env,
            &before,
            &run,
            &["no Landlock", "--sandbox=best-effort"],
        );
        assert!(!marker.exists(), "the command ran: {run:?}");
    }
    let run = exec_without_landlock(
        &env,
        &[
            "a",
            "--sandbox=best-effort",
            "--",
            "touch",
            "src/billing/ran",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("warning: running unconfined"),
        "{run:?}"
    );
    assert!(marker.exists(), "best effort did not run the command");
}

#[test]
fn sandbox_paths_outside_the_worktree_are_bad_input() {
    // In the policy: refused in place, before anything runs.
    let env = setup(POLICY);
    env.commit_policy("version: 1\nsandbox:\n  writable: [target/, ../outside]\n");
    let before = env.state();
    let run = env.agent(
        "exec",
        &["a", "--sandbox", "--", "touch", "src/billing/ran"],
    );
    assert_bad_input(
        &env,
        &before,
        &run,
        &[".git-agent.yaml", "'../outside'", "`..`"],
    );
    assert!(!env.agent_dir("a").join("src/billing/ran").exists());
    env.commit_policy("version: 1\nsandbox:\n  writable: [/tmp/x]\n");
    let run = env.agent("exec", &["a", "--sandbox", "--", "true"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is absolute"), "{run:?}");

    // A symbolic link planted in the worktree, where the sandbox would
    // grant a directory, must not carry the grant outside.
    let env = setup(POLICY);
    let a = env.agent_dir("a");
    std::os::unix::fs::symlink(env.repo().join(".git"), a.join("target")).unwrap();
    let run = env.agent(
        "exec",
        &["a", "--sandbox", "--", "touch", "src/billing/ran"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("outside the agent's worktree"),
        "{run:?}"
    );
    std::fs::remove_file(a.join("target")).unwrap();
    std::fs::remove_dir_all(a.join("src/billing")).unwrap();
    std::os::unix::fs::symlink(env.repo().join("src"), a.join("src/billing")).unwrap();
    let run = env.agent(
        "exec",
        &["a", "--sandbox", "--", "touch", "src/billing/ran"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!env.repo().join("src/ran").exists());

    let run = env.agent("exec", &["a", "--writable", "/tmp", "--", "true"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("needs the sandbox"), "{run:?}");
    let run = env.agent(
        "exec",
        &["a", "--sandbox", "--writable", "/no/such/dir", "--", "true"],
    );
    assert_eq!(run.code, 2, "{run:?}");
}
