//! Humans orchestrate: the commands that grant, remove or integrate are
//! refused from an agent's context; sync's refusals; the lease outliving a
//! killed `exec`.

use crate::support::*;

const POLICY: &str = "version: 1\nareas:\n  billing: [src/billing/]\n  docs: [docs/]\n";

fn rev(env: &Env, what: &str) -> String {
    env.git(&["rev-parse", what]).trim().to_owned()
}

/// `billing` and `docs` (with a commit to land), and `old`, removed with
/// its work archived.
fn with_agents() -> Env {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    env.ok(env.agent("add", &["docs", "--area", "docs"]));
    let docs = env.agent_dir("docs");
    write_in(&docs, "docs/guide.md", "# Guide, by docs\n");
    env.git_in(&docs, &["commit", "-q", "-am", "Guide"]);
    env.ok(env.agent("add", &["old", "--area", "docs"]));
    write_in(&env.agent_dir("old"), "docs/old.md", "old\n");
    env.git_in(&env.agent_dir("old"), &["add", "."]);
    env.git_in(&env.agent_dir("old"), &["commit", "-q", "-m", "Old"]);
    env.ok(env.agent("rm", &["old", "--force"]));
    env
}

/// Every command that only a person may run, as an agent would try it.
const PERSONS_COMMANDS: &[(&str, &[&str])] = &[
    ("add", &["helper", "--scope", "**"]),
    ("scope", &["add", "billing", "**"]),
    ("scope", &["set", "billing", "**"]),
    ("scope", &["rm", "billing", "src/billing/"]),
    ("rm", &["docs", "--force"]),
    ("rm", &["docs", "--json"]),
    ("restore", &["old"]),
    ("land", &["docs"]),
    ("land", &["docs", "--json"]),
    ("sync", &["docs"]),
    ("sync", &["docs", "--json"]),
    ("hooks", &["install"]),
    ("hooks", &["uninstall"]),
    ("doctor", &["--fix"]),
    ("doctor", &["--fix", "--json"]),
    ("init", &["--force"]),
];

fn assert_refused(env: &Env, before: &str, run: &Run, cmd: &str, args: &[&str], context: &str) {
    assert_eq!(run.code, 1, "{cmd} {args:?}: {run:?}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    let text = if args.contains(&"--json") {
        let v = json_of(run);
        assert_eq!(
            v["refusal"]["reason"], "agent_context",
            "{cmd} {args:?}: {v}"
        );
        v["refusal"]["message"].as_str().unwrap().to_owned()
    } else {
        run.stderr.clone()
    };
    assert!(
        text.contains(&format!("from inside agent 'billing''s context ({context}")),
        "{cmd} {args:?}: {run:?}"
    );
    assert!(
        text.contains("Humans orchestrate") && text.contains("from the main worktree"),
        "{cmd} {args:?}: {run:?}"
    );
    assert_eq!(before, env.state(), "{cmd} {args:?} changed the repository");
}

#[test]
fn an_agent_cannot_run_the_persons_commands() {
    let env = with_agents();
    let before = env.state();
    let docs_tip = rev(&env, "agent/docs");
    for (cmd, args) in PERSONS_COMMANDS {
        let run = Run::from_output(
            env.command(bin(&format!("git-agent-{cmd}")), &env.repo())
                .args(*args)
                .env("GIT_AGENT", "billing")
                .output()
                .unwrap(),
        );
        assert_refused(&env, &before, &run, cmd, args, "GIT_AGENT=billing");
        assert!(run.stderr.contains("without GIT_AGENT set") || args.contains(&"--json"));

        let run = env.agent_in(&env.agent_dir("billing"), cmd, args);
        assert_refused(&env, &before, &run, cmd, args, "its worktree");
        // From a subdirectory of the worktree too.
        let run = env.agent_in(&env.agent_dir("billing").join("src"), cmd, args);
        assert_refused(&env, &before, &run, cmd, args, "its worktree");
    }
    assert_eq!(rev(&env, "agent/docs"), docs_tip);
    // The uninstalled gate would let this through; it is still there.
    assert!(env.repo().join(".git/hooks/pre-commit").exists());
}

#[test]
fn an_agent_may_sync_itself() {
    let env = with_agents();
    env.write("README.md", "# Shop, moved on\n");
    env.git(&["commit", "-q", "-am", "Base moves"]);
    let run = Run::from_output(
        env.command(bin("git-agent-sync"), &env.agent_dir("billing"))
            .args(["billing"])
            .env("GIT_AGENT", "billing")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(rev(&env, "agent/billing"), rev(&env, "main"));
}

#[test]
fn an_agent_clone_is_an_agent_context() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["docs", "--area", "docs"]));
    env.ok(env.agent("add", &["cl", "--area", "billing", "--clone"]));
    let before = env.state();
    for (cmd, args) in [
        ("land", &["docs"][..]),
        ("add", &["helper", "--scope", "**"]),
    ] {
        let run = env.agent_in(&env.agent_dir("cl"), cmd, args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("from inside agent 'cl''s context (its clone"),
            "{run:?}"
        );
        assert_eq!(before, env.state());
    }
}

#[test]
fn a_person_runs_them_from_the_main_worktree() {
    let env = with_agents();
    for (cmd, args) in [
        ("scope", &["add", "billing", "tests/billing/"][..]),
        ("scope", &["rm", "billing", "tests/billing/"]),
        ("scope", &["set", "billing", "src/billing/"]),
        ("hooks", &["uninstall"]),
        ("hooks", &["install"]),
        ("init", &[]),
        ("doctor", &["--fix"]),
        ("land", &["docs"]),
        ("sync", &["billing"]),
        ("rm", &["docs"]),
        ("restore", &["old"]),
        ("add", &["helper", "--scope", "README.md"]),
    ] {
        let run = env.agent(cmd, args);
        assert_eq!(run.code, 0, "{cmd} {args:?}: {run:?}");
    }
}

/// `billing` with a commit, on a base that has moved on since.
fn billing_behind() -> Env {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 1 }\n");
    env.git_in(&dir, &["commit", "-q", "-am", "Invoices"]);
    env
}

#[test]
fn sync_json_names_conflicted_paths_as_they_are() {
    let name = "src/billing/naïve \"q\" x.rs";
    let env = billing_behind();
    let dir = env.agent_dir("billing");
    env.write(name, "base\n");
    env.git(&["add", "."]);
    env.git(&["commit", "-q", "-m", "Base adds it"]);
    write_in(&dir, name, "agent\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Agent adds it"]);
    let run = env.agent("sync", &["billing", "--merge", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["result"], "stopped", "{v}");
    assert_eq!(v["conflicts"], serde_json::json!([name]), "{v}");
    env.git_in(&dir, &["merge", "--abort"]);
    let run = env.agent("sync", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(&format!("  {name}\n")), "{run:?}");
}

#[test]
fn sync_refuses_when_an_untracked_file_would_be_overwritten() {
    for how in ["--rebase", "--merge"] {
        let env = billing_behind();
        let dir = env.agent_dir("billing");
        env.write("docs/new guide.md", "# New\n");
        env.write("docs/sub/deep.md", "# Deep\n");
        env.git(&["add", "."]);
        env.git(&["commit", "-q", "-m", "Base adds files"]);
        write_in(&dir, "docs/new guide.md", "the agent's own notes\n");
        write_in(&dir, "docs/sub", "a file where the base has a directory\n");
        let old = rev(&env, "agent/billing");
        let before = env.state();
        let run = env.agent("sync", &["billing", how, "--json"]);
        assert_eq!(run.code, 1, "{how}: {run:?}");
        let v = json_of(&run);
        assert_eq!(v["result"], "refused", "{v}");
        assert_eq!(
            v["refusal"]["reason"], "untracked_would_be_overwritten",
            "{v}"
        );
        assert_eq!(
            v["refusal"]["paths"],
            serde_json::json!(["docs/new guide.md", "docs/sub"]),
            "{v}"
        );
        assert_eq!(v["old_tip"], old, "{v}");
        assert_eq!(before, env.state());
        assert_eq!(rev(&env, "agent/billing"), old);
        assert_eq!(
            std::fs::read_to_string(dir.join("docs/new guide.md")).unwrap(),
            "the agent's own notes\n"
        );
        let run = env.agent("sync", &["billing", how]);
        assert_eq!(run.code, 1, "{how}: {run:?}");
        assert!(run.stderr.contains("docs/new guide.md"), "{run:?}");
        // Once they are moved away, the sync goes through.
        std::fs::remove_file(dir.join("docs/new guide.md")).unwrap();
        std::fs::remove_file(dir.join("docs/sub")).unwrap();
        env.ok(env.agent("sync", &["billing", how]));
    }
}

#[test]
fn sync_refusals_name_the_old_tip() {
    let env = billing_behind();
    let dir = env.agent_dir("billing");
    env.write("README.md", "# Shop, moved on\n");
    env.git(&["commit", "-q", "-am", "Base moves"]);
    write_in(&dir, "src/billing/invoice.rs", "dirty\n");
    let run = env.agent("sync", &["billing", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["refusal"]["reason"], "uncommitted", "{v}");
    assert_eq!(v["old_tip"], rev(&env, "agent/billing"), "{v}");
    assert_eq!(v["new_tip"], serde_json::Value::Null, "{v}");
}

#[test]
fn sync_holds_the_lease_and_waits_for_no_one() {
    let env = billing_behind();
    env.write("README.md", "# Shop, moved on\n");
    env.git(&["commit", "-q", "-am", "Base moves"]);
    let old = rev(&env, "agent/billing");
    let lease = env.write_lease("billing", std::process::id(), "npm run dev");
    let before = env.state();
    let run = env.agent("sync", &["billing", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["refusal"]["reason"], "in_use", "{v}");
    assert!(
        v["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("npm run dev"),
        "{v}"
    );
    assert_eq!(before, env.state());
    assert_eq!(rev(&env, "agent/billing"), old);
    std::fs::remove_file(&lease).unwrap();
    env.ok(env.agent("sync", &["billing"]));
    assert!(!lease.exists(), "sync gives its lease back");
}

/// The value of `key` in the lease file of `agent`, once it is there.
fn lease_field(env: &Env, agent: &str, key: &str) -> Option<u64> {
    let path = env
        .repo()
        .join(format!(".git/git-agent/leases/{agent}.json"));
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v[key].as_u64()
}

#[test]
fn the_lease_outlives_a_killed_exec_while_its_command_runs() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let mut exec = env
        .command(bin("git-agent-exec"), &env.repo())
        .args(["a", "--", "sleep", "60"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let child = loop {
        if let Some(pid) = lease_field(&env, "a", "child") {
            break pid as i32;
        }
        if std::time::Instant::now() > deadline {
            unsafe { libc::kill(exec.id() as i32, libc::SIGTERM) };
            panic!("the lease never names the command's pid");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    unsafe {
        libc::kill(exec.id() as i32, libc::SIGKILL);
    }
    exec.wait().unwrap();
    // The command still runs in the agent's worktree.
    assert_eq!(unsafe { libc::kill(child, 0) }, 0);

    let run = env.agent("exec", &["a", "--", "true"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!("pid {child} holds its lease")),
        "{run:?}"
    );
    assert!(run.stderr.contains("sleep 60"), "{run:?}");
    let before = env.state();
    let run = env.agent("rm", &["a", "--force"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is in use"), "{run:?}");
    assert!(env.agent_dir("a").is_dir());
    assert_eq!(before, env.state());

    // Once the command is gone, the lease is free.
    unsafe {
        libc::kill(child, libc::SIGKILL);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let run = env.agent("exec", &["a", "--", "true"]);
        if run.code == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{run:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_gate_goes_where_it_runs_in_a_hook_that_ends_with_exec_or_exit() {
    for tail in [
        "exec true \"$@\"\n",
        "exit 0\n",
        "if true; then\n  exec true\nelse\n  exit 1\nfi\n",
    ] {
        let env = Env::with_policy(POLICY);
        env.ok(env.agent("hooks", &["uninstall"]));
        let hook = env.repo().join(".git/hooks/pre-commit");
        let foreign =
            format!("#!/usr/bin/env bash\n# a hook manager's hook\necho framework-ran >&2\n{tail}");
        std::fs::write(&hook, &foreign).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

        // The block appended after the exec, as earlier versions left it:
        // status tells the truth, install moves it where it runs.
        std::fs::write(&hook, format!("{foreign}\n# >>> git-agent pre-commit gate >>>\ngit-agent-scope check --staged --hook || exit $?\n# <<< git-agent pre-commit gate <<<\n")).unwrap();
        let v = json_of(&env.ok(env.agent("hooks", &["status", "--json"])));
        assert_eq!(v["installed"], false, "{tail}: {v}");
        let run = env.ok(env.agent("hooks", &["status"]));
        assert!(run.stdout.contains("never runs"), "{run:?}");

        env.ok(env.agent("hooks", &["install"]));
        let v = json_of(&env.ok(env.agent("hooks", &["status", "--json"])));
        assert_eq!(v["installed"], true, "{tail}: {v}");

        env.ok(env.agent("add", &["a", "--scope", "docs/"]));
        let dir = env.agent_dir("a");
        write_in(&dir, "src/api/routes.rs", "x\n");
        env.git_in(&dir, &["add", "-A"]);
        let run = env.git_run(&dir, &["commit", "-q", "-m", "x"]);
        assert_eq!(run.code, 1, "{tail}: {run:?}");
        assert!(
            run.stderr.contains("outside the scope of agent 'a'"),
            "{tail}: {run:?}"
        );
        // In scope, the gate passes and the hook's own lines still run.
        env.git_in(&dir, &["reset", "-q", "--hard"]);
        write_in(&dir, "docs/guide.md", "y\n");
        env.git_in(&dir, &["add", "-A"]);
        let run = env.git_run(&dir, &["commit", "-q", "-m", "y"]);
        assert_eq!(run.code, 0, "{tail}: {run:?}");
        assert!(run.stderr.contains("framework-ran"), "{run:?}");

        env.ok(env.agent("hooks", &["uninstall"]));
        assert_eq!(std::fs::read_to_string(&hook).unwrap(), foreign, "{tail}");
    }
}
