use crate::support::*;

#[test]
fn git_agent_alone_lists_builtin_and_third_party_commands() {
    let env = Env::new();
    let extra = env.root.join("bin");
    std::fs::create_dir(&extra).unwrap();
    let tool = extra.join("git-agent-frobnicate");
    std::fs::write(&tool, "#!/bin/sh\necho frobnicated \"$@\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", extra.display(), std::env::var("PATH").unwrap());

    let run = env
        .command(bin("git-agent"), &env.repo())
        .env("PATH", &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success());
    for cmd in ["init", "add", "scope", "hooks", "demo", "frobnicate"] {
        assert!(stdout.contains(cmd), "{cmd} missing from {stdout}");
    }

    // `git agent frobnicate` finds the third-party program on PATH through git.
    let path = format!(
        "{}:{}:{}",
        bin_dir().display(),
        extra.display(),
        std::env::var("PATH").unwrap()
    );
    let run = env
        .command("git", &env.repo())
        .env("PATH", &path)
        .args(["agent", "frobnicate", "x"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "frobnicated x\n");
}

#[test]
fn git_agent_runs_builtins_through_git() {
    let env = Env::with_policy("version: 1\n");
    let run = env
        .command("git", &env.repo())
        .args(["agent", "hooks", "status"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("installed: "));
}

#[test]
fn unknown_command_exits_2_and_names_the_nearest() {
    let env = Env::new();
    let before = env.state();
    let out = env
        .command(bin("git-agent"), &env.repo())
        .arg("scpoe")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("'scpoe' is not a git agent command"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `git agent scope`?"),
        "{stderr}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn demo_shows_a_commit_going_through_and_one_refused() {
    let env = Env::new();
    let keep = env.root.join("sandbox");
    let run = env.ok(env.agent_in(&env.root, "demo", &["--keep", keep.to_str().unwrap()]));
    assert!(
        run.stdout
            .contains("$ git agent add billing --area billing"),
        "{run:?}"
    );
    assert!(run.stdout.contains("The gate let it through"), "{run:?}");
    assert!(
        run.stdout.contains(
            "| git-agent: commit refused: 1 staged path is outside the scope of agent 'billing'"
        ),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("|   src/api/routes.rs  no pattern of the scope matches"),
        "{run:?}"
    );
    // The sandbox is real: the in-scope commit is there, the refused one is not.
    let log = env.git_in(&keep.join("shop.agents/billing"), &["log", "--format=%s"]);
    assert_eq!(
        log,
        "Compute invoice totals\nAdd git-agent policy\nInitial shop\n"
    );
    // A non-empty --keep directory is refused.
    let run = env.agent_in(&env.root, "demo", &["--keep", keep.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("already exists and is not empty"),
        "{run:?}"
    );
}

#[test]
fn demo_in_a_temporary_directory_cleans_up() {
    let env = Env::new();
    let tmpdir = env.root.join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    let run = env
        .command(bin("git-agent-demo"), &env.root)
        .env("TMPDIR", &tmpdir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::read_dir(&tmpdir).unwrap().count(),
        0,
        "the sandbox was removed"
    );
}
