//! Tamper evidence: an agent that widens its own rights outside `git agent`
//! (the registry, the seal record, the hooks, its worktree's config) is
//! caught by `land` and `doctor`, each change named.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::support::*;

const POLICY: &str = "version: 1\n";

/// Agent `ign` with scope `src/billing/` minus its secrets.
fn with_ign() -> Env {
    let env = Env::with_policy(POLICY);
    env.ok(env.agent(
        "add",
        &[
            "ign",
            "--scope",
            "src/billing/",
            "--scope",
            "!src/billing/secrets/",
        ],
    ));
    env
}

/// The common directory, asked from the agent's worktree as an agent would.
fn common_dir(env: &Env) -> PathBuf {
    let dir = env.agent_dir("ign");
    let out = env.git_in(
        &dir,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    );
    PathBuf::from(out.trim())
}

/// Edit `ign`'s entry in a JSON file under `<common>/git-agent/`, as an
/// agent with a text editor would.
fn edit_entry(env: &Env, file: &str, table: &str, change: impl FnOnce(&mut serde_json::Value)) {
    let path = common_dir(env).join("git-agent").join(file);
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut doc[table]["ign"]);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

/// Commit `path` in ign's worktree (the hook runs; it reads the registry).
fn commit_in_ign(env: &Env, path: &str) -> Run {
    let dir = env.agent_dir("ign");
    write_in(&dir, path, "// sneaked\n");
    env.git_in(&dir, &["add", "-A"]);
    env.git_run(&dir, &["commit", "-q", "-m", "Sneak"])
}

/// `land ign` refuses as `reason`, names every needle, and the base stays.
fn assert_land_refused(env: &Env, reason: &str, needles: &[&str]) {
    let base = env.git(&["rev-parse", "main"]);
    let run = env.agent("land", &["ign", "--no-checks"]);
    assert_eq!(run.code, 1, "{run:?}");
    for n in needles {
        assert!(run.stderr.contains(n), "stderr lacks {n:?}: {run:?}");
    }
    let json = json_of(&env.agent("land", &["ign", "--no-checks", "--json"]));
    assert_eq!(json["refusal"]["reason"], reason, "{json}");
    for n in needles {
        let message = json["refusal"]["message"].as_str().unwrap();
        assert!(message.contains(n), "{message}");
    }
    assert_eq!(base, env.git(&["rev-parse", "main"]), "the base moved");
}

#[test]
fn a_scope_widened_in_the_registry_is_refused_at_land_naming_the_pattern() {
    let env = with_ign();
    edit_entry(&env, "agents.json", "agents", |e| {
        e["scope"].as_array_mut().unwrap().push("build.rs".into())
    });
    // The gate believes the registry, so the commit goes through ...
    assert_eq!(commit_in_ign(&env, "build.rs").code, 0);
    // ... and land names what changed.
    assert_land_refused(
        &env,
        "tampered",
        &["scope of 'ign' gained build.rs outside `git agent scope`"],
    );
    let doctor = env.agent("doctor", &[]);
    assert_eq!(doctor.code, 1, "{doctor:?}");
    assert!(doctor.stdout.contains("gained build.rs"), "{doctor:?}");
    let json = json_of(&env.agent("doctor", &["--json"]));
    assert_eq!(json["problems"][0]["kind"], "tampered", "{json}");

    // --fix puts the sealed scope back; it does not accept the change.
    env.ok(env.agent("doctor", &["--fix"]));
    let scope = json_of(&env.agent("scope", &["ign", "--json"]));
    let patterns: Vec<&str> = scope["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pattern"].as_str().unwrap())
        .collect();
    assert_eq!(patterns, ["src/billing/", "!src/billing/secrets/"]);
    assert_land_refused(&env, "out_of_scope", &["build.rs"]);
}

/// A hand edit of an entry.
type Edit = fn(&mut serde_json::Value);

#[test]
fn other_widenings_of_the_entry_are_named() {
    let cases: [(&str, Edit, &str); 3] = [
        (
            "role",
            |e| e["role"] = "writer".into(),
            "role of 'ign' changed from proposer to writer",
        ),
        (
            "exclusion",
            |e| {
                e["scope"].as_array_mut().unwrap().pop();
            },
            "scope of 'ign' lost !src/billing/secrets/",
        ),
        (
            "base",
            |e| e["base"] = "other".into(),
            "base of 'ign' changed from main to other",
        ),
    ];
    for (what, change, needle) in cases {
        let env = Env::with_policy(POLICY);
        env.git(&["branch", "other"]);
        env.ok(env.agent(
            "add",
            &[
                "ign",
                "--role",
                "proposer",
                "--scope",
                "src/billing/",
                "--scope",
                "!src/billing/secrets/",
            ],
        ));
        edit_entry(&env, "agents.json", "agents", change);
        commit_in_ign(&env, "src/billing/invoice.rs");
        eprintln!("case {what}");
        assert_land_refused(&env, "tampered", &[needle]);
        // No `git agent` change may seal the edit in passing.
        let run = env.agent("scope", &["add", "ign", "docs/"]);
        assert_eq!(run.code, 1, "{what}: {run:?}");
        assert!(run.stderr.contains(needle), "{what}: {run:?}");
    }
}

#[test]
fn a_seal_record_edited_along_with_the_registry_does_not_verify() {
    let env = with_ign();
    for file in ["agents.json", "seals.json"] {
        let table = if file == "agents.json" {
            "agents"
        } else {
            "seals"
        };
        edit_entry(&env, file, table, |e| {
            e["scope"].as_array_mut().unwrap().push("build.rs".into())
        });
    }
    commit_in_ign(&env, "build.rs");
    assert_land_refused(
        &env,
        "tampered",
        &["the seal record was changed outside `git agent`"],
    );
    // --fix cannot trust the record, so it leaves the problem to a person.
    let run = env.agent("doctor", &["--fix"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("left as it is"), "{run:?}");
}

#[test]
fn a_deleted_seal_record_is_refused_until_a_person_reseals() {
    let env = with_ign();
    std::fs::remove_file(common_dir(&env).join("git-agent/seals.json")).unwrap();
    commit_in_ign(&env, "src/billing/invoice.rs");
    assert_land_refused(
        &env,
        "unsealed",
        &["carries no seal", "git agent doctor --reseal"],
    );
    // --fix alone does not accept it; --reseal does, and not from an agent's context.
    assert_eq!(env.agent("doctor", &["--fix"]).code, 1);
    let from_agent = env.agent_in(&env.agent_dir("ign"), "doctor", &["--reseal"]);
    assert_eq!(from_agent.code, 1, "{from_agent:?}");
    let json = json_of(&env.agent("doctor", &["--json"]));
    assert_eq!(json["problems"][0]["kind"], "unsealed", "{json}");
    env.ok(env.agent("doctor", &["--reseal"]));
    env.ok(env.agent("land", &["ign", "--no-checks"]));
}

#[test]
fn a_hook_edited_or_bypassed_by_config_is_named() {
    let env = with_ign();
    let hook = common_dir(&env).join("hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\nexit 0\n").unwrap();
    commit_in_ign(&env, "build.rs");
    assert_land_refused(&env, "tampered", &["the pre-commit hook", "was changed"]);
    std::fs::remove_file(&hook).unwrap();
    assert_land_refused(&env, "tampered", &["the pre-commit hook", "was deleted"]);

    let env = with_ign();
    let dir = env.agent_dir("ign");
    env.git_in(&dir, &["config", "extensions.worktreeConfig", "true"]);
    env.git_in(
        &dir,
        &["config", "--worktree", "core.hooksPath", "/dev/null"],
    );
    commit_in_ign(&env, "src/billing/invoice.rs");
    assert_land_refused(
        &env,
        "tampered",
        &["git runs hooks for 'ign' from /dev/null"],
    );
    env.git_in(&dir, &["config", "--worktree", "core.ignoreCase", "true"]);
    env.git_in(&dir, &["config", "--worktree", "--unset", "core.hooksPath"]);
    assert_land_refused(&env, "tampered", &["core.ignoreCase", "from unset to true"]);
}

#[test]
fn a_scope_widened_through_git_agent_keeps_landing() {
    let env = with_ign();
    env.ok(env.agent("scope", &["add", "ign", "build.rs"]));
    commit_in_ign(&env, "build.rs");
    env.ok(env.agent("doctor", &[]));
    env.ok(env.agent("land", &["ign", "--no-checks"]));
}

#[test]
fn hooks_reinstalled_by_a_person_are_not_tampering() {
    let env = with_ign();
    let hook = common_dir(&env).join("hooks/pre-commit");
    // A foreign hook the team had, then the gate added to it again.
    env.ok(env.agent("hooks", &["uninstall"]));
    std::fs::write(&hook, "#!/bin/sh\necho team hook\n").unwrap();
    env.ok(env.agent("hooks", &["install"]));
    commit_in_ign(&env, "src/billing/invoice.rs");
    env.ok(env.agent("doctor", &[]));
    env.ok(env.agent("land", &["ign", "--no-checks"]));
    // The agent editing the hook afterwards is still caught.
    std::fs::write(&hook, "#!/bin/sh\nexit 0\n").unwrap();
    commit_in_ign(&env, "src/billing/more.rs");
    assert_land_refused(&env, "tampered", &["the pre-commit hook", "was changed"]);
}

#[test]
fn the_key_is_private_and_a_bad_one_is_bad_input() {
    let env = with_ign();
    let key = env.root.join(".config/git-agent/seal.key");
    let mode = |p: &PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&key.parent().unwrap().to_owned()), 0o700);
    let good = std::fs::read(&key).unwrap();

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = env.state();
    let run = env.agent("land", &["ign", "--no-checks"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["readable or writable by other users", "chmod 600"],
    );

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&key, "not a key\n").unwrap();
    let run = env.agent("scope", &["add", "ign", "docs/"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &["is not a seal key", "doctor --reseal"],
    );
    let run = env.agent("add", &["other", "--scope", "docs/"]);
    assert_bad_input(&env, &before, &run, &["is not a seal key"]);

    std::fs::remove_file(&key).unwrap();
    std::fs::create_dir(&key).unwrap();
    let run = env.agent("doctor", &[]);
    assert_bad_input(&env, &before, &run, &["is not a regular file"]);

    std::fs::remove_dir(&key).unwrap();
    std::fs::write(&key, good).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.ok(env.agent("doctor", &[]));
}

#[test]
fn a_new_key_makes_every_seal_fail_until_resealed() {
    let env = with_ign();
    std::fs::remove_file(env.root.join(".config/git-agent/seal.key")).unwrap();
    assert_land_refused(&env, "tampered", &["sealed with another key"]);
    env.ok(env.agent("doctor", &["--reseal"]));
    env.ok(env.agent("doctor", &[]));
}
