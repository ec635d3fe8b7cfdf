//! The pre-receive gate (`hooks install --server`) on the real receive
//! path: `git push` over file:// and over `git daemon`, with git's object
//! quarantine, as a shared remote runs it.

use std::path::{Path, PathBuf};
use std::process::Child;

use crate::support::*;

const POLICY: &str = "version: 1\nagents:\n  copilot: { branches: [\"copilot/*\"], scope: [docs/, \"*.md\"] }\n  docs-bot: { scope: [docs/] }\n";

/// A bare `server.git` with the policy on main and the gate installed, and
/// `work`, a clone of it.
fn server(policy: &str) -> (Env, PathBuf, PathBuf) {
    let env = Env::new();
    env.commit_policy(policy);
    let server = env.root.join("server.git");
    env.git(&["clone", "-q", "--bare", ".", server.to_str().unwrap()]);
    let run = env.ok(env.agent_in(&server, "hooks", &["install", "--server"]));
    assert!(
        run.stdout.contains("installed the pre-receive gate"),
        "{run:?}"
    );
    env.git_in(
        &env.root,
        &["clone", "-q", server.to_str().unwrap(), "work"],
    );
    let work = env.root.join("work");
    (env, server, work)
}

fn refs(env: &Env, server: &Path) -> String {
    env.git_in(
        server,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    )
}

/// Commit `edits` in `work` on a new branch `branch` from main.
fn branch_with(env: &Env, work: &Path, branch: &str, edits: &[&[&str]]) {
    env.git_in(work, &["switch", "-q", "-C", branch, "origin/main"]);
    for (i, cmd) in edits.iter().enumerate() {
        let run = env
            .command("sh", work)
            .args(["-c", cmd[0]])
            .output()
            .unwrap();
        assert!(run.status.success(), "{cmd:?}: {run:?}");
        env.git_in(work, &["add", "-A"]);
        env.git_in(
            work,
            &[
                "commit",
                "-q",
                "--no-verify",
                "-m",
                &format!("step {i}: {}", cmd[1]),
            ],
        );
    }
}

fn push(env: &Env, work: &Path, url: &str, refspec: &str) -> Run {
    env.git_run(work, &["push", "-q", url, refspec])
}

/// The cases every transport must get right.
fn check_transport(env: &Env, server: &Path, work: &Path, url: &str) {
    // In scope: accepted. git quarantines the pushed objects while the hook
    // runs, so this needs the hook to read them there (it fails without).
    branch_with(
        env,
        work,
        "copilot/ok",
        &[&["echo more >> docs/guide.md", "docs"]],
    );
    let run = push(env, work, url, "copilot/ok");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(refs(env, server).contains("refs/heads/copilot/ok"));

    // An existing commit on a new branch brings nothing new.
    let run = push(env, work, url, "origin/main:refs/heads/copilot/fresh");
    assert_eq!(run.code, 0, "{run:?}");

    let cases: [(&str, &[&[&str]], &str); 5] = [
        (
            "copilot/middle",
            &[
                &["echo a >> docs/guide.md", "docs"],
                &["echo b >> src/api/routes.rs", "sneaky"],
                &["echo c >> docs/guide.md", "more docs"],
            ],
            "src/api/routes.rs",
        ),
        (
            "copilot/delete",
            &[&["rm src/api/routes.rs", "delete"]],
            "src/api/routes.rs",
        ),
        (
            "copilot/rename",
            &[&["git mv docs/guide.md src/guide.txt", "rename out"]],
            "src/guide.txt",
        ),
        (
            "copilot/type",
            &[&["chmod +x Cargo.lock", "type change"]],
            "Cargo.lock",
        ),
        (
            "agent/docs-bot",
            &[&["echo x >> README.md", "readme"]],
            "README.md",
        ),
    ];
    for (branch, edits, path) in cases {
        branch_with(env, work, branch, edits);
        let before = refs(env, server);
        let run = push(env, work, url, branch);
        assert_ne!(run.code, 0, "{branch}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("git-agent: push of refs/heads/{branch} refused")),
            "{branch}: {run:?}"
        );
        assert!(run.stderr.contains(path), "{branch}: {run:?}");
        assert!(
            run.stderr.contains("outside the scope of agent"),
            "{branch}: {run:?}"
        );
        assert!(!run.stderr.contains("panicked"), "{run:?}");
        // Nothing of a refused push reaches the refs, nor its objects the store.
        assert_eq!(before, refs(env, server), "{branch}");
        let tip = env.git_in(work, &["rev-parse", "HEAD"]);
        let seen = env.git_run(server, &["cat-file", "-e", tip.trim()]);
        assert_ne!(
            seen.code, 0,
            "{branch}: the refused commit is in the server's store"
        );
    }

    // Two refs in one push: one refused refuses both.
    branch_with(
        env,
        work,
        "copilot/two",
        &[&["echo y >> Cargo.lock", "lock"]],
    );
    let before = refs(env, server);
    let run = env.git_run(
        work,
        &[
            "push",
            "-q",
            url,
            "copilot/two",
            "copilot/ok:refs/heads/copilot/also",
        ],
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert_eq!(before, refs(env, server));

    // A branch no agent owns, and a tag, are let through.
    branch_with(
        env,
        work,
        "feature/x",
        &[&["echo z >> src/api/routes.rs", "a person's change"]],
    );
    assert_eq!(push(env, work, url, "feature/x").code, 0);
    env.git_in(work, &["tag", "v1", "feature/x"]);
    assert_eq!(push(env, work, url, "v1").code, 0);
}

#[test]
fn pushes_over_file_urls_are_checked() {
    let (env, server, work) = server(POLICY);
    let url = format!("file://{}", server.display());
    check_transport(&env, &server, &work, &url);
}

/// `git daemon` on 127.0.0.1, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn git_daemon(env: &Env, base: &Path) -> Option<(Daemon, u16)> {
    let exec_path = env.git_in(base, &["--exec-path"]);
    let found = Path::new(exec_path.trim()).join("git-daemon");
    let found = require("git daemon", found.exists().then_some(found))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The daemon itself, not the `git` wrapper, so that killing it ends it.
    let child = env
        .command(&found, base)
        .args([
            "--reuseaddr",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            "--export-all",
            "--enable=receive-pack",
            &format!("--base-path={}", base.display()),
            base.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let daemon = Daemon(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((daemon, port));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("git daemon did not listen on port {port}");
}

#[test]
fn pushes_over_git_daemon_are_checked() {
    let (env, server, work) = server(POLICY);
    let Some((_daemon, port)) = git_daemon(&env, &env.root) else {
        return;
    };
    let url = format!("git://127.0.0.1:{port}/server.git");
    check_transport(&env, &server, &work, &url);
}

#[test]
fn a_policy_that_does_not_parse_refuses_the_push_and_says_why() {
    let (env, server, work) = server(
        "version: 1\nagents:\n  copilot: { branches: [\"copilot/*\"], scope: [docs/] }\n  codex: { branches: [\"*\"], scop: [x/] }\n",
    );
    branch_with(
        &env,
        &work,
        "copilot/ok",
        &[&["echo more >> docs/guide.md", "docs"]],
    );
    let before = refs(&env, &server);
    let run = env.git_run(&work, &["push", "-q", "origin", "copilot/ok"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("the policy on main does not parse"),
        "{run:?}"
    );
    assert!(run.stderr.contains(".git-agent.yaml on main:4:"), "{run:?}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    assert_eq!(before, refs(&env, &server));
}

#[test]
fn the_server_hook_keeps_anothers_hook_and_is_idempotent() {
    let env = Env::new();
    env.commit_policy(POLICY);
    let server = env.root.join("server.git");
    env.git(&["clone", "-q", "--bare", ".", server.to_str().unwrap()]);
    let hook = server.join("hooks/pre-receive");
    // Another tool's hook that reads the pushed refs, then exits.
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do echo \"theirs saw $ref\" >&2; done\nexit 0\n",
    )
    .unwrap();
    env.ok(env.agent_in(&server, "hooks", &["install", "--server"]));
    let first = std::fs::read_to_string(&hook).unwrap();
    let run = env.ok(env.agent_in(&server, "hooks", &["install", "--server"]));
    assert!(run.stdout.contains("already installed"), "{run:?}");
    assert_eq!(first, std::fs::read_to_string(&hook).unwrap());
    assert!(
        first.starts_with("#!/bin/sh\n# >>> git-agent pre-receive gate >>>"),
        "{first}"
    );
    let run = env.ok(env.agent_in(&server, "hooks", &["status"]));
    assert!(run.stdout.contains("pre-receive installed:"), "{run:?}");
    let v = json_of(&env.ok(env.agent_in(&server, "hooks", &["status", "--json"])));
    assert_eq!(v["pre_receive"]["installed"], true);

    // Both hooks see the push: theirs still gets the lines ours read.
    env.git_in(
        &env.root,
        &["clone", "-q", server.to_str().unwrap(), "work"],
    );
    let work = env.root.join("work");
    branch_with(
        &env,
        &work,
        "copilot/ok",
        &[&["echo more >> docs/guide.md", "docs"]],
    );
    let run = env.git_run(&work, &["push", "origin", "copilot/ok"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("theirs saw refs/heads/copilot/ok"),
        "{run:?}"
    );

    env.ok(env.agent_in(&server, "hooks", &["uninstall", "--server"]));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nwhile read old new ref; do echo \"theirs saw $ref\" >&2; done\nexit 0\n"
    );
    let run = env.ok(env.agent_in(&server, "hooks", &["status"]));
    assert!(run.stdout.contains("pre-receive not installed"), "{run:?}");
}

#[test]
fn server_install_needs_a_bare_repository_and_bad_input_is_refused() {
    let env = Env::new();
    let before = env.state();
    let run = env.agent("hooks", &["install", "--server"]);
    assert_bad_input(&env, &before, &run, &["has a worktree"]);
    let run = Run::from_output(
        env.command(bin("git-agent-hooks"), &env.repo())
            .arg("pre-receive")
            .stdin(std::process::Stdio::from(
                std::fs::File::open(write_tmp(&env, "garbage\n")).unwrap(),
            ))
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("unexpected input line 'garbage'"),
        "{run:?}"
    );
}

fn write_tmp(env: &Env, text: &str) -> PathBuf {
    let path = env.root.join("stdin.txt");
    std::fs::write(&path, text).unwrap();
    path
}
