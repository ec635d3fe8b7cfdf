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

/// Writers that all find a lock left by a dead process: each takes its
/// turn, and no change is lost (two taking the stale lock over at once
/// would each write the registry they read).
#[test]
fn writers_racing_over_a_dead_owners_lock_take_turns() {
    let env = Env::new();
    let names: Vec<String> = (0..6).map(|i| format!("a{i}")).collect();
    for name in &names {
        env.ok(env.agent("add", &[name, "--scope", "docs/"]));
    }
    let lock = env.repo().join(".git/git-agent/agents.json.lock");
    for round in 0..4 {
        std::fs::write(&lock, dead_pid().to_string()).unwrap();
        let children: Vec<_> = names
            .iter()
            .map(|name| {
                env.command(bin("git-agent-scope"), &env.repo())
                    .args(["add", name, &format!("round{round}/")])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
    }
    let registry: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.repo().join(".git/git-agent/agents.json")).unwrap(),
    )
    .unwrap();
    for name in &names {
        assert_eq!(
            registry["agents"][name]["scope"],
            serde_json::json!(["docs/", "round0/", "round1/", "round2/", "round3/"]),
            "{name}: {registry}"
        );
    }
}

/// A lock is held by a process, not named by a file: a lock file left by
/// a killed command whose pid now belongs to another live process (here,
/// this test) is not in the way, and a real holder is waited for.
#[test]
fn a_lock_file_naming_a_live_pid_that_holds_nothing_is_not_in_the_way() {
    let env = Env::new();
    let lock = env.repo().join(".git/git-agent/agents.json.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, std::process::id().to_string()).unwrap();
    let run = Run::from_output(
        env.command(bin("git-agent-add"), &env.repo())
            .env("GIT_AGENT_LOCK_TIMEOUT_MS", "300")
            .args(["a", "--scope", "docs/"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    // The same for the land and worktree locks: a landing takes both.
    for name in ["land-main.lock", "worktrees.lock"] {
        std::fs::write(lock.with_file_name(name), std::process::id().to_string()).unwrap();
    }
    let dir = env.agent_dir("a");
    write_in(&dir, "docs/new.md", "new\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "New"]);
    let run = Run::from_output(
        env.command(bin("git-agent-land"), &env.repo())
            .env("GIT_AGENT_LOCK_TIMEOUT_MS", "300")
            .args(["a", "--strategy", "squash"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
}

/// An agent may be named `base`: it is never taken for the base of another
/// agent's pair, in the JSON, the table or `list`'s count.
#[test]
fn an_agent_named_base_is_not_the_base_in_conflicts() {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["base", "--scope", "README.md"]));
    env.ok(env.agent("add", &["c", "--scope", "docs/"]));
    for (agent, path, text) in [
        ("base", "README.md", "# base's shop\n"),
        ("c", "docs/guide.md", "# c's guide\n"),
    ] {
        let dir = env.agent_dir(agent);
        write_in(&dir, path, text);
        env.git_in(&dir, &["commit", "-q", "--no-verify", "-am", "work"]);
    }
    env.write("docs/guide.md", "# the base's guide\n");
    env.git(&["commit", "-q", "-am", "Base edits the guide"]);

    let run = env.agent("conflicts", &["--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], 2);
    assert_eq!(
        v["pairs"],
        serde_json::json!([{"left": null, "right": "c", "files": ["docs/guide.md"]}])
    );
    assert_eq!(v["order"], serde_json::json!(["base", "c"]));

    let run = env.agent("conflicts", &[]);
    let row = |name: &str| -> Vec<String> {
        let line = run
            .stdout
            .lines()
            // After the title and the header.
            .skip(2)
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name}: {run:?}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    // Columns: name, the agent's base, then the agents base and c.
    assert_eq!(row("base"), ["base", "·", "-", "·"], "{run:?}");
    assert_eq!(row("c"), ["c", "1", "·", "-"], "{run:?}");
    assert!(
        run.stdout.contains("c × its base: docs/guide.md"),
        "{run:?}"
    );

    let list: serde_json::Value =
        serde_json::from_str(&env.agent("list", &["--json"]).stdout).unwrap();
    let conflicts: Vec<(String, serde_json::Value)> = list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["conflicts"].clone(),
            )
        })
        .collect();
    assert_eq!(
        conflicts,
        [("base".to_owned(), 0.into()), ("c".to_owned(), 1.into())],
        "{list}"
    );
}

/// The overlaps cache is keyed by a SHA-1 of what the overlaps depend on,
/// computed the documented way, so another process (or another build)
/// finds the entry: here a planted entry is what the next run reports.
#[test]
fn the_overlaps_cache_key_is_stable_and_reused_by_another_process() {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["a", "--scope", "src/"]));
    env.ok(env.agent("add", &["b", "--scope", "src/billing/", "--scope", "docs/"]));
    env.agent("conflicts", &["--json"]);
    let path = env.repo().join(".git/git-agent/conflicts-cache.json");
    let mut cache: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();

    let mut input = Vec::new();
    let mut field = |bytes: &[u8]| {
        input.extend_from_slice(format!("{}:", bytes.len()).as_bytes());
        input.extend_from_slice(bytes);
    };
    let tree = rev(&env, "main^{tree}");
    for f in [
        "ignore-case",
        "0",
        "tree",
        &tree,
        "agent",
        "a",
        "scope",
        "src/",
        "agent",
        "b",
        "scope",
        "src/billing/",
        "scope",
        "docs/",
    ] {
        field(f.as_bytes());
    }
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    hasher.update(&input);
    let key = hasher.try_finalize().unwrap().to_string();
    let overlaps = cache["overlaps"].as_object().unwrap();
    assert_eq!(
        overlaps.keys().collect::<Vec<_>>(),
        [&key],
        "{}",
        serde_json::to_string_pretty(&cache).unwrap()
    );

    cache["overlaps"][&key] = serde_json::json!([
        {"left": "a", "right": "b", "files": 99, "examples": ["planted"]}
    ]);
    std::fs::write(&path, cache.to_string()).unwrap();
    let run = env.agent("conflicts", &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["scope_overlaps"][0]["examples"],
        serde_json::json!(["planted"]),
        "{run:?}"
    );
}

/// `doctor --fix` registers an unregistered `agent/NAME` worktree only when
/// `add` would accept NAME; otherwise it reports it and changes nothing.
#[test]
fn doctor_never_registers_a_name_add_refuses() {
    let env = Env::new();
    for (i, name) in ["a/b", "-x", "has@sign", "_x"].iter().enumerate() {
        let dir = env.root.join(format!("wt{i}"));
        env.git(&[
            "worktree",
            "add",
            "-q",
            "-b",
            &format!("agent/{name}"),
            dir.to_str().unwrap(),
        ]);
        let refused = env.agent("add", &[name, "--scope", "docs/"]);
        assert_eq!(refused.code, 2, "add refuses {name}: {refused:?}");
        let before = env.state();
        let run = env.agent("doctor", &["--fix", "--json"]);
        assert_eq!(run.code, 1, "{name}: {run:?}");
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let problem = &v["problems"][0];
        assert_eq!(problem["kind"], "invalid_name", "{name}: {v}");
        assert_eq!(problem["agent"], *name, "{v}");
        assert_eq!(problem["fixed"], false, "{v}");
        assert_eq!(before, env.state(), "{name}: nothing registered");
        env.git(&["worktree", "remove", dir.to_str().unwrap()]);
        env.git(&["branch", "-D", &format!("agent/{name}")]);
    }
}

/// `copy:` entries are joined to the main worktree's root to read and the
/// new worktree's root to write: one that is absolute or climbs with `..`
/// would reach outside both. Each is refused where it stands, exit 2.
#[test]
fn copy_entries_that_leave_the_worktree_are_refused_in_place() {
    let env = Env::new();
    std::fs::write(env.root.join("secret.txt"), "outside\n").unwrap();
    let outside = env.root.join("secret.txt");
    for (entry, why) in [
        ("../secret.txt", "it climbs out of the worktree with '..'"),
        (
            "docs/../../secret.txt",
            "it climbs out of the worktree with '..'",
        ),
        ("..", "it climbs out of the worktree with '..'"),
        (outside.to_str().unwrap(), "it is an absolute path"),
    ] {
        env.commit_policy(&format!("version: 1\ncopy:\n  - .env\n  - \"{entry}\"\n"));
        let before = env.state();
        let run = env.agent("add", &["a", "--scope", "docs/"]);
        assert_bad_input(
            &env,
            &before,
            &run,
            &[
                &format!(".git-agent.yaml on main:4:5: bad copy entry '{entry}': {why}"),
                "this entry",
            ],
        );
        assert!(!env.root.join("repo.agents/secret.txt").exists());
    }
}

/// After a squash landing the agent's branch and worktree follow the
/// landed commit, but not while a live process holds the agent's lease
/// (an `exec` running in that directory): the landing stands and says so.
#[test]
fn land_moves_the_agents_worktree_only_under_its_lease() {
    let env = squashable();
    let dir = env.agent_dir("billing");
    let tip = rev(&env, "agent/billing");
    let mut holder = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let lease = env.write_lease("billing", holder.id(), "claude");
    let run = env.ok(env.agent("land", &["billing", "--strategy", "squash"]));
    assert!(
        run.stderr.contains(&format!(
            "pid {} holds its lease, running `claude` in it",
            holder.id()
        )),
        "{run:?}"
    );
    assert_eq!(rev(&env, "agent/billing"), tip, "the branch stayed");
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    assert!(lease.exists(), "the holder's lease is left alone");
    holder.kill().unwrap();
    holder.wait().unwrap();

    // With the holder gone, the next landing finds nothing to land, and
    // the lease it took is released.
    let again = env.ok(env.agent("land", &["billing"]));
    assert!(again.stderr.contains("nothing to land"), "{again:?}");
}

/// Without a holder, land takes the lease for the move and releases it.
#[test]
fn land_releases_the_lease_it_took_to_move_the_worktree() {
    let env = squashable();
    env.ok(env.agent("land", &["billing", "--strategy", "squash"]));
    assert_eq!(rev(&env, "agent/billing"), rev(&env, "main"));
    assert!(
        !env.repo()
            .join(".git/git-agent/leases/billing.json")
            .exists()
    );
}

/// From inside an agent's clone, every command that reads the registry
/// finds the one of the repository the clone belongs to.
#[test]
fn commands_run_in_a_clone_use_the_registry_it_belongs_to() {
    let env = Env::new();
    env.ok(env.agent("add", &["a", "--scope", "docs/", "--clone"]));
    env.ok(env.agent("add", &["b", "--scope", "src/"]));
    let clone = env.agent_dir("a");
    let names = env.ok(env.agent_in(&clone, "list", &["--names"]));
    assert_eq!(names.stdout, "a\nb\n", "{names:?}");
    let doctor = env.ok(env.agent_in(&clone, "doctor", &[]));
    assert_eq!(doctor.stdout, "no problems found\n");
    let exec = env.ok(env.agent_in(&clone, "exec", &["b", "--", "pwd"]));
    assert_eq!(exec.stdout.trim(), env.agent_dir("b").to_str().unwrap());
    // Removing is a person's act: from the agent's clone it is refused
    // (humans orchestrate), and the registry it would act on is untouched.
    assert_eq!(env.agent_in(&clone, "rm", &["b"]).code, 1);
    assert_eq!(env.ok(env.agent("list", &["--names"])).stdout, "a\nb\n");
}
