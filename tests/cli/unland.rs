//! unland: a landing taken back by a revert or, with --hard, by moving the
//! base back; the agent keeps its work and can land again.

use crate::support::*;

const POLICY: &str = "version: 1\nareas:\n  billing: [src/billing/]\n  docs: [docs/]\nchecks: [\"test -f README.md\"]\n";
const WORK: &str = "fn total() -> u32 { 1 }\n";
const ORIGINAL: &str = "fn total() {}\n";

/// The policy, and agent `billing` with one commit changing invoice.rs.
fn with_billing_commit() -> Env {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", WORK);
    env.git_in(&dir, &["commit", "-q", "-am", "Invoices total one"]);
    env
}

/// [`with_billing_commit`], landed with `args`.
fn landed(args: &[&str]) -> Env {
    let env = with_billing_commit();
    env.ok(env.agent("land", &[&["billing"][..], args].concat()));
    env
}

fn rev(env: &Env, what: &str) -> String {
    env.git(&["rev-parse", what]).trim().to_owned()
}

fn invoice(env: &Env) -> String {
    std::fs::read_to_string(env.repo().join("src/billing/invoice.rs")).unwrap()
}

fn unland_as_agent(env: &Env) -> Run {
    Run::from_output(
        env.command(bin("git-agent-unland"), &env.repo())
            .arg("billing")
            .env("GIT_AGENT", "billing")
            .output()
            .unwrap(),
    )
}

#[test]
fn unland_reverts_a_merge_landing_with_a_receipt_that_verifies() {
    let env = landed(&[]);
    let landing = rev(&env, "main");
    let run = env.ok(env.agent("unland", &["billing"]));
    assert!(
        run.stdout
            .contains("unlanded agent 'billing' from main (reverted)"),
        "{run:?}"
    );
    assert!(run.stderr.contains("check: test -f README.md"), "{run:?}");
    // One revert commit on top of the landing, checked out in main's worktree.
    assert_eq!(rev(&env, "main^"), landing);
    assert_eq!(invoice(&env), ORIGINAL);
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    let msg = env.git(&["log", "-1", "--format=%B", "main"]);
    assert!(
        msg.starts_with("Revert \"Land agent 'billing' (agent/billing) into main\""),
        "{msg}"
    );
    for trailer in [
        "Agent: billing".to_owned(),
        format!("Agent-Unlands: {landing}"),
        format!("Agent-Policy: {}", rev(&env, "main:.git-agent.yaml")),
        "Agent-Checks: test -f README.md (passed)".to_owned(),
        "Agent-Scope: src/billing/".to_owned(),
    ] {
        assert!(msg.contains(&format!("\n{trailer}\n")), "{trailer}: {msg}");
    }
    // The receipt verifies: audit counts the revert as a landing.
    let audit = json_of(&env.ok(env.agent("audit", &["--json"])));
    assert_eq!(audit["commits"][0]["class"], "landed", "{audit}");
    assert_eq!(audit["commits"][0]["agent"], "billing", "{audit}");
    assert_eq!(audit["moves"], serde_json::json!([]), "{audit}");
    // The agent's branch re-applies the work on top of the revert.
    assert_eq!(rev(&env, "agent/billing^"), rev(&env, "main"));
    let dir = env.agent_dir("billing");
    assert_eq!(
        std::fs::read_to_string(dir.join("src/billing/invoice.rs")).unwrap(),
        WORK
    );
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    // rm keeps the work: it is unlanded again.
    assert_eq!(env.agent("rm", &["billing"]).code, 1);
}

#[test]
fn the_agent_lands_again_after_an_unland() {
    // A squash landing: the branch followed the squash commit, which the
    // base keeps after the revert.
    let env = landed(&["--strategy", "squash"]);
    env.ok(env.agent("unland", &["billing"]));
    assert_eq!(invoice(&env), ORIGINAL);
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/tax.rs", "fn tax() {}\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Tax, the fix"]);
    let run = env.ok(env.agent("land", &["billing"]));
    assert!(run.stdout.contains("landed agent 'billing'"), "{run:?}");
    assert_eq!(invoice(&env), WORK);
    assert!(env.repo().join("src/billing/tax.rs").is_file());
    let audit = env.agent("audit", &[]);
    assert_eq!(audit.code, 0, "{audit:?}");
}

#[test]
fn unland_hard_moves_the_base_back_and_the_branch_keeps_the_work() {
    let env = with_billing_commit();
    let before = rev(&env, "main");
    env.ok(env.agent("land", &["billing"]));
    let run = env.ok(env.agent("unland", &["billing", "--hard"]));
    assert!(run.stdout.contains("(moved back)"), "{run:?}");
    assert_eq!(rev(&env, "main"), before);
    assert_eq!(invoice(&env), ORIGINAL);
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    let reflog = env.git(&["reflog", "-1", "--format=%gs", "refs/heads/main"]);
    assert_eq!(reflog.trim(), "git-agent unland billing: hard");
    // Not a foreign move of the base.
    assert_eq!(env.agent("audit", &[]).code, 0);
    let doctor = env.agent("doctor", &[]);
    assert_eq!(doctor.code, 0, "{doctor:?}");
    // Once more is refused: the latest landing is gone already.
    let again = env.agent("unland", &["billing", "--json"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(json_of(&again)["refusal"]["reason"], "already_unlanded");
    // The branch still holds the work, and it lands again.
    env.ok(env.agent("land", &["billing"]));
    assert_eq!(invoice(&env), WORK);
}

#[test]
fn unland_hard_is_refused_once_someone_built_on_the_landing() {
    let env = landed(&[]);
    env.write("docs/guide.md", "# Guide, built on it\n");
    env.git(&["commit", "-q", "-am", "Built on it"]);
    let before = env.state();
    let run = env.agent("unland", &["billing", "--hard", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = json_of(&run);
    assert_eq!(json["refusal"]["reason"], "built_on", "{json}");
    assert!(
        json["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("main has 1 commit on top of its landing"),
        "{json}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn unland_of_an_agent_that_never_landed_is_refused() {
    let env = with_billing_commit();
    let before = env.state();
    for name in ["billing", "nobody"] {
        let run = env.agent("unland", &[name]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "refusing to unland '{name}': main has no landing of it"
            )),
            "{run:?}"
        );
    }
    assert_eq!(before, env.state());
}

#[test]
fn unland_with_the_base_worktree_dirty_is_refused() {
    let env = landed(&[]);
    env.write("README.md", "# Shop, edited\n");
    let before = env.state();
    for args in [&[][..], &["--no-checks"], &["--dry-run"], &["--hard"]] {
        let run = env.agent("unland", &[&["billing"][..], args].concat());
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("main is checked out in") && run.stderr.contains("README.md"),
            "{args:?}: {run:?}"
        );
    }
    assert_eq!(before, env.state());
}

#[test]
fn later_changes_to_the_same_lines_are_refused_naming_the_files() {
    let env = landed(&[]);
    env.write("src/billing/invoice.rs", "fn total() -> u32 { 2 }\n");
    env.git(&["commit", "-q", "-am", "A person changes the total"]);
    let before = env.state();
    let run = env.agent("unland", &["billing", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = json_of(&run);
    assert_eq!(json["refusal"]["reason"], "later_changes", "{json}");
    assert_eq!(
        json["refusal"]["paths"],
        serde_json::json!(["src/billing/invoice.rs"])
    );
    assert!(
        json["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("git revert -m 1"),
        "{json}"
    );
    assert_eq!(before, env.state());
}

#[test]
fn unland_json_reports_the_forecast_and_the_unland() {
    let env = landed(&["--strategy", "ff"]);
    let landing = rev(&env, "main");
    let before = env.state();
    let run = env.ok(env.agent("unland", &["billing", "--dry-run", "--json"]));
    let json = json_of(&run);
    assert_eq!(json["verdict"], "would_unland", "{json}");
    assert_eq!(json["landing_kind"], "fast_forward", "{json}");
    assert_eq!(json["revert"], serde_json::Value::Null, "{json}");
    assert_eq!(
        json["receipt"][1],
        format!("Agent-Unlands: {landing}"),
        "{json}"
    );
    assert_eq!(before, env.state());

    let run = env.ok(env.agent("unland", &["billing", "--json"]));
    let json = json_of(&run);
    let revert = rev(&env, "main");
    assert_eq!(
        json,
        serde_json::json!({
            "version": 1,
            "agent": "billing",
            "base": "main",
            "landing": landing,
            "landing_kind": "fast_forward",
            "summary": "Invoices total one",
            "mode": "revert",
            "dry_run": false,
            "verdict": "unlanded",
            "base_old": landing,
            "base_new": revert,
            "revert": revert,
            "checks": json["checks"],
            "receipt": json["receipt"],
            "work": {
                "kept": "reapplied",
                "branch": "agent/billing",
                "commit": rev(&env, "agent/billing"),
                "archive": null,
                "restore": null,
            },
            "refusal": null,
        })
    );
    assert_eq!(json["checks"]["passed"], true, "{json}");
    assert_eq!(invoice(&env), ORIGINAL);
}

#[test]
fn a_removed_agents_work_is_archived_for_restore() {
    let env = with_billing_commit();
    env.ok(env.agent("land", &["billing", "--remove"]));
    let run = env.ok(env.agent("unland", &["billing", "--json"]));
    let json = json_of(&run);
    assert_eq!(json["work"]["kept"], "archived", "{json}");
    assert_eq!(json["work"]["restore"], "git agent restore billing");
    assert_eq!(invoice(&env), ORIGINAL);
    env.ok(env.agent("restore", &["billing"]));
    let dir = env.agent_dir("billing");
    assert_eq!(
        std::fs::read_to_string(dir.join("src/billing/invoice.rs")).unwrap(),
        WORK
    );
    // Its scope came back with it, and the work lands again.
    env.ok(env.agent("land", &["billing"]));
    assert_eq!(invoice(&env), WORK);
}

#[test]
fn an_agent_may_not_unland() {
    let env = landed(&[]);
    let before = env.state();
    let run = unland_as_agent(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("GIT_AGENT=billing"), "{run:?}");
    assert_eq!(before, env.state());
}

/// A kill -9 while the revert's checks run leaves the base where it was.
#[test]
fn unland_killed_during_its_checks_leaves_the_base_alone() {
    let env = Env::with_policy(
        "version: 1\nareas:\n  billing: [src/billing/]\nchecks: [\"touch $GIT_AGENT_CHECK_MARK && sleep 30\"]\n",
    );
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", WORK);
    env.git_in(&dir, &["commit", "-q", "-am", "Invoices total one"]);
    env.ok(env.agent("land", &["billing", "--no-checks"]));
    let landing = rev(&env, "main");
    let mark = env.root.join("checks-started");
    let mut child = env
        .command(bin("git-agent-unland"), &env.repo())
        .arg("billing")
        .env("GIT_AGENT_CHECK_MARK", &mark)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !mark.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(mark.exists(), "the checks never started");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(rev(&env, "main"), landing);
    assert_eq!(invoice(&env), WORK);
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    // Nothing is left half-done: the unland runs again.
    env.ok(env.agent("unland", &["billing", "--no-checks"]));
    assert_eq!(invoice(&env), ORIGINAL);
}

/// A rebase landing of two commits is reverted as one; the revert passes
/// `server.require_receipts` and `doctor`, and a forged `Agent-Unlands`
/// does not.
#[test]
fn a_rebase_landings_revert_passes_require_receipts() {
    let env = Env::with_policy(&format!(
        "{POLICY}server: {{ require_receipts: true, humans: [alice] }}\n"
    ));
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", WORK);
    env.git_in(&dir, &["commit", "-q", "-am", "Invoices total one"]);
    write_in(&dir, "src/billing/tax.rs", "fn tax() {}\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Tax"]);
    let before = rev(&env, "main");
    env.ok(env.agent("land", &["billing", "--strategy", "rebase"]));
    let server = env.root.join("server.git");
    env.git(&["clone", "-q", "--bare", ".", server.to_str().unwrap()]);
    env.ok(env.agent_in(&server, "hooks", &["install", "--server"]));
    let push = |args: &[&str]| {
        let mut cmd = env.command("git", &env.repo());
        cmd.arg("push").arg("-q").arg(&server).args(args);
        Run::from_output(cmd.env("GIT_PUSHER", "bob").output().unwrap())
    };

    // Without the reflog, the receipts alone tell where the landing began.
    env.git(&["reflog", "expire", "--expire=now", "--all"]);
    let run = env.ok(env.agent("unland", &["billing"]));
    assert!(run.stdout.contains("\"Tax\""), "{run:?}");
    let msg = env.git(&["log", "-1", "--format=%B", "main"]);
    assert!(
        msg.contains(&format!("This reverts the 2 commits {before}..")),
        "{msg}"
    );
    assert_eq!(invoice(&env), ORIGINAL);
    assert!(!env.repo().join("src/billing/tax.rs").exists());
    let run = push(&["main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        env.git_in(&server, &["rev-parse", "main"]),
        env.git(&["rev-parse", "main"])
    );
    let doctor = env.agent("doctor", &[]);
    assert_eq!(doctor.code, 0, "{doctor:?}");

    // A revert naming a landing its base never had does not verify.
    let policy = rev(&env, "main:.git-agent.yaml");
    write_in(&env.repo(), "src/billing/invoice.rs", "forged\n");
    let forged = format!(
        "Forged\n\nAgent: billing\nAgent-Unlands: {}\nAgent-Policy: {policy}\nAgent-Scope: src/billing/",
        rev(&env, "agent/billing")
    );
    env.git(&["commit", "-q", "--no-verify", "-am", &forged]);
    let run = push(&["main"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("which is not on the base it reverts on"),
        "{run:?}"
    );
}

/// A kill -9 as the base moves: the base is at its old tip or the revert,
/// whole, never in between.
#[test]
fn unland_killed_as_the_base_moves_leaves_it_old_or_new() {
    if require_tool("ps").is_none() {
        return;
    }
    let env = landed(&[]);
    let landing = rev(&env, "main");
    // git runs this as it moves main; it kills its caller, git-agent.
    let hook = env.repo().join(".git/hooks/reference-transaction");
    std::fs::write(
        &hook,
        "#!/bin/sh\n\
         [ \"$1\" = prepared ] || exit 0\n\
         grep -q ' refs/heads/main$' || exit 0\n\
         agent=$(ps -o ppid= -p $PPID | tr -d ' ')\n\
         kill -9 \"$agent\"\n\
         exit 0\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = env.agent("unland", &["billing"]);
    assert_eq!(run.code, -1, "killed: {run:?}");
    std::fs::remove_file(&hook).unwrap();
    let main = rev(&env, "main");
    if main != landing {
        // The move went through: the revert, whole, on the landing.
        assert_eq!(rev(&env, "main^"), landing);
        let msg = env.git(&["log", "-1", "--format=%B", "main"]);
        assert!(msg.contains(&format!("Agent-Unlands: {landing}")), "{msg}");
        assert_eq!(invoice(&env), ORIGINAL);
        assert_eq!(env.agent("audit", &[]).code, 0);
    }
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    env.git(&["fsck", "--no-dangling"]);
}

/// Commits the agent made after its landing stay on its branch, merged
/// with the reapplied work; a worktree with uncommitted changes keeps its
/// branch where it is, and the unland says how to bring the work back.
#[test]
fn the_branchs_later_commits_and_uncommitted_changes_are_kept() {
    let env = landed(&[]);
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/tax.rs", "fn tax() {}\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Tax, after the landing"]);
    let later = rev(&env, "agent/billing");
    let json = json_of(&env.ok(env.agent("unland", &["billing", "--json"])));
    assert_eq!(json["work"]["kept"], "reapplied", "{json}");
    let parents = env.git(&["log", "-1", "--format=%P", "agent/billing"]);
    assert!(parents.starts_with(&later), "{parents}");
    assert_eq!(
        std::fs::read_to_string(dir.join("src/billing/invoice.rs")).unwrap(),
        WORK
    );
    assert!(dir.join("src/billing/tax.rs").is_file());
    env.ok(env.agent("land", &["billing"]));
    assert_eq!(invoice(&env), WORK);
    assert!(env.repo().join("src/billing/tax.rs").is_file());

    // Landed again, then taken back while the agent has uncommitted work.
    write_in(&dir, "src/billing/tax.rs", "fn tax() { /* wip */ }\n");
    let tip = rev(&env, "agent/billing");
    let run = env.ok(env.agent("unland", &["billing", "--json"]));
    let json = json_of(&run);
    assert_eq!(json["work"]["kept"], "not_moved", "{json}");
    assert_eq!(rev(&env, "agent/billing"), tip);
    assert!(
        run.stderr.contains("agent/billing was not moved")
            && run.stderr.contains("merge --ff-only"),
        "{run:?}"
    );
    assert_eq!(invoice(&env), ORIGINAL);
    assert_eq!(
        std::fs::read_to_string(dir.join("src/billing/tax.rs")).unwrap(),
        "fn tax() { /* wip */ }\n"
    );

    // Once the worktree is clean, unland again finishes the job (as after
    // a crash between the base's move and the branch's): the branch takes
    // the work back, the base stays. Then it is done, and refused.
    env.git_in(&dir, &["checkout", "--", "src/billing/tax.rs"]);
    let base = rev(&env, "main");
    let run = env.ok(env.agent("unland", &["billing", "--json"]));
    assert_eq!(json_of(&run)["work"]["kept"], "reapplied", "{run:?}");
    assert!(run.stderr.contains("it is finished now"), "{run:?}");
    assert_eq!(rev(&env, "main"), base);
    let again = env.agent("unland", &["billing", "--json"]);
    assert_eq!(json_of(&again)["refusal"]["reason"], "already_unlanded");
    env.ok(env.agent("land", &["billing"]));
    assert_eq!(invoice(&env), WORK);
}

#[test]
fn a_base_checked_out_nowhere_moves_by_compare_and_swap() {
    let env = landed(&[]);
    let landing = rev(&env, "main");
    env.git(&["switch", "-q", "-c", "elsewhere"]);
    env.ok(env.agent("unland", &["billing"]));
    assert_eq!(rev(&env, "main^"), landing);
    assert_eq!(env.git(&["show", "main:src/billing/invoice.rs"]), ORIGINAL);
    let reflog = env.git(&["reflog", "-1", "--format=%gs", "refs/heads/main"]);
    assert_eq!(reflog.trim(), "git-agent unland billing: revert");
    let revert = rev(&env, "main");
    env.ok(env.agent("land", &["billing"]));
    env.ok(env.agent("unland", &["billing", "--hard"]));
    assert_eq!(rev(&env, "main"), revert);
}

/// A landing a person put back after `--hard` took it off is the latest
/// landing again.
#[test]
fn a_landing_put_back_by_hand_unlands_again() {
    let env = landed(&[]);
    let landing = rev(&env, "main");
    env.ok(env.agent("unland", &["billing", "--hard"]));
    env.git(&["merge", "-q", "--ff-only", &landing]);
    env.ok(env.agent("unland", &["billing", "--hard"]));
    assert_eq!(rev(&env, "main"), rev(&env, &format!("{landing}^")));
}

/// `--hard` where the base's files cannot follow (an untracked file where
/// the landing deleted one): the base goes back, nothing changed.
#[test]
fn unland_hard_refuses_when_the_base_worktree_cannot_follow() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    env.git_in(&dir, &["rm", "-q", "src/billing/secrets/key.rs"]);
    env.git_in(&dir, &["commit", "-q", "-m", "No more keys"]);
    env.ok(env.agent("land", &["billing"]));
    env.write("src/billing/secrets/key.rs", "mine, untracked\n");
    let before = env.state();
    let run = env.agent("unland", &["billing", "--hard", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let json = json_of(&run);
    assert_eq!(json["refusal"]["reason"], "base_update_failed", "{json}");
    assert_eq!(before, env.state());
    assert_eq!(
        std::fs::read_to_string(env.repo().join("src/billing/secrets/key.rs")).unwrap(),
        "mine, untracked\n"
    );
}

#[test]
fn a_landing_a_person_reverted_already_is_refused() {
    let env = landed(&[]);
    env.git(&["revert", "--no-edit", "-m", "1", "HEAD"]);
    let before = env.state();
    let run = env.agent("unland", &["billing", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(json_of(&run)["refusal"]["reason"], "already_undone");
    assert_eq!(before, env.state());
}

#[test]
fn a_clone_agents_branch_reapplies_the_work() {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent("add", &["billing", "--area", "billing", "--clone"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", WORK);
    env.git_in(&dir, &["commit", "-q", "-am", "Invoices total one"]);
    env.ok(env.agent("land", &["billing"]));
    // A commit in the clone after the landing, which this repository lacks.
    write_in(&dir, "src/billing/tax.rs", "fn tax() {}\n");
    env.git_in(&dir, &["add", "."]);
    env.git_in(&dir, &["commit", "-q", "-m", "Tax, in the clone"]);
    let json = json_of(&env.ok(env.agent("unland", &["billing", "--json"])));
    assert_eq!(json["work"]["kept"], "reapplied", "{json}");
    assert_eq!(invoice(&env), ORIGINAL);
    assert_eq!(
        std::fs::read_to_string(dir.join("src/billing/invoice.rs")).unwrap(),
        WORK
    );
    assert!(dir.join("src/billing/tax.rs").is_file());
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    env.ok(env.agent("land", &["billing"]));
    assert_eq!(invoice(&env), WORK);
    assert!(env.repo().join("src/billing/tax.rs").is_file());
}
