//! list, exec, rm and restore.

use crate::support::*;

fn list_json(env: &Env) -> serde_json::Value {
    let run = env.ok(env.agent("list", &["--json"]));
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn list_shows_every_agent_with_its_state() {
    let env = Env::with_policy("version: 1\nareas:\n  billing: [src/billing/]\n");
    env.ok(env.agent(
        "add",
        &["billing", "--area", "billing", "--task", "invoices"],
    ));
    env.ok(env.agent("add", &["docs", "--scope", "docs/"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "1\n");
    env.git_in(&dir, &["commit", "-q", "-am", "one"]);
    write_in(&dir, "src/api/routes.rs", "out\n");
    env.git_in(&dir, &["commit", "-q", "--no-verify", "-am", "two"]);
    write_in(&dir, "src/billing/invoice.rs", "2\n");
    write_in(&dir, "new.txt", "untracked\n");
    env.write("README.md", "base moved\n");
    env.git(&["commit", "-q", "-am", "base"]);

    let v = list_json(&env);
    assert_eq!(v["version"], 1);
    let agents = v["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    let b = &agents[0];
    assert_eq!(b["name"], "billing");
    assert_eq!(b["branch"], "agent/billing");
    assert_eq!(b["path"], dir.display().to_string());
    assert_eq!(b["base"], "main");
    assert_eq!(b["ahead"], 2);
    assert_eq!(b["behind"], 1);
    assert_eq!(b["uncommitted"], 1);
    assert_eq!(b["untracked"], 1);
    assert_eq!(b["out_of_scope"], true);
    assert_eq!(b["lease"], serde_json::Value::Null);
    assert_eq!(b["scope"], serde_json::json!(["src/billing/"]));
    assert_eq!(b["task"], "invoices");
    let d = &agents[1];
    assert_eq!(
        (
            d["ahead"].as_u64(),
            d["uncommitted"].as_u64(),
            d["out_of_scope"].as_bool()
        ),
        (Some(0), Some(0), Some(false))
    );

    let run = env.ok(env.agent("list", &["-l"]));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{run:?}");
    assert!(
        lines[1].starts_with("billing  agent/billing  ../repo.agents/billing  main  2"),
        "{run:?}"
    );
    assert!(lines[1].contains("OUT"), "{run:?}");
    assert!(run.stdout.contains("    task:  invoices"), "{run:?}");
    // `git agent ls` is the same command.
    let out = env
        .command(bin("git-agent"), &env.repo())
        .args(["ls", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        v
    );
}

#[test]
fn list_reports_a_worktree_deleted_by_hand() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    std::fs::remove_dir_all(env.agent_dir("a")).unwrap();
    let v = list_json(&env);
    let problems = v["agents"][0]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("directory is missing")),
        "{v}"
    );
}

#[test]
fn exec_runs_in_the_agent_directory_with_its_environment_and_exit_code() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let run = env.agent(
        "exec",
        &[
            "a",
            "--",
            "sh",
            "-c",
            "pwd; echo $GIT_AGENT $GIT_AGENT_PORT; exit 7",
        ],
    );
    assert_eq!(run.code, 7, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], env.agent_dir("a").display().to_string());
    let port: u16 = lines[1].strip_prefix("a ").unwrap().parse().unwrap();
    assert!((20000..30000).contains(&port));
    // The port is stable.
    let again = env.agent("exec", &["a", "--", "sh", "-c", "echo $GIT_AGENT_PORT"]);
    assert_eq!(again.stdout.trim(), port.to_string());
    // A missing program is reported like a shell does.
    let run = env.agent("exec", &["a", "--", "no-such-program-xyz"]);
    assert_eq!(run.code, 127, "{run:?}");
    let run = env.agent("exec", &["nobody", "--", "true"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("unknown agent 'nobody'"), "{run:?}");
}

/// Ctrl-C on the terminal reaches the whole foreground process group, the
/// command included: `exec` must not pass it on a second time.
#[test]
fn exec_passes_ctrl_c_on_once() {
    let Some(script) = require_tool("script") else {
        return;
    };
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.root.join("signals");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    let command = format!(
        "exec {} exec a -- sh -c 'trap \"echo INT >> {d}/count\" INT; touch {d}/ready; while [ ! -f {d}/done ]; do sleep 0.05; done'",
        bin("git-agent").display()
    );
    let mut cmd = env.command(&script, &env.repo());
    cmd.args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let wait_for = |p: &std::path::Path| {
        for _ in 0..400 {
            if p.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("{} never appeared", p.display());
    };
    wait_for(&dir.join("ready"));
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"\x03").unwrap();
    wait_for(&dir.join("count"));
    // Time for a second, forwarded SIGINT to arrive if one is coming.
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::write(dir.join("done"), "").unwrap();
    drop(stdin);
    child.wait().unwrap();
    let count = std::fs::read_to_string(dir.join("count")).unwrap();
    assert_eq!(
        count,
        "INT\n",
        "the command got SIGINT {} times",
        count.lines().count()
    );
}

#[test]
fn a_second_exec_is_refused_while_the_first_holds_the_lease() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let marker = env.root.join("started");
    let mut first = env
        .command(bin("git-agent-exec"), &env.repo())
        .args([
            "a",
            "--",
            "sh",
            "-c",
            &format!("touch {}; sleep 30", marker.display()),
        ])
        .spawn()
        .unwrap();
    while !marker.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let run = env.agent("exec", &["a", "--", "true"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("pid {} holds its lease", first.id())),
        "{run:?}"
    );
    assert!(run.stderr.contains("sh -c touch"), "{run:?}");
    // list shows the holder, rm refuses.
    let v = list_json(&env);
    assert_eq!(v["agents"][0]["lease"]["pid"], first.id());
    let run = env.agent("rm", &["a", "--force"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is in use"), "{run:?}");

    // SIGTERM to exec reaches the command; its status comes back.
    unsafe {
        libc::kill(first.id() as i32, libc::SIGTERM);
    }
    let status = first.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status:?}");
    // The lease is free again.
    env.ok(env.agent("exec", &["a", "--", "true"]));
}

#[test]
fn a_lease_left_by_a_dead_process_is_taken_over() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let lease = env.write_lease("a", dead_pid(), "crashed");
    env.ok(env.agent("exec", &["a", "--", "true"]));
    assert!(!lease.exists());
}

#[test]
fn rm_removes_a_clean_landed_agent() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let run = env.ok(env.agent("rm", &["a"]));
    assert!(run.stdout.contains("removed agent 'a'"), "{run:?}");
    assert!(!env.agent_dir("a").exists());
    assert_eq!(env.git(&["branch", "--list", "agent/a"]), "");
    assert_eq!(env.git(&["worktree", "list"]).lines().count(), 1);
    assert_eq!(env.git(&["for-each-ref", "refs/agent-archive/"]), "");
    env.git(&["fsck"]);
}

#[test]
fn rm_refuses_unlanded_commits_and_dirty_files_and_changes_nothing() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "work\n");
    env.git_in(&dir, &["commit", "-q", "-am", "unlanded work"]);
    let before = env.state();
    let run = env.agent("rm", &["a"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("1 commit(s) on agent/a are not in main"),
        "{run:?}"
    );
    assert!(run.stderr.contains("unlanded work"), "{run:?}");
    assert!(run.stderr.contains("git agent rm a --force"), "{run:?}");
    assert_eq!(before, env.state());

    let env = Env::new();
    env.ok(env.agent("add", &["b", "--scope", "docs/"]));
    let dir = env.agent_dir("b");
    write_in(&dir, "notes.txt", "untracked\n");
    let before = env.state();
    let run = env.agent("rm", &["b"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("1 untracked file(s)"), "{run:?}");
    assert!(run.stderr.contains("notes.txt"), "{run:?}");
    assert_eq!(before, env.state());
    assert!(dir.join("notes.txt").exists());
}

#[test]
fn rm_sees_work_landed_by_squash_or_rebase() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "work\n");
    env.git_in(&dir, &["commit", "-q", "-am", "one"]);
    write_in(&dir, "docs/more.md", "more\n");
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "-m", "two"]);
    // Squash-land by hand on main.
    env.git(&["merge", "-q", "--squash", "agent/a"]);
    env.git(&["commit", "-q", "-m", "Squashed a"]);
    let run = env.ok(env.agent("rm", &["a"]));
    assert!(!run.stdout.contains("archived"), "{run:?}");
    assert_eq!(env.git(&["for-each-ref", "refs/agent-archive/"]), "");
}

#[test]
fn rm_force_archives_then_restore_brings_everything_back() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/", "--task", "write docs"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "committed\n");
    env.git_in(&dir, &["commit", "-q", "-am", "unlanded"]);
    let tip = env.git(&["rev-parse", "agent/a"]);
    write_in(&dir, "docs/guide.md", "staged\n");
    env.git_in(&dir, &["add", "docs/guide.md"]);
    write_in(&dir, "docs/guide.md", "worktree\n");
    write_in(&dir, "README.md", "unstaged\n");
    write_in(&dir, "scratch/notes.txt", "untracked\n");
    std::fs::remove_file(dir.join("Cargo.lock")).unwrap();
    let status_before = env.git_in(&dir, &["status", "--porcelain", "--untracked-files=all"]);

    let run = env.ok(env.agent("rm", &["a", "--force"]));
    assert!(!dir.exists());
    assert_eq!(env.git(&["branch", "--list", "agent/a"]), "");
    let archive = env.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/agent-archive/a/",
    ]);
    let archive = archive.trim();
    assert!(archive.starts_with("refs/agent-archive/a/20"), "{archive}");
    assert!(
        run.stdout.contains(&format!(
            "restore it with: git agent restore a --archive {archive}"
        )),
        "{run:?}"
    );
    assert_eq!(env.git(&["rev-parse", &format!("{archive}^1")]), tip);
    env.git(&["fsck"]);

    let run = env.ok(env.agent("restore", &["a"]));
    assert_eq!(run.stdout.trim(), dir.display().to_string());
    assert_eq!(env.git(&["rev-parse", "agent/a"]), tip);
    assert_eq!(
        env.git_in(&dir, &["status", "--porcelain", "--untracked-files=all"]),
        status_before
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/guide.md")).unwrap(),
        "worktree\n"
    );
    assert_eq!(env.git_in(&dir, &["show", ":docs/guide.md"]), "staged\n");
    let v = list_json(&env);
    assert_eq!(v["agents"][0]["task"], "write docs");
    env.git(&["fsck"]);
}

#[test]
fn rm_and_restore_bad_input() {
    let env = Env::new();
    let before = env.state();
    let run = env.agent("rm", &["ghost"]);
    assert_bad_input(&env, &before, &run, &["unknown agent 'ghost'"]);
    let run = env.agent("restore", &["ghost"]);
    assert_bad_input(&env, &before, &run, &["agent 'ghost' has no archive"]);
    let run = env.agent("restore", &["ghost", "--archive", "refs/heads/main"]);
    assert_bad_input(&env, &before, &run, &["is not a git-agent archive"]);
}

#[test]
fn rm_refuses_from_inside_the_agent_worktree() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let before = env.state();
    let run = env.agent_in(&env.agent_dir("a").join("docs"), "rm", &["a"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("refusing to remove agent 'a' from inside agent 'a''s context (its worktree"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn rm_json_reports_the_refusal_the_archive_and_the_removal() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/guide.md", "work\n");
    env.git_in(&dir, &["commit", "-q", "-am", "unlanded work"]);
    let tip = env.git(&["rev-parse", "agent/a"]).trim().to_owned();
    write_in(&dir, "notes.txt", "untracked\n");
    let before = env.state();

    let run = env.agent("rm", &["a", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr, "", "the refusal is in the JSON only");
    let v = json_of(&run);
    assert_eq!(v["agent"], "a");
    assert_eq!(v["branch"], "agent/a");
    assert_eq!(v["path"], dir.display().to_string());
    assert_eq!(v["removed"], false);
    assert_eq!(
        v["unlanded"],
        serde_json::json!([{"commit": tip, "summary": "unlanded work"}])
    );
    assert_eq!(v["uncommitted"], serde_json::json!([]));
    assert_eq!(v["untracked"], serde_json::json!(["notes.txt"]));
    assert_eq!(v["archive"], serde_json::Value::Null);
    assert_eq!(v["refusal"]["reason"], "work_would_be_lost");
    assert_eq!(v["refusal"]["paths"], serde_json::json!(["notes.txt"]));
    assert!(
        v["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("git agent rm a --force"),
        "{v}"
    );
    assert_eq!(before, env.state());

    let run = env.ok(env.agent("rm", &["a", "--force", "--json"]));
    let v = json_of(&run);
    assert_eq!(v["removed"], true);
    assert_eq!(v["refusal"], serde_json::Value::Null);
    assert_eq!(v["unlanded"][0]["commit"], tip.as_str());
    assert_eq!(v["untracked"], serde_json::json!(["notes.txt"]));
    let archive = env.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/agent-archive/a/",
    ]);
    assert_eq!(v["archive"], archive.trim());
    assert_eq!(
        v["restore"],
        format!("git agent restore a --archive {}", archive.trim())
    );
    assert!(!dir.exists());

    // A clean agent goes without an archive.
    env.ok(env.agent("add", &["b", "--scope", "docs/"]));
    let v = json_of(&env.ok(env.agent("rm", &["b", "--json"])));
    assert_eq!(v["removed"], true);
    assert_eq!(v["unlanded"], serde_json::json!([]));
    assert_eq!(v["archive"], serde_json::Value::Null);
    assert_eq!(v["restore"], serde_json::Value::Null);

    // Bad input is a diagnostic on stderr, and no JSON.
    let before = env.state();
    let run = env.agent("rm", &["ghost", "--json"]);
    assert_bad_input(&env, &before, &run, &["unknown agent 'ghost'"]);
    assert_eq!(run.stdout, "");
}

#[test]
fn rm_json_names_the_exec_holding_the_lease() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let lease = env.write_lease("a", std::process::id(), "npm run dev");
    let run = env.agent("rm", &["a", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["removed"], false);
    assert_eq!(v["refusal"]["reason"], "in_use");
    assert!(
        v["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("npm run dev"),
        "{v}"
    );
    std::fs::remove_file(lease).unwrap();
    env.ok(env.agent("rm", &["a"]));
}
