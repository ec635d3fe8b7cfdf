//! `git agent audit`, receipts under `server.require_receipts`, and
//! `doctor` on base moves outside `land`.

use std::path::{Path, PathBuf};

use crate::support::*;

const POLICY: &str = "version: 1\nareas:\n  billing: [src/billing/]\n  docs: [docs/]\nagents:\n  docs-bot: { scope: [docs/] }\n";

fn rev(env: &Env, what: &str) -> String {
    env.git(&["rev-parse", what]).trim().to_owned()
}

/// An agent `name` on `area` with one commit writing `file`.
fn agent_with_commit(env: &Env, name: &str, area: &str, file: &str) {
    env.ok(env.agent("add", &[name, "--area", area]));
    let dir = env.agent_dir(name);
    write_in(&dir, file, &format!("{name} was here\n"));
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "-m", &format!("{name}: {file}")]);
}

/// A person's commit on main, with `message` (which may carry trailers).
fn person_commits(env: &Env, file: &str, message: &str) {
    env.write(file, &format!("{message}\n"));
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--no-verify", "-m", message]);
}

fn audit(env: &Env, args: &[&str]) -> (Run, serde_json::Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = env.agent("audit", &all);
    let v = json_of(&run);
    (run, v)
}

/// The class audit gives the commit whose summary is `summary`.
fn class_of<'a>(v: &'a serde_json::Value, summary: &str) -> &'a serde_json::Value {
    v["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["summary"] == summary)
        .unwrap_or_else(|| panic!("no commit '{summary}' in {v:#}"))
}

#[test]
fn landings_of_every_strategy_verify_and_a_persons_commits_are_direct() {
    let env = Env::with_policy(POLICY);
    agent_with_commit(&env, "billing", "billing", "src/billing/a.rs");
    env.ok(env.agent("land", &["billing"]));
    agent_with_commit(&env, "docs", "docs", "docs/a.md");
    env.ok(env.agent("land", &["docs", "--strategy", "squash"]));
    person_commits(&env, "README.md", "A person edits the README");
    agent_with_commit(&env, "tax", "billing", "src/billing/tax.rs");
    env.ok(env.agent("land", &["tax", "--strategy", "rebase"]));
    agent_with_commit(&env, "fast", "docs", "docs/fast.md");
    env.ok(env.agent("land", &["fast", "--strategy", "ff"]));

    // The receipt records the scope a registered agent landed under.
    let squash = env.git(&["log", "-1", "--format=%B", "main~3"]);
    assert!(squash.contains("\nAgent-Scope: docs/\n"), "{squash}");

    let (run, v) = audit(&env, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["base"], "main");
    let landed = class_of(&v, "Land agent 'billing' (agent/billing) into main");
    assert_eq!(landed["class"], "landed", "{v:#}");
    assert_eq!(landed["agent"], "billing");
    assert_eq!(landed["evidence"], "receipt");
    assert_eq!(class_of(&v, "docs: docs/a.md")["class"], "landed");
    assert_eq!(class_of(&v, "tax: src/billing/tax.rs")["class"], "landed");
    let fast = class_of(&v, "fast: docs/fast.md");
    assert_eq!(fast["class"], "landed", "{v:#}");
    assert_eq!(fast["evidence"], "reflog");
    for direct in ["A person edits the README", "Policy", "Initial"] {
        assert_eq!(class_of(&v, direct)["class"], "direct", "{v:#}");
    }
    assert_eq!(v["counts"]["landed"], 4);
    assert_eq!(v["counts"]["direct"], 3);
    assert_eq!(v["counts"]["suspicious"], 0);
    assert_eq!(v["moves"], serde_json::json!([]));

    let text = env.ok(env.agent("audit", &[]));
    assert!(
        text.stdout
            .contains("main: 4 landed, 3 direct, 0 suspicious"),
        "{text:?}"
    );
}

#[test]
fn forged_receipts_do_not_verify() {
    let env = Env::with_policy(POLICY);
    let policy = rev(&env, "main:.git-agent.yaml");
    let readme = rev(&env, "main:README.md");
    let good = rev(&env, "main");
    // A policy blob that is not the base's.
    person_commits(
        &env,
        "src/billing/x.rs",
        &format!(
            "Wrong policy\n\nAgent: billing\nAgent-Policy: {readme}\nAgent-Scope: src/billing/"
        ),
    );
    // The right policy, but a path outside the scope it claims.
    person_commits(
        &env,
        "src/api/y.rs",
        &format!(
            "Out of scope\n\nAgent: billing\nAgent-Policy: {policy}\nAgent-Scope: src/billing/"
        ),
    );
    // A scope that claims everything still cannot change the policy.
    env.write(
        ".git-agent.yaml",
        &format!("{POLICY}protected: [Cargo.lock]\n"),
    );
    person_commits(
        &env,
        "docs/w.md",
        &format!("Widened\n\nAgent: billing\nAgent-Policy: {policy}\nAgent-Scope: *"),
    );
    // A registered agent's name, but no scope recorded.
    person_commits(
        &env,
        "src/billing/z.rs",
        &format!(
            "No scope\n\nAgent: billing\nAgent-Policy: {}",
            rev(&env, "main:.git-agent.yaml")
        ),
    );
    // A standing agent: its committed scope applies.
    person_commits(
        &env,
        "src/api/bot.rs",
        &format!(
            "Bot\n\nAgent: docs-bot\nAgent-Policy: {}",
            rev(&env, "main:.git-agent.yaml")
        ),
    );

    let (run, v) = audit(&env, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(v["ok"], false);
    let problems = |s: &str| {
        let c = class_of(&v, s);
        assert_eq!(c["class"], "suspicious", "{s}: {v:#}");
        c["problems"].to_string()
    };
    assert!(problems("Wrong policy").contains(&format!("names policy {readme}")));
    assert!(problems("Out of scope").contains("src/api/y.rs, outside the scope of 'billing'"));
    assert!(problems("Widened").contains(".git-agent.yaml"));
    assert!(problems("No scope").contains("records no scope"));
    assert!(problems("Bot").contains("src/api/bot.rs"));
    assert_eq!(v["counts"]["suspicious"], 5);

    // --since leaves out what came before.
    let since_all = env.agent("audit", &["--since", "HEAD"]);
    assert_eq!(since_all.code, 0, "{since_all:?}");
    let (run, v) = audit(&env, &["--since", &good]);
    assert_eq!(run.code, 1);
    assert_eq!(v["commits"].as_array().unwrap().len(), 5, "{v:#}");

    let text = env.agent("audit", &[]);
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("suspicious"), "{text:?}");
    let bad = env.agent("audit", &["--since", "no-such-rev"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("--since 'no-such-rev'"), "{bad:?}");
}

#[test]
fn an_agent_branch_pushed_onto_the_base_is_suspicious() {
    let env = Env::with_policy(POLICY);
    agent_with_commit(&env, "billing", "billing", "src/billing/a.rs");
    // A person moves main to the agent's branch without `land`, from
    // another branch so that main is not checked out.
    env.git(&["switch", "-q", "-c", "elsewhere"]);
    env.git(&["push", "-q", ".", "agent/billing:main"]);
    env.git(&["switch", "-q", "main"]);

    let (run, v) = audit(&env, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let c = class_of(&v, "billing: src/billing/a.rs");
    assert_eq!(c["class"], "suspicious", "{v:#}");
    assert_eq!(c["agent"], "billing");
    assert!(
        c["problems"][0]
            .as_str()
            .unwrap()
            .contains("without a landing")
    );
    let moves = v["moves"].as_array().unwrap();
    assert_eq!(moves.len(), 1, "{v:#}");
    assert_eq!(moves[0]["new"], rev(&env, "main"));

    let doctor = env.agent("doctor", &["--json"]);
    assert_eq!(doctor.code, 1, "{doctor:?}");
    let d = json_of(&doctor);
    assert_eq!(d["problems"][0]["kind"], "base_moved_outside_land", "{d:#}");
    assert_eq!(d["problems"][0]["fixed"], false);
    let fix = env.agent("doctor", &["--fix"]);
    assert_eq!(fix.code, 1, "{fix:?}");
    assert!(fix.stdout.contains("outside `git agent land`"), "{fix:?}");
}

#[test]
fn update_ref_of_the_base_is_suspicious_until_doctor_sees_a_landing() {
    let env = Env::with_policy(POLICY);
    env.git(&["switch", "-q", "-c", "side"]);
    person_commits(&env, "README.md", "On the side");
    env.git(&["update-ref", "refs/heads/main", "side"]);
    env.git(&["switch", "-q", "main"]);

    let (run, v) = audit(&env, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(class_of(&v, "On the side")["class"], "direct");
    let moves = v["moves"].as_array().unwrap();
    assert_eq!(moves.len(), 1, "{v:#}");
    assert!(moves[0]["problem"].as_str().unwrap().contains("update-ref"));
    let doctor = env.agent("doctor", &["--json"]);
    assert_eq!(doctor.code, 1, "{doctor:?}");

    // doctor looks only after the last landing; audit keeps the history.
    agent_with_commit(&env, "billing", "billing", "src/billing/a.rs");
    env.ok(env.agent("land", &["billing"]));
    let doctor = env.agent("doctor", &["--json"]);
    assert_eq!(doctor.code, 0, "{doctor:?}");
    let (run, _) = audit(&env, &[]);
    assert_eq!(run.code, 1, "{run:?}");
}

/// A bare server cloned from `env` with the pre-receive gate, and a clone
/// `work` of it.
fn server(env: &Env) -> (PathBuf, PathBuf) {
    let server = env.root.join("server.git");
    env.git(&["clone", "-q", "--bare", ".", server.to_str().unwrap()]);
    env.ok(env.agent_in(&server, "hooks", &["install", "--server"]));
    env.git_in(
        &env.root,
        &["clone", "-q", server.to_str().unwrap(), "work"],
    );
    (server, env.root.join("work"))
}

fn push_as(env: &Env, dir: &Path, pusher: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = env.command("git", dir);
    cmd.arg("push").arg("-q").args(args);
    if let Some(p) = pusher {
        cmd.env("GIT_PUSHER", p);
    }
    Run::from_output(cmd.output().unwrap())
}

fn server_main(env: &Env, server: &Path) -> String {
    env.git_in(server, &["rev-parse", "main"]).trim().to_owned()
}

#[test]
fn require_receipts_takes_landings_and_humans_only() {
    let env = Env::with_policy(&format!(
        "{POLICY}server: {{ require_receipts: true, humans: [alice] }}\n"
    ));
    let (server, work) = server(&env);
    let url = server.to_str().unwrap();

    // A landing whose receipt verifies: accepted from anyone.
    agent_with_commit(&env, "billing", "billing", "src/billing/a.rs");
    env.ok(env.agent("land", &["billing"]));
    let run = push_as(&env, &env.repo(), Some("bob"), &[url, "main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(server_main(&env, &server), rev(&env, "main"));

    // A direct commit: refused for bob and for an unknown pusher; alice may.
    env.git_in(&work, &["pull", "-q"]);
    write_in(&work, "README.md", "# Shop, by hand\n");
    env.git_in(&work, &["commit", "-q", "--no-verify", "-am", "By hand"]);
    let before = server_main(&env, &server);
    for pusher in [Some("bob"), None] {
        let run = push_as(&env, &work, pusher, &["origin", "main"]);
        assert_ne!(run.code, 0, "{run:?}");
        assert!(run.stderr.contains("no receipt: not a landing"), "{run:?}");
        assert!(run.stderr.contains("server.humans (alice)"), "{run:?}");
        assert_eq!(server_main(&env, &server), before, "nothing reached main");
    }
    let run = push_as(&env, &work, Some("alice"), &["origin", "main"]);
    assert_eq!(run.code, 0, "{run:?}");

    // A forged receipt: refused.
    let policy = env.git_in(&work, &["rev-parse", "main:.git-agent.yaml"]);
    write_in(&work, "src/api/routes.rs", "forged\n");
    let forged = format!(
        "Forged\n\nAgent: billing\nAgent-Policy: {}\nAgent-Scope: src/billing/",
        policy.trim()
    );
    env.git_in(&work, &["commit", "-q", "--no-verify", "-am", &forged]);
    let before = server_main(&env, &server);
    let run = push_as(&env, &work, Some("bob"), &["origin", "main"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("src/api/routes.rs, outside the scope"),
        "{run:?}"
    );
    assert_eq!(server_main(&env, &server), before);

    // Not a fast-forward: refused, even for alice.
    env.git_in(&work, &["reset", "-q", "--hard", "HEAD~2"]);
    let run = push_as(&env, &work, Some("alice"), &["--force", "origin", "main"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("only fast-forwards"), "{run:?}");
    assert_eq!(server_main(&env, &server), before);

    // Other branches are not the base's business.
    env.git_in(&work, &["switch", "-q", "-c", "topic"]);
    let run = push_as(&env, &work, Some("bob"), &["origin", "topic"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn without_require_receipts_direct_pushes_to_the_base_pass() {
    let env = Env::with_policy(POLICY);
    let (server, work) = server(&env);
    write_in(&work, "README.md", "# Shop, by hand\n");
    env.git_in(&work, &["commit", "-q", "--no-verify", "-am", "By hand"]);
    let run = push_as(&env, &work, None, &["origin", "main"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        server_main(&env, &server),
        env.git_in(&work, &["rev-parse", "main"]).trim()
    );
}
