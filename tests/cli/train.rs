//! Landing trains: `git agent land A B C…` and `land --all`.

use crate::support::*;

/// Each agent `tN` may write `src/tN/`, and all may write `shared/`. The
/// check fails when any `BROKEN` file is in the tree, and counts its runs
/// in `$COUNT` outside the repository (so the sandbox is off).
fn policy(count: &std::path::Path) -> String {
    format!(
        "version: 1\nchecks_sandbox: false\nchecks: [\"echo run >> {} && test -z \\\"$(find src -name BROKEN)\\\"\"]\n",
        count.display()
    )
}

/// An environment with agents `t0`..`t{n-1}`, each with one commit adding
/// `src/tN/f.txt`; those in `broken` also add `src/tN/BROKEN`.
fn with_agents(n: usize, broken: &[usize]) -> Env {
    let env = Env::new();
    env.commit_policy(&policy(&env.root.join("count")));
    env.ok(env.agent("hooks", &["install"]));
    for i in 0..n {
        let name = format!("t{i}");
        env.ok(env.agent(
            "add",
            &[
                &name,
                "--scope",
                &format!("src/{name}/"),
                "--scope",
                "shared/",
            ],
        ));
        let dir = env.agent_dir(&name);
        write_in(&dir, &format!("src/{name}/f.txt"), &format!("{name}\n"));
        if broken.contains(&i) {
            write_in(&dir, &format!("src/{name}/BROKEN"), "x\n");
        }
        env.git_in(&dir, &["add", "."]);
        env.git_in(&dir, &["commit", "-q", "-m", &format!("Work of {name}")]);
    }
    env
}

fn rev(env: &Env, what: &str) -> String {
    env.git(&["rev-parse", what]).trim().to_owned()
}

fn check_runs_counted(env: &Env) -> usize {
    std::fs::read_to_string(env.root.join("count"))
        .unwrap_or_default()
        .lines()
        .count()
}

fn verdict<'a>(json: &'a serde_json::Value, agent: &str) -> &'a serde_json::Value {
    json["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["agent"] == agent)
        .unwrap_or_else(|| panic!("no {agent} in {json}"))
}

/// The agents the receipts of the base's first-parent history name, from
/// `old` (exclusive) to the tip, oldest first.
fn landed_agents(env: &Env, old: &str) -> Vec<String> {
    env.git(&[
        "log",
        "--first-parent",
        "--reverse",
        "--format=%(trailers:key=Agent,valueonly)",
        &format!("{old}..main"),
    ])
    .lines()
    .filter(|l| !l.is_empty())
    .map(str::to_owned)
    .collect()
}

#[test]
fn a_train_merges_each_agent_with_its_receipt_and_moves_the_base_once() {
    let env = with_agents(3, &[]);
    let old = rev(&env, "main");
    let reflog_before = env.git(&["reflog", "main"]).lines().count();
    let run = env.ok(env.agent("land", &["t2", "t0", "t1", "--order", "given", "--json"]));
    let json = json_of(&run);
    assert_eq!(json["check_runs"], 1, "{json}");
    assert_eq!(check_runs_counted(&env), 1);
    assert_eq!(json["order"], serde_json::json!(["t2", "t0", "t1"]));
    assert_eq!(json["base_old"], old);
    assert_eq!(json["base_new"], rev(&env, "main"));
    // One merge per agent, in order, each with its own receipt.
    assert_eq!(landed_agents(&env, &old), ["t2", "t0", "t1"]);
    for (i, name) in ["t2", "t0", "t1"].iter().enumerate() {
        let car = verdict(&json, name);
        assert_eq!(car["verdict"], "landed", "{json}");
        let commit = rev(&env, &format!("main~{}", 2 - i));
        assert_eq!(car["commit"], commit);
        assert_eq!(
            rev(&env, &format!("{commit}^2")),
            rev(&env, &format!("agent/{name}"))
        );
        let receipt = car["receipt"].as_array().unwrap();
        assert!(
            receipt.contains(&serde_json::json!(format!("Agent: {name}"))),
            "{car}"
        );
        let msg = env.git(&["log", "-1", "--format=%B", &commit]);
        assert!(msg.contains("Agent-Checks: echo run"), "{msg}");
        assert!(msg.contains("(passed)"), "{msg}");
    }
    // The base moved once: one reflog entry, and the checked-out base
    // followed.
    assert_eq!(
        env.git(&["reflog", "main"]).lines().count(),
        reflog_before + 1
    );
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    assert!(env.repo().join("src/t1/f.txt").is_file());
    // audit verifies every receipt of the train.
    let audit = json_of(&env.ok(env.agent("audit", &["--json"])));
    assert_eq!(audit["counts"]["landed"], 3, "{audit}");
    assert_eq!(audit["counts"]["suspicious"], 0, "{audit}");
    env.git(&["fsck", "--no-progress"]);
}

#[test]
fn a_broken_agent_is_bisected_out_in_few_check_runs() {
    let env = with_agents(16, &[9]);
    let old = rev(&env, "main");
    let names: Vec<String> = (0..16).map(|i| format!("t{i}")).collect();
    let mut args: Vec<&str> = names.iter().map(String::as_str).collect();
    args.extend(["--order", "given", "--json"]);
    let run = env.agent("land", &args);
    assert_eq!(run.code, 1, "{run:?}");
    let json = json_of(&run);
    // 1 + 2·⌈log₂ 16⌉ at most; the prefix search needs 1 + 4.
    let runs = json["check_runs"].as_u64().unwrap();
    assert!(runs <= 9, "{json}");
    assert_eq!(runs as usize, check_runs_counted(&env));
    assert_eq!(verdict(&json, "t9")["verdict"], "left_out");
    assert_eq!(verdict(&json, "t9")["reason"], "check_failed");
    assert!(
        verdict(&json, "t9")["failed_check"]
            .as_str()
            .unwrap()
            .starts_with("echo run")
    );
    for i in 0..9 {
        assert_eq!(
            verdict(&json, &format!("t{i}"))["verdict"],
            "landed",
            "{json}"
        );
    }
    for i in 10..16 {
        let car = verdict(&json, &format!("t{i}"));
        assert_eq!(car["verdict"], "left_out", "{json}");
        assert_eq!(car["reason"], "behind_failure", "{json}");
    }
    // The largest passing prefix landed, and only it.
    let prefix: Vec<String> = (0..9).map(|i| format!("t{i}")).collect();
    assert_eq!(landed_agents(&env, &old), prefix);
    assert!(!env.repo().join("src/t9/BROKEN").exists());

    // --keep-going lands the rest past the breaker.
    std::fs::remove_file(env.root.join("count")).unwrap();
    let mid = rev(&env, "main");
    let mut args: Vec<&str> = names[9..].iter().map(String::as_str).collect();
    args.extend(["--order", "given", "--json", "--keep-going"]);
    let json = json_of(&env.agent("land", &args));
    let runs = json["check_runs"].as_u64().unwrap();
    assert!(runs <= 1 + 2 * 3, "{json}");
    assert_eq!(runs as usize, check_runs_counted(&env));
    assert_eq!(verdict(&json, "t9")["reason"], "check_failed", "{json}");
    let rest: Vec<String> = (10..16).map(|i| format!("t{i}")).collect();
    assert_eq!(landed_agents(&env, &mid), rest);
    let audit = json_of(&env.ok(env.agent("audit", &["--json"])));
    assert_eq!(audit["counts"]["landed"], 15, "{audit}");
}

#[test]
fn conflicts_leave_an_agent_out_and_gates_refuse_as_alone() {
    let env = with_agents(4, &[]);
    // t0 and t1 change the same new file differently: whichever comes
    // second is left out. t2 conflicts with the base itself: refused.
    for (name, text) in [("t0", "zero\n"), ("t1", "one\n")] {
        let dir = env.agent_dir(name);
        write_in(&dir, "shared/x.txt", text);
        env.git_in(&dir, &["add", "."]);
        env.git_in(&dir, &["commit", "-q", "-m", "Shared"]);
    }
    let dir = env.agent_dir("t2");
    write_in(&dir, "shared/y.txt", "two\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Shared y"]);
    env.write("shared/y.txt", "base\n");
    env.git(&["add", "."]);
    env.git(&["commit", "-q", "--no-verify", "-m", "Base y"]);
    // t3 has uncommitted work.
    write_in(&env.agent_dir("t3"), "src/t3/f.txt", "dirty\n");
    let old = rev(&env, "main");

    let run = env.agent(
        "land",
        &[
            "t0", "t1", "t2", "t3", "--order", "given", "--json", "--remove",
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let json = json_of(&run);
    assert_eq!(verdict(&json, "t0")["verdict"], "landed", "{json}");
    let t1 = verdict(&json, "t1");
    assert_eq!(t1["verdict"], "left_out", "{json}");
    assert_eq!(t1["reason"], "conflict");
    assert_eq!(t1["conflicts"], serde_json::json!(["shared/x.txt"]));
    assert_eq!(verdict(&json, "t2")["verdict"], "refused");
    assert_eq!(verdict(&json, "t2")["reason"], "conflict");
    assert_eq!(verdict(&json, "t3")["verdict"], "refused");
    assert_eq!(verdict(&json, "t3")["reason"], "uncommitted");
    assert_eq!(json["check_runs"], 1);
    assert_eq!(landed_agents(&env, &old), ["t0"]);
    // --remove removed the agent that landed, and only it.
    assert_eq!(verdict(&json, "t0")["removal"]["removed"], true, "{json}");
    assert!(!env.agent_dir("t0").exists());
    assert_eq!(verdict(&json, "t1")["removal"], serde_json::Value::Null);
    assert!(env.agent_dir("t1").exists());

    // The text names each verdict.
    let env = with_agents(2, &[]);
    let run = env.ok(env.agent("land", &["t0", "t1", "--no-checks"]));
    assert!(run.stdout.contains("landed 't0' (1 commit)"), "{run:?}");
    assert!(
        run.stdout.contains(
            "train on main (merge): 2 landed, 0 left out, 0 refused; no checks ran; main moved"
        ),
        "{run:?}"
    );
}

#[test]
fn a_dry_run_reports_verdicts_and_changes_nothing() {
    let env = with_agents(2, &[1]);
    let before = env.state();
    let run = env.ok(env.agent("land", &["--all", "--dry-run", "--json"]));
    let json = json_of(&run);
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["check_runs"], 0);
    assert_eq!(json["base_new"], serde_json::Value::Null);
    for name in ["t0", "t1"] {
        let car = verdict(&json, name);
        assert_eq!(car["verdict"], "would_land", "{json}");
        assert!(
            car["receipt"][0].as_str().unwrap().starts_with("Agent: "),
            "{json}"
        );
    }
    assert_eq!(before, env.state());
    assert_eq!(check_runs_counted(&env), 0);
}

#[test]
fn squash_trains_land_one_commit_per_agent_and_the_branches_follow() {
    let env = with_agents(2, &[]);
    let old = rev(&env, "main");
    let run = env.ok(env.agent(
        "land",
        &["--all", "--strategy", "squash", "--no-checks", "--json"],
    ));
    let json = json_of(&run);
    assert_eq!(json["strategy"], "squash");
    assert_eq!(landed_agents(&env, &old).len(), 2);
    assert_eq!(
        env.git(&["rev-list", "--count", &format!("{old}..main")])
            .trim(),
        "2"
    );
    for name in ["t0", "t1"] {
        let car = verdict(&json, name);
        assert_eq!(car["verdict"], "landed");
        // Each branch and its worktree follow its own squash commit.
        let landed = car["commit"].as_str().unwrap();
        assert_eq!(rev(&env, &format!("agent/{name}")), landed);
        assert_eq!(
            env.git(&["log", "-1", "--format=%P", landed])
                .split_whitespace()
                .count(),
            1
        );
        assert_eq!(
            env.git_in(&env.agent_dir(name), &["status", "--porcelain"]),
            ""
        );
        assert_eq!(
            env.git_in(&env.agent_dir(name), &["rev-parse", "HEAD"])
                .trim(),
            landed
        );
    }
    // Nothing is left to land.
    let run = env.ok(env.agent("land", &["--all"]));
    assert!(
        run.stderr.contains("no agent has anything to land"),
        "{run:?}"
    );
}

#[test]
fn bad_trains_are_refused_before_anything_runs() {
    let env = with_agents(2, &[]);
    let before = env.state();
    let run = env.agent("land", &["t0", "nobody"]);
    assert_bad_input(&env, &before, &run, &["nobody"]);
    let run = env.agent("land", &["t0", "t1", "t0"]);
    assert_bad_input(&env, &before, &run, &["'t0' is named twice"]);
    let run = env.agent("land", &["t0", "t1", "--strategy", "ff"]);
    assert_bad_input(&env, &before, &run, &["fast-forward"]);
    let run = env.agent("land", &["t0", "--all"]);
    assert_eq!(run.code, 2, "{run:?}");
    // Agents on different bases cannot share a train.
    env.git(&["branch", "other"]);
    env.ok(env.agent(
        "add",
        &["elsewhere", "--scope", "src/t0/", "--base", "other"],
    ));
    let before = env.state();
    let run = env.agent("land", &["t0", "elsewhere"]);
    assert_bad_input(&env, &before, &run, &["different bases"]);
    assert_eq!(check_runs_counted(&env), 0);
    // Humans orchestrate: from an agent's worktree every agent is refused.
    let run = env.agent_in(&env.agent_dir("t0"), "land", &["t0", "t1", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = json_of(&run);
    assert_eq!(verdict(&json, "t1")["verdict"], "refused");
    assert_eq!(before, env.state());
}

/// The base after a train killed at some moment: its old tip, or the
/// train's final commit (all `n` agents landed), never in between.
fn assert_all_or_nothing(env: &Env, old: &str, n: usize) -> bool {
    env.git(&["fsck", "--no-progress", "--no-dangling"]);
    let landed = landed_agents(env, old);
    assert!(landed.is_empty() || landed.len() == n, "{landed:?}");
    !landed.is_empty()
}

#[test]
fn a_killed_train_leaves_the_base_old_or_final() {
    let env = Env::new();
    // The check signals that it runs, then waits for the test's word.
    let go = env.root.join("go");
    let started = env.root.join("started");
    env.commit_policy(&format!(
        "version: 1\nchecks_sandbox: false\nchecks: [\"touch {} && while ! test -e {}; do sleep 0.01; done\"]\n",
        started.display(),
        go.display()
    ));
    env.ok(env.agent("hooks", &["install"]));
    for name in ["k0", "k1", "k2"] {
        env.ok(env.agent("add", &[name, "--scope", &format!("src/{name}/")]));
        let dir = env.agent_dir(name);
        write_in(&dir, &format!("src/{name}/f.txt"), "x\n");
        env.git_in(&dir, &["add", "."]);
        env.git_in(&dir, &["commit", "-q", "-m", name]);
    }
    let old = rev(&env, "main");
    // Killed during the checks, then right after them, around the base's
    // move, at a few delays.
    for delay_ms in [
        None,
        Some(0),
        Some(2),
        Some(5),
        Some(10),
        Some(20),
        Some(40),
    ] {
        let _ = std::fs::remove_file(&go);
        let _ = std::fs::remove_file(&started);
        let mut child = env
            .command(bin("git-agent-land"), &env.repo())
            .args(["k0", "k1", "k2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        while !started.exists() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        if let Some(ms) = delay_ms {
            std::fs::write(&go, "").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let _ = std::fs::write(&go, "");
        if delay_ms.is_none() {
            assert_eq!(rev(&env, "main"), old, "killed during the checks");
        }
        assert_all_or_nothing(&env, &old, 3);
        // Back to the old tip for the next round. A `git merge --ff-only`
        // killed while it updated the checked-out base leaves its lock, and
        // the files it had written (untracked, the base not moved).
        let _ = std::fs::remove_file(env.repo().join(".git/index.lock"));
        env.git(&["reset", "-q", "--hard", &old]);
        env.git(&["clean", "-q", "-f", "-d", "src"]);
    }
    // Unkilled, it lands.
    std::fs::write(&go, "").unwrap();
    env.ok(env.agent("land", &["k0", "k1", "k2"]));
    assert!(assert_all_or_nothing(&env, &old, 3));
}

#[test]
fn a_proposer_in_a_train_lands_only_when_accepted() {
    let env = with_agents(1, &[]);
    env.ok(env.agent("add", &["p", "--scope", "src/p/", "--role", "proposer"]));
    let dir = env.agent_dir("p");
    write_in(&dir, "src/p/idea.txt", "idea\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Idea"]);
    let run = env.agent("land", &["t0", "p", "--no-checks", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = json_of(&run);
    assert_eq!(verdict(&json, "t0")["verdict"], "landed", "{json}");
    assert_eq!(verdict(&json, "p")["reason"], "proposer", "{json}");
    // Its diff stat is shown on stderr, stdout holding the JSON.
    assert!(run.stderr.contains("src/p/idea.txt"), "{run:?}");
    let json = json_of(&env.ok(env.agent("land", &["--all", "--accept", "--no-checks", "--json"])));
    assert_eq!(json["agents"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(verdict(&json, "p")["verdict"], "landed", "{json}");
}
