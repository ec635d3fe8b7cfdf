use crate::support::*;
use std::path::Path;

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
fn demo_tours_the_whole_flow_and_leaves_a_real_sandbox() {
    let env = Env::new();
    let keep = env.root.join("sandbox");
    let run = env.ok(env.agent_in(&env.root, "demo", &["--keep", keep.to_str().unwrap()]));
    let out = &run.stdout;
    // Three agents.
    for add in [
        "$ git agent add billing --area billing --task 'invoice totals'",
        "$ git agent add api --area api --task 'invoice endpoint'",
        "$ git agent add docs --scope docs/ --scope '*.md' --task 'user guide'",
    ] {
        assert!(out.contains(add), "{add}\n{run:?}");
    }
    // A refused commit, by the real hook.
    assert!(
        out.contains(
            "| git-agent: commit refused: 1 staged path is outside the scope of agent 'billing'"
        ),
        "{run:?}"
    );
    assert!(
        out.contains("|   src/api/routes.rs  no pattern of the scope matches"),
        "{run:?}"
    );
    // A --no-verify commit caught at land.
    assert!(
        out.contains("$ git commit -q --no-verify -m 'Tweak totals for the endpoint'"),
        "{run:?}"
    );
    assert!(
        out.contains("| git-agent: refusing to land 'api'"),
        "{run:?}"
    );
    assert!(
        out.contains(
            " Tweak totals for the endpoint: src/billing/invoice.rs (no pattern of the scope matches)"
        ),
        "{run:?}"
    );
    // A predicted conflict.
    assert!(
        out.contains("|   billing × api: src/billing/invoice.rs"),
        "{run:?}"
    );
    // A landing with receipts.
    assert!(
        out.contains("| landed agent 'billing' on main (merge, 1 commit)"),
        "{run:?}"
    );
    // A landing taken back, and landed again.
    assert!(
        out.contains("| unlanded agent 'billing' from main (reverted)"),
        "{run:?}"
    );
    // A train: docs lands, api is refused by its own gate.
    assert!(out.contains("$ git agent land docs api"), "{run:?}");
    assert!(out.contains("| landed 'docs' (1 commit)"), "{run:?}");
    assert!(out.contains("| refused 'api' (2 commits)"), "{run:?}");
    assert!(
        out.contains("| train on main (merge): 1 landed, 0 left out, 1 refused; checks ran 1 time"),
        "{run:?}"
    );
    // A safe rm: refused while work would be lost, archived with --force.
    assert!(
        out.contains("| git-agent: refusing to remove agent 'api': work would be lost"),
        "{run:?}"
    );
    assert!(
        out.contains("| its work is archived as refs/agent-archive/api/"),
        "{run:?}"
    );
    assert!(out.contains(&format!("The sandbox stays in {}", keep.display())));

    // The sandbox is real and in the state the narration claims.
    let shop = keep.join("shop");
    let message = env.git_in(&shop, &["log", "-1", "--format=%B", "main^"]);
    assert!(message.contains("Agent: billing\n"), "{message}");
    let train = env.git_in(&shop, &["log", "-1", "--format=%B", "main"]);
    assert!(train.contains("Agent: docs\n"), "{train}");
    assert!(
        message.contains("Agent-Checks: test -s src/billing/invoice.rs (passed)"),
        "{message}"
    );
    assert_eq!(
        env.git_in(&shop, &["show", "main:src/billing/invoice.rs"]),
        "pub fn total() -> u32 {\n    42\n}\n",
        "billing's work landed, api's bypassing commit did not"
    );
    assert_eq!(
        env.git_in(&shop, &["log", "--format=%s", "agent/docs"]),
        "Document invoice totals\nAdd git-agent policy\nInitial shop\n",
        "the refused commit is nowhere"
    );
    let archived = env.git_in(
        &shop,
        &["log", "--format=%s", "--glob=refs/agent-archive/api/*"],
    );
    assert!(
        archived.contains("Tweak totals for the endpoint"),
        "{archived}"
    );
    let branches = env.git_in(&shop, &["branch", "--format=%(refname:short)"]);
    assert_eq!(branches, "agent/docs\nmain\n");
    assert!(!keep.join("shop.agents/billing").exists());
    assert!(!keep.join("shop.agents/api").exists());
    assert!(keep.join("shop.agents/docs/docs/guide.md").exists());
    // The sandbox works with the real commands afterwards.
    let list = env.ok(env.agent_in(&shop, "list", &["--names"]));
    assert_eq!(list.stdout, "docs\n");

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

/// Run `program args` with its standard output a pipe whose reader is
/// already gone, so every write fails with EPIPE (`git agent list | head -0`
/// without the race of head exiting first or last).
fn with_closed_stdout(env: &Env, program: &Path, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = env
        .command(program, &env.repo())
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    Run::from_output(out)
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let env = Env::new();
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    env.ok(env.agent("add", &["api", "--scope", "src/api/"]));
    write_in(
        &env.agent_dir("billing"),
        "src/billing/invoice.rs",
        "fn total() { 1 }\n",
    );
    env.git_in(&env.agent_dir("billing"), &["commit", "-qam", "Totals"]);
    let git_agent = bin("git-agent");
    for args in [
        &[][..],
        &["--version"][..],
        &["list"][..],
        &["list", "--json"][..],
        &["list", "--names"][..],
        &["scope", "billing"][..],
        &["scope", "billing", "--json"][..],
        &["conflicts"][..],
        &["conflicts", "--json"][..],
        &["doctor"][..],
        &["hooks", "status"][..],
        &["land", "billing", "--dry-run"][..],
        &["land", "billing", "--dry-run", "--json"][..],
        &["doctor", "--json"][..],
        &["hooks", "status", "--json"][..],
        &["rm", "billing", "--json"][..],
        &["sync", "api", "--json"][..],
    ] {
        let normal = Run::from_output(
            env.command(&git_agent, &env.repo())
                .args(args)
                .output()
                .unwrap(),
        );
        assert!(!normal.stdout.is_empty(), "git agent {args:?}: {normal:?}");
        let closed = with_closed_stdout(&env, &git_agent, args);
        assert_eq!(closed.code, normal.code, "git agent {args:?}: {closed:?}");
        assert_eq!(closed.stderr, normal.stderr, "git agent {args:?}");
    }
}

#[test]
fn demo_colours_its_narration_and_the_commands_it_shows_when_asked() {
    let env = Env::new();
    let run = env.ok(env.agent_in(&env.root, "demo", &["--color", "always"]));
    // Its own narration, and the gate's refusal from inside the hook.
    assert!(run.stdout.contains("\x1b[1m1. A small shop"), "{run:?}");
    assert!(
        run.stdout
            .contains("git-agent: \x1b[31mcommit refused\x1b[m"),
        "{run:?}"
    );
    let plain = env.ok(env.agent_in(&env.root, "demo", &[]));
    assert!(!plain.stdout.contains('\x1b'), "{plain:?}");
}

#[test]
fn options_every_command_takes_may_come_before_its_name() {
    let env = Env::new();
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    let git_agent = bin("git-agent");
    let elsewhere = env.root.clone();
    let repo = env.repo();
    let repo = repo.to_str().unwrap();
    let run = |args: &[&str]| {
        Run::from_output(
            env.command(&git_agent, &elsewhere)
                .args(args)
                .output()
                .unwrap(),
        )
    };
    let listed = run(&["-C", repo, "--color", "always", "list", "--names"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert_eq!(listed.stdout, "billing\n");
    let coloured = run(&["-C", repo, "--color", "always", "list"]);
    assert!(
        coloured.stdout.contains("\x1b[1mbilling\x1b[m"),
        "{coloured:?}"
    );
    let joined = run(&[&format!("-C{repo}"), "--color=never", "ls"]);
    assert_eq!(joined.code, 0, "{joined:?}");
    assert!(joined.stdout.contains("billing"), "{joined:?}");
    assert!(!joined.stdout.contains('\x1b'), "{joined:?}");
    // Without -C, the directory is not a repository.
    let outside = run(&["list"]);
    assert_eq!(outside.code, 2, "{outside:?}");
    for (args, says) in [
        (&["-C"][..], "-C needs a value"),
        (
            &["--color", "never"][..],
            "no command given after the options",
        ),
    ] {
        let bad = run(args);
        assert_eq!(bad.code, 2, "{args:?}: {bad:?}");
        assert!(bad.stderr.contains(says), "{args:?}: {bad:?}");
    }
}

/// A directory holding links to just `programs` of the build, and a PATH
/// with it first and without the build directory.
fn only(env: &Env, programs: &[&str]) -> (std::path::PathBuf, std::ffi::OsString) {
    let dir = env.root.join("only");
    std::fs::create_dir_all(&dir).unwrap();
    for program in programs {
        let to = dir.join(program);
        if std::fs::hard_link(bin(program), &to).is_err() {
            std::fs::copy(bin(program), &to).unwrap();
        }
    }
    let system = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(dir.clone())
        .chain(std::env::split_paths(&system).filter(|d| *d != bin_dir()));
    (dir, std::env::join_paths(dirs).unwrap())
}

#[test]
fn git_agent_runs_every_builtin_in_its_own_process() {
    let env = Env::with_policy("version: 1\n");
    let (dir, path) = only(&env, &["git-agent"]);
    let run = |args: &[&str]| {
        Run::from_output(
            env.command(dir.join("git-agent"), &env.repo())
                .env("PATH", &path)
                .args(args)
                .output()
                .unwrap(),
        )
    };
    // No git-agent-<command> program anywhere, and every built-in still runs.
    env.ok(run(&["add", "billing", "--scope", "src/billing/"]));
    assert_eq!(env.ok(run(&["list", "--names"])).stdout, "billing\n");
    assert_eq!(env.ok(run(&["ls", "--names"])).stdout, "billing\n");
    let refused = run(&[
        "scope",
        "check",
        "--agent",
        "billing",
        "--paths",
        "src/api/routes.rs",
    ]);
    assert_eq!(refused.code, 1, "{refused:?}");
    let help = env.ok(run(&["land", "--help"]));
    assert!(
        help.stdout
            .contains("Usage: git agent land [OPTIONS] [AGENT]..."),
        "{help:?}"
    );
    let bad = run(&["land"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    // The hook it installs runs the gate in git-agent too, through git.
    let agent = env.agent_dir("billing");
    write_in(&agent, "src/api/routes.rs", "fn routes() { 1 }\n");
    env.git_in(&agent, &["add", "-A"]);
    let commit = Run::from_output(
        env.command("git", &agent)
            .env("PATH", &path)
            .args(["commit", "-q", "-m", "x"])
            .output()
            .unwrap(),
    );
    assert_eq!(commit.code, 1, "{commit:?}");
    assert!(
        commit
            .stderr
            .contains("outside the scope of agent 'billing'"),
        "{commit:?}"
    );
}

#[test]
fn a_launcher_execs_the_git_agent_beside_it_keeping_arguments_and_exit_code() {
    let env = Env::new();
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    let (dir, path) = only(&env, &["git-agent-scope", "git-agent-list"]);
    let launch = |program: &str, args: &[&str]| {
        Run::from_output(
            env.command(dir.join(program), &env.repo())
                .env("PATH", &path)
                .args(args)
                .output()
                .unwrap(),
        )
    };
    // Without git-agent beside it or on PATH, it says what is missing.
    let before = env.state();
    let missing = launch("git-agent-list", &["--names"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing
            .stderr
            .contains("git-agent-list: cannot run git-agent"),
        "{missing:?}"
    );
    assert_eq!(before, env.state());

    only(&env, &["git-agent"]);
    assert_eq!(
        env.ok(launch("git-agent-list", &["--names"])).stdout,
        "billing\n"
    );
    let refused = launch(
        "git-agent-scope",
        &[
            "check",
            "--agent",
            "billing",
            "--paths",
            "src/api/routes.rs",
        ],
    );
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("src/api/routes.rs"), "{refused:?}");
    let bad = launch("git-agent-scope", &["--no-such-flag"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn launchers_link_neither_gix_nor_the_library() {
    for (name, _) in git_agent::cli::builtins() {
        let program = bin(&format!("git-agent-{name}"));
        let bytes = std::fs::read(&program).unwrap();
        for symbol in ["gix_hash", "gix_odb", "scope_cmd", "clap_builder", "miette"] {
            assert!(
                !bytes.windows(symbol.len()).any(|w| w == symbol.as_bytes()),
                "{} contains {symbol}",
                program.display()
            );
        }
    }
    // The check can fail: the engine has them.
    let engine = std::fs::read(bin("git-agent")).unwrap();
    assert!(engine.windows(7).any(|w| w == b"gix_odb"));
}
