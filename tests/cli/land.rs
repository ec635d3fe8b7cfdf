//! land and sync.

use crate::support::*;

const POLICY: &str = "version: 1\nareas:\n  billing: [src/billing/]\n  docs: [docs/]\nchecks: [\"test -f README.md\"]\n";

/// An environment with the policy, and agent `billing` with one commit.
fn with_billing_commit() -> Env {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 1 }\n");
    env.git_in(&dir, &["commit", "-q", "-am", "Invoices total one"]);
    env
}

/// `billing` with two commits, and a commit on `main` since it started.
fn with_two_commits_and_the_base_moved() -> Env {
    let env = with_billing_commit();
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/tax.rs", "fn tax() {}\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Tax"]);
    env.write("docs/guide.md", "# Guide, moved on\n");
    env.git(&["commit", "-q", "-am", "Base moves"]);
    env
}

fn rev(env: &Env, what: &str) -> String {
    env.git(&["rev-parse", what]).trim().to_owned()
}

fn message(env: &Env, what: &str) -> String {
    env.git(&["log", "-1", "--format=%B", what])
}

/// Where this machine runs the checks of a policy that leaves the sandbox on.
fn host_containment() -> git_agent::ops::checking::Containment {
    git_agent::ops::checking::Containment::for_policy(&Default::default())
}

fn worktree_count(env: &Env) -> usize {
    env.git(&["worktree", "list", "--porcelain"])
        .lines()
        .filter(|l| l.starts_with("worktree "))
        .count()
}

#[test]
fn land_merges_with_receipts_and_updates_the_checked_out_base() {
    let env = with_billing_commit();
    let policy_blob = rev(&env, "main:.git-agent.yaml");
    let base_before = rev(&env, "main");
    let branch = rev(&env, "agent/billing");
    let run = env.ok(env.agent("land", &["billing"]));
    assert!(
        run.stdout
            .contains("landed agent 'billing' on main (merge, 1 commit)"),
        "{run:?}"
    );
    assert!(run.stderr.contains("check: test -f README.md"), "{run:?}");

    let parents = env.git(&["log", "-1", "--format=%P", "main"]);
    assert_eq!(parents.trim(), format!("{base_before} {branch}"));
    let msg = message(&env, "main");
    assert!(
        msg.starts_with("Land agent 'billing' (agent/billing) into main"),
        "{msg}"
    );
    assert!(msg.contains("\nAgent: billing\n"), "{msg}");
    assert!(
        msg.contains(&format!("\nAgent-Policy: {policy_blob}\n")),
        "{msg}"
    );
    assert!(
        msg.contains("\nAgent-Checks: test -f README.md (passed)\n"),
        "{msg}"
    );
    // The main worktree, where main is checked out, moved with it.
    assert_eq!(
        std::fs::read_to_string(env.repo().join("src/billing/invoice.rs")).unwrap(),
        "fn total() -> u32 { 1 }\n"
    );
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    // The checks ran in the base's checks worktree, which stays for the
    // next landing, detached at what was checked.
    assert_eq!(worktree_count(&env), 3);
    let checks = env.repo().join(".git/git-agent/checks/main.0");
    assert_eq!(
        env.git_in(&checks, &["rev-parse", "HEAD"]).trim(),
        rev(&env, "main")
    );
    let reflog = env.git(&["reflog", "-1", "--format=%gs", "main"]);
    assert!(reflog.contains("git-agent land billing"), "{reflog}");
    // Landed: rm needs no --force now.
    env.ok(env.agent("rm", &["billing"]));
}

#[test]
fn squash_lands_one_commit_and_moves_the_agent_on() {
    let env = with_two_commits_and_the_base_moved();
    let dir = env.agent_dir("billing");
    let base_before = rev(&env, "main");

    let run = env.ok(env.agent("land", &["billing", "--strategy", "squash", "--no-checks"]));
    assert!(run.stdout.contains("(squash, 2 commits)"), "{run:?}");
    assert_eq!(rev(&env, "main^"), base_before);
    assert_eq!(
        env.git(&["log", "-1", "--format=%P", "main"]).trim(),
        base_before
    );
    let msg = message(&env, "main");
    assert!(msg.contains("* Invoices total one\n* Tax\n"), "{msg}");
    assert!(
        msg.contains("Agent-Checks: test -f README.md (skipped)"),
        "{msg}"
    );
    // The agent's branch and worktree follow the landed commit.
    assert_eq!(rev(&env, "agent/billing"), rev(&env, "main"));
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/guide.md")).unwrap(),
        "# Guide, moved on\n"
    );
    // Landing again finds nothing to land.
    let again = env.ok(env.agent("land", &["billing"]));
    assert!(again.stderr.contains("nothing to land"), "{again:?}");
}

#[test]
fn rebase_replays_each_commit_with_receipts() {
    let env = with_two_commits_and_the_base_moved();
    let base_before = rev(&env, "main");

    env.ok(env.agent("land", &["billing", "--strategy", "rebase"]));
    assert_eq!(rev(&env, "main~2"), base_before);
    let subjects = env.git(&["log", "--format=%s", "-2", "main"]);
    assert_eq!(subjects, "Tax\nInvoices total one\n");
    for what in ["main", "main~1"] {
        let msg = message(&env, what);
        assert!(msg.contains("\nAgent: billing\n"), "{what}: {msg}");
        assert!(
            msg.contains("Agent-Checks: test -f README.md (passed)"),
            "{what}: {msg}"
        );
        assert_eq!(
            env.git(&["log", "-1", "--format=%P", what])
                .split(' ')
                .count(),
            1
        );
    }
    assert_eq!(rev(&env, "agent/billing"), rev(&env, "main"));
}

#[test]
fn ff_lands_only_when_possible() {
    let env = with_billing_commit();
    let branch = rev(&env, "agent/billing");
    env.ok(env.agent("land", &["billing", "--strategy", "ff"]));
    assert_eq!(rev(&env, "main"), branch);

    let env = with_billing_commit();
    env.write("docs/guide.md", "moved\n");
    env.git(&["commit", "-q", "-am", "Base moves"]);
    let before = env.state();
    let run = env.agent("land", &["billing", "--strategy", "ff"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("git agent sync billing"), "{run:?}");
    assert_eq!(before, env.state());
}

#[test]
fn dry_run_changes_nothing() {
    let env = with_billing_commit();
    let before = env.state();
    let run = env.ok(env.agent("land", &["billing", "--dry-run"]));
    assert!(
        run.stdout
            .contains("would land agent 'billing' on main (merge, 1 commit)"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("would run checks: test -f README.md"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn land_refuses_and_changes_nothing() {
    // Uncommitted changes in the agent's worktree.
    let env = with_billing_commit();
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "dirty\n");
    let before = env.state();
    let run = env.agent("land", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("uncommitted changes"), "{run:?}");
    assert!(run.stderr.contains("src/billing/invoice.rs"), "{run:?}");
    assert_eq!(before, env.state());

    // A commit made with --no-verify outside the scope.
    let env = with_billing_commit();
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/api/routes.rs", "sneaky\n");
    env.git_in(
        &dir,
        &["commit", "-q", "--no-verify", "-am", "Sneak into api"],
    );
    let before = env.state();
    let run = env.agent("land", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("Sneak into api: src/api/routes.rs"),
        "{run:?}"
    );
    assert_eq!(before, env.state());

    // A conflict with the base: the files are named, nothing is written.
    let env = with_billing_commit();
    env.write("src/billing/invoice.rs", "fn total() -> u32 { 2 }\n");
    env.git(&["commit", "-q", "-am", "Base changes the same line"]);
    let objects_before = env.git(&["count-objects"]);
    let before = env.state();
    let run = env.agent("land", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("conflicts with main in:\n  src/billing/invoice.rs"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
    assert_eq!(
        objects_before,
        env.git(&["count-objects"]),
        "a refused merge wrote objects"
    );

    // A failing check.
    let env = Env::with_policy(
        "version: 1\nareas:\n  billing: [src/billing/]\nchecks: [\"echo checking; exit 3\"]\n",
    );
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    write_in(&env.agent_dir("billing"), "src/billing/x.rs", "x\n");
    env.git_in(&env.agent_dir("billing"), &["add", "."]);
    env.git_in(&env.agent_dir("billing"), &["commit", "-q", "-m", "x"]);
    let before = env.state();
    let run = env.agent("land", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("checking"),
        "the check's output is streamed: {run:?}"
    );
    assert!(
        run.stderr
            .contains("check `echo checking; exit 3` exited with 3"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
    // The agents' worktrees and the checks worktree, kept for the next landing.
    assert_eq!(worktree_count(&env), 3);
}

#[test]
fn humans_orchestrate() {
    let env = with_billing_commit();
    let before = env.state();
    let run = Run::from_output(
        env.command(bin("git-agent-land"), &env.repo())
            .arg("billing")
            .env("GIT_AGENT", "billing")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("GIT_AGENT=billing"), "{run:?}");
    let run = env.agent_in(&env.agent_dir("billing"), "land", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("from inside agent 'billing''s context (its worktree"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn a_proposer_lands_only_when_accepted() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["idea", "--area", "docs", "--role", "proposer"]));
    let dir = env.agent_dir("idea");
    write_in(&dir, "docs/guide.md", "# A better guide\n");
    env.git_in(&dir, &["commit", "-q", "-am", "Propose a guide"]);
    let before = env.state();
    let run = env.agent("land", &["idea"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("docs/guide.md | 2 +-"),
        "the diff stat is shown: {run:?}"
    );
    assert!(
        run.stderr.contains("git agent land idea --accept"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
    let run = env.ok(env.agent("land", &["idea", "--accept"]));
    assert!(run.stdout.contains("docs/guide.md | 2 +-"), "{run:?}");
    assert!(run.stdout.contains("landed agent 'idea'"), "{run:?}");
}

#[test]
fn land_remove_removes_the_agent_after_landing() {
    let env = with_billing_commit();
    env.ok(env.agent("land", &["billing", "--remove"]));
    assert!(!env.agent_dir("billing").exists());
    assert_eq!(env.git(&["branch", "--list", "agent/billing"]), "");
    assert!(
        env.git(&["log", "--format=%s", "main"])
            .contains("Invoices total one"),
        "the work is in main"
    );
}

#[test]
fn clone_agents_land_too() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing", "--clone"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "cloned work\n");
    env.git_in(&dir, &["commit", "-q", "-am", "Work in a clone"]);
    env.ok(env.agent("land", &["billing", "--strategy", "squash"]));
    assert_eq!(
        message(&env, "main").lines().next(),
        Some("Work in a clone")
    );
    assert_eq!(
        std::fs::read_to_string(env.repo().join("src/billing/invoice.rs")).unwrap(),
        "cloned work\n"
    );
    // The clone's branch follows the landed commit.
    assert_eq!(
        env.git_in(&dir, &["rev-parse", "agent/billing"]).trim(),
        rev(&env, "main")
    );
}

#[test]
fn land_bad_input() {
    let env = with_billing_commit();
    let before = env.state();
    let run = env.agent("land", &["biling"]);
    assert_bad_input(&env, &before, &run, &["unknown agent 'biling'", "billing"]);

    // The agent's branch deleted by hand.
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["docs", "--area", "docs"]));
    env.git(&[
        "worktree",
        "remove",
        "--force",
        &env.agent_dir("docs").to_string_lossy(),
    ]);
    env.git(&["branch", "-D", "agent/docs"]);
    let before = env.state();
    let run = env.agent("land", &["docs"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &[
            "branch agent/docs of agent 'docs' does not exist",
            "git agent doctor",
        ],
    );

    // The base deleted since add.
    let env = Env::with_policy(POLICY);
    env.git(&["switch", "-q", "-c", "trunk"]);
    env.ok(env.agent("add", &["docs", "--area", "docs", "--base", "main"]));
    env.git(&["branch", "-D", "main"]);
    let before = env.state();
    let run = env.agent("land", &["docs"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["base 'main' of agent 'docs' does not exist"],
    );

    // A check command that does not exist.
    let env = Env::with_policy(
        "version: 1\nareas:\n  docs: [docs/]\nchecks: [\"no-such-check-tool --all\"]\n",
    );
    env.ok(env.agent("add", &["docs", "--area", "docs"]));
    write_in(&env.agent_dir("docs"), "docs/guide.md", "x\n");
    env.git_in(&env.agent_dir("docs"), &["commit", "-q", "-am", "x"]);
    let before = env.state();
    let run = env.agent("land", &["docs"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &[
            "check `no-such-check-tool --all` could not run: command not found",
            "--no-checks",
        ],
    );

    // The base checked out in a dirty worktree.
    let env = with_billing_commit();
    env.write("README.md", "uncommitted in main\n");
    let before = env.state();
    for args in [&["billing"][..], &["billing", "--no-checks"]] {
        let run = env.agent("land", args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("main is checked out in"), "{run:?}");
        assert!(
            run.stderr.contains("with uncommitted changes: README.md"),
            "{run:?}"
        );
        assert_eq!(before, env.state());
    }
}

#[test]
fn concurrent_landings_lose_nothing() {
    let env = Env::with_policy("version: 1\nchecks: [\"sleep 0.2\"]\n");
    let names = ["a1", "a2", "a3", "a4"];
    for name in names {
        env.ok(env.agent("add", &[name, "--scope", &format!("{name}/")]));
        let dir = env.agent_dir(name);
        write_in(&dir, &format!("{name}/work.txt"), name);
        env.git_in(&dir, &["add", "."]);
        env.git_in(&dir, &["commit", "-q", "-m", &format!("{name} work")]);
    }
    let children: Vec<_> = names
        .iter()
        .map(|name| {
            env.command(bin("git-agent-land"), &env.repo())
                .args([
                    *name,
                    "--strategy",
                    if *name == "a4" { "squash" } else { "merge" },
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Meanwhile a1 goes on committing: that commit is not part of its land.
    let dir = env.agent_dir("a1");
    write_in(&dir, "a1/more.txt", "more");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "a1 more work"]);
    for (name, child) in names.iter().zip(children) {
        let run = Run::from_output(child.wait_with_output().unwrap());
        // a1's land may catch it half-way through its commit, and then
        // refuses cleanly; the others must land.
        let refused_cleanly = *name == "a1"
            && run.code == 1
            && run.stderr.contains("agent 'a1' has uncommitted changes");
        assert!(run.code == 0 || refused_cleanly, "{name}: {run:?}");
    }
    env.ok(env.agent("land", &["a1"]));
    let log = env.git(&["log", "--format=%s", "main"]);
    for name in names {
        assert!(log.contains(&format!("{name} work")), "{name} lost: {log}");
    }
    for name in names {
        assert!(
            env.repo().join(name).join("work.txt").is_file(),
            "{name} not in the worktree"
        );
    }
    // a1's later commit landed with its second land, or its first.
    assert!(log.contains("a1 more work"), "{log}");
    assert_eq!(env.git(&["status", "--porcelain"]), "");
}

#[test]
fn sync_brings_the_base_in_by_rebase_or_merge() {
    let env = with_billing_commit();
    let dir = env.agent_dir("billing");
    env.write("docs/guide.md", "# Guide, moved on\n");
    env.git(&["commit", "-q", "-am", "Base moves"]);

    let old_tip = env.git(&["rev-parse", "--short=12", "agent/billing"]);
    let run = env.ok(env.agent("sync", &["billing"]));
    let new_tip = env.git(&["rev-parse", "--short=12", "agent/billing"]);
    let base_tip = env.git(&["rev-parse", "--short=12", "main"]);
    assert_eq!(
        run.stdout,
        format!(
            "synced agent 'billing' with main at {} (rebase): agent/billing {}..{}\n",
            base_tip.trim(),
            old_tip.trim(),
            new_tip.trim()
        ),
        "{run:?}"
    );
    assert_eq!(rev(&env, "agent/billing~1"), rev(&env, "main"));
    assert_eq!(
        std::fs::read_to_string(dir.join("docs/guide.md")).unwrap(),
        "# Guide, moved on\n"
    );
    let run = env.ok(env.agent("sync", &["billing"]));
    assert!(run.stdout.contains("up to date"), "{run:?}");

    env.write("README.md", "# Shop, again\n");
    env.git(&["commit", "-q", "-am", "Base moves again"]);
    env.ok(env.agent("sync", &["billing", "--merge"]));
    let parents = env.git(&["log", "-1", "--format=%P", "agent/billing"]);
    assert_eq!(parents.split(' ').count(), 2, "{parents}");

    // Uncommitted changes: refused, nothing changes.
    write_in(&dir, "src/billing/invoice.rs", "dirty\n");
    env.write("docs/guide.md", "third\n");
    env.git(&["commit", "-q", "-am", "Base moves a third time"]);
    let before = env.state();
    let run = env.agent("sync", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("uncommitted changes (src/billing/invoice.rs)"),
        "{run:?}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn sync_stops_cleanly_on_a_conflict() {
    for how in ["--rebase", "--merge"] {
        let env = with_billing_commit();
        let dir = env.agent_dir("billing");
        env.write("src/billing/invoice.rs", "fn total() -> u32 { 2 }\n");
        env.write("docs/guide.md", "# Base's guide\n");
        env.git(&["commit", "-q", "-am", "Base changes the same line"]);
        let run = env.agent("sync", &["billing", how]);
        assert_eq!(run.code, 1, "{how}: {run:?}");
        assert!(
            run.stderr
                .contains("stopped on a conflict with main in:\n  src/billing/invoice.rs"),
            "{how}: {run:?}"
        );
        let state = if how == "--merge" {
            "MERGE_HEAD"
        } else {
            "rebase-merge"
        };
        let marker = env.git_in(&dir, &["rev-parse", "--git-path", state]);
        assert!(
            dir.join(marker.trim()).exists(),
            "{how}: git's own state is left"
        );

        // The agent resolves and goes on; the gate lets the merge through,
        // since the base's own changes are not the agent's.
        write_in(&dir, "src/billing/invoice.rs", "fn total() -> u32 { 3 }\n");
        env.git_in(&dir, &["add", "src/billing/invoice.rs"]);
        if how == "--merge" {
            env.git_in(&dir, &["commit", "-q", "--no-edit"]);
        } else {
            let run = env
                .command("git", &dir)
                .args(["rebase", "--continue"])
                .env("GIT_EDITOR", "true")
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{}",
                String::from_utf8_lossy(&run.stderr)
            );
        }
        env.ok(env.agent("land", &["billing"]));
        assert_eq!(
            std::fs::read_to_string(env.repo().join("src/billing/invoice.rs")).unwrap(),
            "fn total() -> u32 { 3 }\n"
        );
    }
}

#[test]
fn sync_json_reports_old_and_new_tips_and_a_stop_on_conflict() {
    let env = with_billing_commit();
    let dir = env.agent_dir("billing");
    env.write("docs/guide.md", "# Guide, moved on\n");
    env.git(&["commit", "-q", "-am", "Base moves"]);
    let old = rev(&env, "agent/billing");
    let run = env.ok(env.agent("sync", &["billing", "--json"]));
    let v = json_of(&run);
    assert_eq!(v["agent"], "billing");
    assert_eq!(v["branch"], "agent/billing");
    assert_eq!(v["base"], "main");
    assert_eq!(v["path"], dir.display().to_string());
    assert_eq!(v["how"], "rebase");
    assert_eq!(v["result"], "synced");
    assert_eq!(v["base_tip"], rev(&env, "main"));
    assert_eq!(v["old_tip"], old);
    assert_eq!(v["new_tip"], rev(&env, "agent/billing"));
    assert_ne!(v["new_tip"], v["old_tip"]);
    assert_eq!(v["conflicts"], serde_json::json!([]));
    assert_eq!(v["refusal"], serde_json::Value::Null);

    let v = json_of(&env.ok(env.agent("sync", &["billing", "--merge", "--json"])));
    assert_eq!(v["how"], "merge");
    assert_eq!(v["result"], "up_to_date");
    assert_eq!(v["new_tip"], v["old_tip"]);

    // Uncommitted changes: refused, with the files.
    write_in(&dir, "src/billing/invoice.rs", "dirty\n");
    env.write("README.md", "# Shop, again\n");
    env.git(&["commit", "-q", "-am", "Base moves again"]);
    let before = env.state();
    let run = env.agent("sync", &["billing", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["result"], "refused");
    assert_eq!(v["refusal"]["reason"], "uncommitted");
    assert_eq!(
        v["refusal"]["paths"],
        serde_json::json!(["src/billing/invoice.rs"])
    );
    assert_eq!(v["new_tip"], serde_json::Value::Null);
    assert_eq!(before, env.state());
    env.git_in(&dir, &["checkout", "--", "."]);

    // A conflict: git stops, and the files and the way on are named.
    env.write("src/billing/invoice.rs", "fn total() -> u32 { 2 }\n");
    env.git(&["commit", "-q", "-am", "Base changes the same line"]);
    let run = env.agent("sync", &["billing", "--merge", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["result"], "stopped");
    assert_eq!(
        v["conflicts"],
        serde_json::json!(["src/billing/invoice.rs"])
    );
    assert_eq!(v["continue"], "git commit");
    assert_eq!(v["abort"], "git merge --abort");
    assert_eq!(v["new_tip"], serde_json::Value::Null);
    assert_eq!(v["refusal"], serde_json::Value::Null);
    env.git_in(&dir, &["merge", "--abort"]);

    let run = env.agent("sync", &["billing", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["result"], "stopped");
    assert_eq!(v["continue"], "git rebase --continue");
    assert_eq!(v["abort"], "git rebase --abort");
}

#[test]
fn land_dry_run_json_reports_what_would_happen() {
    let env = with_billing_commit();
    let base = rev(&env, "main");
    let branch = rev(&env, "agent/billing");
    let policy_blob = rev(&env, "main:.git-agent.yaml");
    let before = env.state();
    let run = env.ok(env.agent("land", &["billing", "--dry-run", "--json"]));
    assert_eq!(run.stderr, "", "{run:?}");
    let v = json_of(&run);
    assert_eq!(
        v,
        serde_json::json!({
            "version": 1,
            "agent": "billing",
            "branch": "agent/billing",
            "base": "main",
            "strategy": "merge",
            "dry_run": true,
            "verdict": "would_land",
            "commits": [{"commit": branch, "summary": "Invoices total one"}],
            "out_of_scope": [],
            "conflicts": [],
            "checks": {
                "commands": ["test -f README.md"],
                "run": true,
                "passed": null,
                "failed": null,
                "sandboxed": host_containment().sandboxed(),
                "containment": host_containment().describe(),
                "seconds": null,
            },
            "base_old": base,
            "base_new": null,
            "receipt": [
                "Agent: billing",
                format!("Agent-Policy: {policy_blob}"),
                "Agent-Checks: test -f README.md (would run)",
                format!("Agent-Checks-Sandbox: {}", host_containment().describe()),
                "Agent-Scope: src/billing/",
            ],
            "refusal": null,
            "removal": null,
        })
    );
    assert_eq!(before, env.state());

    // A fast-forward lands the branch's own tip, so it is known in advance.
    let v = json_of(&env.ok(env.agent(
        "land",
        &["billing", "-n", "--json", "--strategy", "ff", "--no-checks"],
    )));
    assert_eq!(v["strategy"], "ff");
    assert_eq!(v["base_new"], branch.as_str());
    assert_eq!(v["receipt"], serde_json::Value::Null);
    assert_eq!(v["checks"]["run"], false);
    assert_eq!(before, env.state());
}

#[test]
fn land_dry_run_json_names_out_of_scope_commits_and_conflicts() {
    // A commit made with --no-verify outside the scope.
    let env = with_billing_commit();
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/api/routes.rs", "sneaky\n");
    env.git_in(
        &dir,
        &["commit", "-q", "--no-verify", "-am", "Sneak into api"],
    );
    let sneaky = env.git_in(&dir, &["rev-parse", "HEAD"]).trim().to_owned();
    let before = env.state();
    let run = env.agent("land", &["billing", "--dry-run", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr, "", "the refusal is in the JSON only: {run:?}");
    let v = json_of(&run);
    assert_eq!(v["verdict"], "refused");
    assert_eq!(v["commits"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["commits"][1]["commit"], sneaky.as_str());
    assert_eq!(
        v["out_of_scope"],
        serde_json::json!([{
            "path": "src/api/routes.rs",
            "kind": "modified",
            "commit": sneaky,
            "summary": "Sneak into api",
            "reason": "no pattern of the scope matches",
            "allowed": false,
            "pattern": null,
            "origin": null,
        }])
    );
    assert_eq!(v["refusal"]["reason"], "out_of_scope");
    assert_eq!(
        v["refusal"]["paths"],
        serde_json::json!(["src/api/routes.rs"])
    );
    assert!(
        v["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("Sneak into api: src/api/routes.rs"),
        "{v}"
    );
    assert_eq!(v["checks"]["passed"], serde_json::Value::Null);
    assert_eq!(before, env.state());

    // A conflict with the base: the forecast names the files.
    let env = with_billing_commit();
    env.write("src/billing/invoice.rs", "fn total() -> u32 { 2 }\n");
    env.git(&["commit", "-q", "-am", "Base changes the same line"]);
    let before = env.state();
    let run = env.agent("land", &["billing", "--dry-run", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["verdict"], "refused");
    assert_eq!(v["out_of_scope"], serde_json::json!([]));
    assert_eq!(
        v["conflicts"],
        serde_json::json!(["src/billing/invoice.rs"])
    );
    assert_eq!(v["refusal"]["reason"], "conflict");
    assert_eq!(v["refusal"]["paths"], v["conflicts"]);
    assert_eq!(before, env.state());

    // Uncommitted changes in the agent's worktree.
    let env = with_billing_commit();
    write_in(
        &env.agent_dir("billing"),
        "src/billing/invoice.rs",
        "dirty\n",
    );
    let run = env.agent("land", &["billing", "--dry-run", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["refusal"]["reason"], "uncommitted");
    assert_eq!(
        v["refusal"]["paths"],
        serde_json::json!(["src/billing/invoice.rs"])
    );

    // From inside an agent's context, before the agent is even looked up.
    let run = Run::from_output(
        env.command(bin("git-agent-land"), &env.repo())
            .args(["billing", "--json"])
            .env("GIT_AGENT", "billing")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["agent"], "billing");
    assert_eq!(v["base"], serde_json::Value::Null);
    assert_eq!(v["refusal"]["reason"], "agent_context");
}

#[test]
fn land_json_reports_the_landed_commit_and_its_receipt() {
    let env = with_billing_commit();
    let base = rev(&env, "main");
    let run = env.ok(env.agent("land", &["billing", "--json", "--remove"]));
    assert!(
        run.stderr.contains("check: test -f README.md"),
        "the checks narrate on stderr: {run:?}"
    );
    let v = json_of(&run);
    assert_eq!(v["verdict"], "landed");
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["base_old"], base.as_str());
    assert_eq!(v["base_new"], rev(&env, "main"));
    assert_ne!(v["base_new"], v["base_old"]);
    assert_eq!(v["checks"]["passed"], true);
    assert_eq!(v["receipt"][0], "Agent: billing");
    assert_eq!(v["receipt"][2], "Agent-Checks: test -f README.md (passed)");
    assert!(
        message(&env, "main").contains("\nAgent: billing\n"),
        "the receipt is the commit's"
    );
    assert_eq!(v["removal"]["removed"], true, "{v}");
    assert_eq!(v["removal"]["archive"], serde_json::Value::Null);
    assert!(!env.agent_dir("billing").exists());

    // Nothing to land is done, not refused.
    let env = with_billing_commit();
    env.ok(env.agent("land", &["billing", "--strategy", "ff"]));
    let run = env.ok(env.agent("land", &["billing", "--json"]));
    assert_eq!(run.stderr, "", "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["verdict"], "nothing_to_land");
    assert_eq!(v["commits"], serde_json::json!([]));
    assert_eq!(v["base_new"], serde_json::Value::Null);
}

#[test]
fn land_json_reports_a_failing_check() {
    let env = Env::with_policy(
        "version: 1\nareas:\n  billing: [src/billing/]\nchecks: [\"echo checking; exit 3\"]\n",
    );
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    write_in(&env.agent_dir("billing"), "src/billing/x.rs", "x\n");
    env.git_in(&env.agent_dir("billing"), &["add", "."]);
    env.git_in(&env.agent_dir("billing"), &["commit", "-q", "-m", "x"]);
    let before = env.state();
    let run = env.agent("land", &["billing", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("checking"),
        "the check's output stays on stderr: {run:?}"
    );
    let mut v = json_of(&run);
    assert_eq!(v["verdict"], "refused");
    let seconds = v["checks"]
        .as_object_mut()
        .unwrap()
        .remove("seconds")
        .unwrap();
    assert!(seconds.as_f64().is_some_and(|s| s >= 0.0), "{seconds}");
    assert_eq!(
        v["checks"],
        serde_json::json!({
            "commands": ["echo checking; exit 3"],
            "run": true,
            "passed": false,
            "failed": "echo checking; exit 3",
            "sandboxed": host_containment().sandboxed(),
            "containment": host_containment().describe(),
        })
    );
    assert_eq!(v["refusal"]["reason"], "check_failed");
    assert_eq!(v["base_new"], serde_json::Value::Null);
    assert_eq!(before, env.state());
}

#[test]
fn land_json_of_a_proposer_keeps_the_diff_stat_off_stdout() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["idea", "--area", "docs", "--role", "proposer"]));
    let dir = env.agent_dir("idea");
    write_in(&dir, "docs/guide.md", "# A better guide\n");
    env.git_in(&dir, &["commit", "-q", "-am", "Propose a guide"]);
    let run = env.agent("land", &["idea", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("docs/guide.md | 2 +-"), "{run:?}");
    let v = json_of(&run);
    assert_eq!(v["refusal"]["reason"], "proposer");
    let v = json_of(&env.ok(env.agent("land", &["idea", "--accept", "--json"])));
    assert_eq!(v["verdict"], "landed");
}

#[test]
fn land_holds_every_commit_to_the_file_limit_the_gate_enforces() {
    let env = Env::with_policy(
        "version: 1\nareas:\n  billing: [src/billing/]\nlimits: { max_files_per_commit: 2 }\n",
    );
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    // Within the limit: lands later, after the large commit is split.
    for f in ["a", "b"] {
        write_in(&dir, &format!("src/billing/{f}.rs"), "x\n");
    }
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "-m", "Two files"]);
    // Three files: the hook refuses, --no-verify slips past it.
    for f in ["c", "d", "e"] {
        write_in(&dir, &format!("src/billing/{f}.rs"), "x\n");
    }
    env.git_in(&dir, &["add", "-A"]);
    let hooked = env.git_run(&dir, &["commit", "-q", "-m", "Three files"]);
    assert_eq!(hooked.code, 1, "{hooked:?}");
    env.git_in(&dir, &["commit", "-q", "--no-verify", "-m", "Three files"]);

    let before = env.state();
    let run = env.agent("land", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("more files than limits.max_files_per_commit (2):"),
        "{run:?}"
    );
    assert!(run.stderr.contains(" Three files: 3 files"), "{run:?}");
    assert!(!run.stderr.contains("Two files"), "{run:?}");
    assert_eq!(before, env.state());
    let json = env.agent("land", &["billing", "--dry-run", "--json"]);
    assert_eq!(json.code, 1, "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["refusal"]["reason"], "too_many_files", "{doc}");
    assert_eq!(doc["verdict"], "refused", "{doc}");

    // Split, it lands.
    env.git_in(&dir, &["reset", "-q", "HEAD~1"]);
    env.git_in(&dir, &["add", "src/billing/c.rs", "src/billing/d.rs"]);
    env.git_in(&dir, &["commit", "-q", "-m", "Two more"]);
    env.git_in(&dir, &["add", "src/billing/e.rs"]);
    env.git_in(&dir, &["commit", "-q", "-m", "One more"]);
    env.ok(env.agent("land", &["billing"]));
}

const TWO_AREAS: &str = "version: 1\nareas:\n  billing: [src/billing/]\n  api: [src/api/]\n";

/// Whether git's own merge of `agent/billing` into `main` conflicts, and
/// what it says.
fn git_merge_tree(env: &Env) -> Run {
    let run = env.git_run(
        &env.repo(),
        &["merge-tree", "--write-tree", "main", "agent/billing"],
    );
    assert!(run.code <= 1, "{run:?}");
    run
}

#[test]
fn a_directory_renamed_on_the_base_conflicts_as_in_git() {
    let env = Env::with_policy(TWO_AREAS);
    env.write("src/billing/legacy/old.rs", "old\n");
    env.git(&["add", "."]);
    env.git(&["commit", "-q", "-m", "Legacy billing"]);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/legacy/new.rs", "new\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "New legacy"]);
    env.git(&["mv", "src/billing/legacy", "src/api/legacy"]);
    env.git(&["commit", "-q", "-m", "Legacy moves to the api"]);

    let git = git_merge_tree(&env);
    assert_eq!(git.code, 1, "{git:?}");
    assert!(git.stdout.contains("CONFLICT (file location)"), "{git:?}");

    let before = env.state();
    for strategy in ["merge", "squash", "rebase"] {
        let run = env.agent("land", &["billing", "--json", "--strategy", strategy]);
        assert_eq!(run.code, 1, "{strategy}: {run:?}");
        let v = json_of(&run);
        assert_eq!(v["refusal"]["reason"], "conflict", "{strategy}: {v}");
        assert!(
            v["conflicts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p.as_str().unwrap().contains("legacy/new.rs")),
            "{strategy}: {v}"
        );
        assert_eq!(before, env.state(), "{strategy}");
    }
    // The forecast agrees with the landing.
    let run = env.agent("conflicts", &["--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["pairs"][0]["left"], serde_json::Value::Null, "{v}");
    assert_eq!(v["pairs"][0]["right"], "billing", "{v}");
}

#[test]
fn a_file_renamed_on_the_base_does_not_carry_the_agents_edit_out_of_scope() {
    let env = Env::with_policy(TWO_AREAS);
    let body: String = (0..20).map(|i| format!("line {i}\n")).collect();
    env.write("src/billing/calc.rs", &body);
    env.git(&["add", "."]);
    env.git(&["commit", "-q", "-m", "Calc"]);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/calc.rs", &format!("{body}edited\n"));
    env.git_in(&dir, &["commit", "-q", "-am", "Edit calc"]);
    env.git(&["mv", "src/billing/calc.rs", "src/api/calc.rs"]);
    env.git(&["commit", "-q", "-m", "Calc moves to the api"]);

    // git merges it cleanly, the edit carried to src/api/calc.rs.
    let git = git_merge_tree(&env);
    assert_eq!(git.code, 0, "{git:?}");
    let merged = git.stdout.lines().next().unwrap().to_owned();
    assert_eq!(
        env.git(&["show", &format!("{merged}:src/api/calc.rs")]),
        format!("{body}edited\n")
    );

    let before = env.state();
    for strategy in ["merge", "squash", "rebase"] {
        let run = env.agent("land", &["billing", "--json", "--strategy", strategy]);
        assert_eq!(run.code, 1, "{strategy}: {run:?}");
        let v = json_of(&run);
        assert_eq!(v["refusal"]["reason"], "out_of_scope", "{strategy}: {v}");
        assert_eq!(
            v["refusal"]["paths"],
            serde_json::json!(["src/api/calc.rs"]),
            "{strategy}: {v}"
        );
        assert_eq!(v["out_of_scope"][0]["path"], "src/api/calc.rs", "{v}");
        assert_eq!(v["out_of_scope"][0]["commit"], serde_json::Value::Null);
        assert_eq!(before, env.state(), "{strategy}");
    }
    let run = env.agent("land", &["billing"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("src/api/calc.rs"), "{run:?}");
}

/// `billing` with a commit, the base with a new file `notes.md`, and an
/// untracked `notes.md` in the agent's worktree.
fn with_an_untracked_file_the_base_adds() -> Env {
    let env = with_billing_commit();
    env.write("notes.md", "the base's notes\n");
    env.git(&["add", "notes.md"]);
    env.git(&["commit", "-q", "-m", "Notes"]);
    write_in(
        &env.agent_dir("billing"),
        "notes.md",
        "the agent's own notes\n",
    );
    env
}

#[test]
fn squash_refuses_when_an_untracked_file_would_block_moving_the_agent() {
    for strategy in ["squash", "rebase"] {
        let env = with_an_untracked_file_the_base_adds();
        let dir = env.agent_dir("billing");
        let before = env.state();
        let agent_before = env.git_in(&dir, &["status", "--porcelain"]);
        let run = env.agent(
            "land",
            &["billing", "--json", "--no-checks", "--strategy", strategy],
        );
        assert_eq!(run.code, 1, "{strategy}: {run:?}");
        let v = json_of(&run);
        assert_eq!(v["refusal"]["reason"], "untracked_in_the_way", "{v}");
        assert_eq!(v["refusal"]["paths"], serde_json::json!(["notes.md"]));
        assert_eq!(before, env.state(), "{strategy}");
        assert_eq!(agent_before, env.git_in(&dir, &["status", "--porcelain"]));
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.md")).unwrap(),
            "the agent's own notes\n"
        );
    }
}

#[test]
fn a_file_appearing_after_the_base_moved_leaves_branch_and_worktree_together() {
    for strategy in ["squash", "rebase"] {
        let env = with_billing_commit();
        env.write("notes.md", "the base's notes\n");
        env.git(&["add", "notes.md"]);
        env.git(&["commit", "-q", "-m", "Notes"]);
        let dir = env.agent_dir("billing");
        let tip = rev(&env, "agent/billing");
        // The file appears once the base has moved: git runs post-merge in
        // the base's worktree after its fast-forward.
        let hook = env.repo().join(".git/hooks/post-merge");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\necho late > '{}'\n",
                dir.join("notes.md").display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

        let run = env.agent(
            "land",
            &["billing", "--json", "--no-checks", "--strategy", strategy],
        );
        assert_eq!(run.code, 0, "{strategy}: {run:?}");
        let v = json_of(&run);
        assert_eq!(v["verdict"], "landed", "{v}");
        assert!(run.stderr.contains("warning"), "{run:?}");
        assert!(run.stderr.contains("notes.md"), "{run:?}");
        // The branch stayed where its worktree is: nothing staged, no
        // deletion of the base's files waiting to be committed.
        assert_eq!(rev(&env, "agent/billing"), tip, "{strategy}");
        assert_eq!(
            env.git_in(&dir, &["status", "--porcelain"]),
            "?? notes.md\n",
            "{strategy}"
        );
        // And it does not land twice.
        let again = env.ok(env.agent(
            "land",
            &["billing", "--json", "--no-checks", "--strategy", strategy],
        ));
        assert_eq!(json_of(&again)["verdict"], "nothing_to_land", "{again:?}");
    }
}

#[test]
fn a_squash_does_not_land_twice() {
    let env = with_two_commits_and_the_base_moved();
    let dir = env.agent_dir("billing");
    // The worktree is detached, so the landing leaves the branch behind.
    env.git_in(&dir, &["switch", "-q", "--detach"]);
    let first = env.ok(env.agent("land", &["billing", "--strategy", "squash", "--no-checks"]));
    assert!(first.stderr.contains("was not moved"), "{first:?}");
    let landed = rev(&env, "main");
    let before = env.state();
    for strategy in ["squash", "merge", "rebase"] {
        let run = env.ok(env.agent(
            "land",
            &["billing", "--json", "--no-checks", "--strategy", strategy],
        ));
        let v = json_of(&run);
        assert_eq!(v["verdict"], "nothing_to_land", "{strategy}: {v}");
        assert_eq!(rev(&env, "main"), landed, "{strategy}");
        assert_eq!(before, env.state(), "{strategy}");
    }
    let run = env.ok(env.agent("land", &["billing", "--strategy", "squash"]));
    assert!(run.stderr.contains("nothing to land"), "{run:?}");
    assert_eq!(rev(&env, "main"), landed);
}

#[test]
fn a_check_that_ran_and_exited_127_is_a_failed_check() {
    for check in [
        "true && no-such-tool-inside --all",
        "sh -c no-such-tool-inside",
        "FOO=1 sh -c 'exit 127'",
    ] {
        let env = Env::with_policy(&format!(
            "version: 1\nareas:\n  docs: [docs/]\nchecks: [\"{check}\"]\n"
        ));
        env.ok(env.agent("add", &["docs", "--area", "docs"]));
        write_in(&env.agent_dir("docs"), "docs/guide.md", "x\n");
        env.git_in(&env.agent_dir("docs"), &["commit", "-q", "-am", "x"]);
        let before = env.state();
        let run = env.agent("land", &["docs", "--json"]);
        assert_eq!(run.code, 1, "{check}: {run:?}");
        let v = json_of(&run);
        assert_eq!(v["refusal"]["reason"], "check_failed", "{check}: {v}");
        assert_eq!(v["checks"]["failed"], check, "{v}");
        assert!(!run.stderr.contains("--no-checks"), "{run:?}");
        assert_eq!(before, env.state(), "{check}");
    }
}

#[test]
fn a_dry_run_never_says_a_check_passed() {
    let env = with_billing_commit();
    for args in [
        &["billing", "--dry-run", "--json"][..],
        &["billing", "--dry-run"],
    ] {
        let run = env.ok(env.agent("land", args));
        assert!(!run.stdout.contains("(passed)"), "{run:?}");
        assert!(!run.stderr.contains("(passed)"), "{run:?}");
    }
    let v = json_of(&env.ok(env.agent("land", &["billing", "--dry-run", "--json"])));
    assert_eq!(v["checks"]["passed"], serde_json::Value::Null);
    assert_eq!(
        v["receipt"][2], "Agent-Checks: test -f README.md (would run)",
        "{v}"
    );
}

#[test]
fn land_into_a_base_whose_worktree_was_deleted_hints_at_prune() {
    let env = with_billing_commit();
    env.git(&["switch", "-q", "-c", "side"]);
    let trunk = env.root.join("trunk");
    env.git(&["worktree", "add", "-q", &trunk.to_string_lossy(), "main"]);
    std::fs::remove_dir_all(&trunk).unwrap();
    let before = env.state();
    let run = env.agent("land", &["billing"]);
    assert_bad_input(&env, &before, &run, &["git worktree prune"]);
}
