//! Merge commits and the scope: what a merge brings from the base is not
//! the agent's change, and nothing else a merge does escapes the check
//! (forged `MERGE_HEAD`, plumbing merges, octopus merges, `-s ours`).

use std::path::{Path, PathBuf};

use crate::support::{Env, Run, json_of, write_in};

const POLICY: &str =
    "version: 1\nprotected: [secret.txt, .github/]\nareas:\n  billing: [src/billing/]\n";

/// `main~1` has `secret.txt` v1 and no policy; `main` has the policy and
/// v2; agent billing's worktree starts at `main`.
fn setup() -> (Env, PathBuf) {
    let env = Env::new();
    env.write("secret.txt", "v1\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "Secret v1"]);
    env.write("secret.txt", "v2\n");
    env.write(".git-agent.yaml", POLICY);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "Policy, secret v2"]);
    env.ok(env.agent("hooks", &["install"]));
    env.ok(env.agent("add", &["billing", "--area", "billing"]));
    let dir = env.agent_dir("billing");
    (env, dir)
}

fn git_dir(env: &Env, dir: &Path) -> PathBuf {
    PathBuf::from(env.git_in(dir, &["rev-parse", "--absolute-git-dir"]).trim())
}

/// The issue's attack: a forged `MERGE_HEAD` naming an old base commit.
fn forge_merge(env: &Env, dir: &Path, merge_head: &str) {
    let id = env.git(&["rev-parse", merge_head]);
    let gd = git_dir(env, dir);
    std::fs::write(gd.join("MERGE_HEAD"), id).unwrap();
    std::fs::write(gd.join("MERGE_MODE"), "no-ff").unwrap();
    env.git_in(dir, &["rm", "-q", ".git-agent.yaml"]);
    write_in(dir, "secret.txt", "v1\n");
    write_in(dir, "src/billing/a.rs", "2\n");
    env.git_in(dir, &["add", "-A"]);
}

fn refused_paths(run: &Run) -> Vec<String> {
    let v = json_of(run);
    let mut paths: Vec<String> = v["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

fn check_range(env: &Env) -> Run {
    env.agent(
        "scope",
        &["check", "--range", "main..agent/billing", "--json"],
    )
}

/// The range check and `land` both refuse, and `main` does not move.
fn assert_branch_refused(env: &Env, expected: &[&str]) {
    let run = check_range(env);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(refused_paths(&run), expected, "{run:?}");
    let main = env.git(&["rev-parse", "main"]);
    let run = env.agent("land", &["billing", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        json_of(&run)["refusal"]["reason"],
        "out_of_scope",
        "{run:?}"
    );
    assert_eq!(env.git(&["rev-parse", "main"]), main);
}

#[test]
fn a_forged_merge_head_naming_an_old_base_commit_hides_nothing() {
    let (env, dir) = setup();
    forge_merge(&env, &dir, "main~1");
    let run = env.git_run(&dir, &["commit", "-q", "-m", "Invoices"]);
    assert_ne!(run.code, 0, "the gate let it through: {run:?}");
    assert!(run.stderr.contains("secret.txt"), "{run:?}");
    assert!(run.stderr.contains(".git-agent.yaml"), "{run:?}");
    // Past the gate with --no-verify, the range check and land still refuse.
    env.git_in(&dir, &["commit", "-q", "--no-verify", "-m", "Invoices"]);
    assert_eq!(
        env.git_in(&dir, &["rev-list", "--parents", "-1", "HEAD"])
            .split_whitespace()
            .count(),
        3,
        "a merge commit"
    );
    assert_branch_refused(&env, &[".git-agent.yaml", "secret.txt"]);
}

#[test]
fn the_gate_trusts_only_a_merge_head_that_is_the_bases_tip_and_new() {
    let (env, dir) = setup();
    // An unrelated commit holding the old secret.
    let tree = env.git(&["rev-parse", "main~1^{tree}"]);
    let unrelated = env.git(&["commit-tree", tree.trim(), "-m", "Unrelated"]);
    for merge_head in [unrelated.trim(), "main", "main~1"] {
        forge_merge(&env, &dir, merge_head);
        let run = env.agent_in(&dir, "scope", &["check", "--json"]);
        assert_eq!(run.code, 1, "MERGE_HEAD {merge_head}: {run:?}");
        assert_eq!(
            refused_paths(&run),
            [".git-agent.yaml", "secret.txt"],
            "MERGE_HEAD {merge_head}"
        );
        env.git_in(&dir, &["reset", "-q", "--hard"]);
    }
}

/// A merge commit written with plumbing and pushed into the branch, as
/// `--no-verify` would: its tree drops the policy and brings back v1.
fn plumbing_merge(env: &Env, dir: &Path, parents: &[&str]) {
    forge_merge(env, dir, "main");
    let tree = env.git_in(dir, &["write-tree"]);
    let mut args = vec!["commit-tree", tree.trim(), "-m", "Invoices"];
    let ids: Vec<String> = parents
        .iter()
        .map(|p| env.git_in(dir, &["rev-parse", p]).trim().to_owned())
        .collect();
    for id in &ids {
        args.extend(["-p", id.as_str()]);
    }
    let merge = env.git_in(dir, &args);
    // The branch and its worktree move to it, as a commit would.
    env.git_in(dir, &["reset", "-q", "--hard", merge.trim()]);
}

#[test]
fn plumbing_and_octopus_merges_with_old_base_commits_hide_nothing() {
    for parents in [
        &["HEAD", "main~1"][..],
        &["HEAD", "main~1", "main"],
        &["HEAD", "main", "main~1"],
        &["main~1", "HEAD"],
    ] {
        let (env, dir) = setup();
        plumbing_merge(&env, &dir, parents);
        let run = check_range(&env);
        assert_eq!(run.code, 1, "parents {parents:?}: {run:?}");
        let refused = refused_paths(&run);
        assert!(
            refused.contains(&"secret.txt".to_owned())
                && refused.contains(&".git-agent.yaml".to_owned()),
            "parents {parents:?}: {refused:?}"
        );
    }
}

#[test]
fn an_unrelated_second_parent_brings_nothing_unchecked() {
    let (env, dir) = setup();
    let tree = env.git(&["rev-parse", "main~1^{tree}"]);
    let unrelated = env.git(&["commit-tree", tree.trim(), "-m", "Unrelated"]);
    plumbing_merge(&env, &dir, &["HEAD", unrelated.trim()]);
    let run = check_range(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        refused_paths(&run).contains(&"secret.txt".to_owned()),
        "{run:?}"
    );
    assert_branch_refused(
        &env,
        &refused_paths(&run)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
}

#[test]
fn a_merge_that_keeps_its_own_side_over_the_bases_change_is_the_agents() {
    let (env, dir) = setup();
    // A person changes the protected file on the base.
    env.write("secret.txt", "v3\n");
    env.git(&["commit", "-q", "-am", "Secret v3"]);
    // `git merge -s ours main`: the first-parent diff is empty.
    env.git_in(
        &dir,
        &["merge", "-q", "--no-ff", "-s", "ours", "--no-edit", "main"],
    );
    assert_eq!(
        env.git_in(&dir, &["diff", "HEAD^1", "HEAD", "--name-only"]),
        ""
    );
    assert_branch_refused(&env, &["secret.txt"]);
    // The gate sees the same while such a merge is committed.
    env.git_in(&dir, &["reset", "-q", "--hard", "HEAD^1"]);
    env.git_in(&dir, &["merge", "-q", "--no-ff", "--no-commit", "main"]);
    env.git_in(&dir, &["checkout", "HEAD", "--", "secret.txt"]);
    let run = env.git_run(&dir, &["commit", "-q", "--no-edit"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("secret.txt"), "{run:?}");
}

#[test]
fn syncing_by_merge_stays_the_bases_change_after_the_base_moves_on() {
    let (env, dir) = setup();
    write_in(&dir, "src/billing/a.rs", "agent\n");
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "-m", "Agent work"]);
    env.write("secret.txt", "v3\n");
    env.write("src/api/routes.rs", "base 1\n");
    env.git(&["commit", "-q", "-am", "Base 1"]);
    // Through the gate: a merge of the base's current tip.
    env.git_in(&dir, &["merge", "-q", "--no-commit", "main"]);
    env.git_in(&dir, &["commit", "-q", "--no-edit"]);
    env.ok(check_range(&env));
    // The base changes the same files again: the first merge took versions
    // the base no longer has, yet it took them from the base.
    env.write("secret.txt", "v4\n");
    env.write("src/api/routes.rs", "base 2\n");
    env.git(&["commit", "-q", "-am", "Base 2"]);
    env.ok(check_range(&env));
    env.ok(env.agent("sync", &["billing", "--merge"]));
    env.ok(check_range(&env));
    env.ok(env.agent("land", &["billing", "--strategy", "ff"]));
    assert_eq!(env.git(&["show", "main:secret.txt"]), "v4\n");
    assert_eq!(env.git(&["show", "main:src/billing/a.rs"]), "agent\n");
}

/// Write a file whose name is `rel` (bytes, not UTF-8) under `dir`.
fn write_bytes_name(dir: &Path, rel: &[u8], text: &str) {
    use std::os::unix::ffi::OsStrExt;
    let path = dir.join(std::ffi::OsStr::from_bytes(rel));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The command line of the refusal's fix that starts with `prefix`.
fn fix_line(stderr: &str, prefix: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{stderr}"))
        .to_owned()
}

fn bash(env: &Env, dir: &Path, line: &str) -> Run {
    Run::from_output(
        env.command("bash", dir)
            .args(["-c", line])
            .output()
            .unwrap(),
    )
}

#[test]
fn a_name_that_is_not_utf8_is_checked_inside_a_merge_and_unstaged_as_printed() {
    let (env, dir) = setup();
    forge_merge(&env, &dir, "main~1");
    env.git_in(
        &dir,
        &["reset", "-q", "--", "secret.txt", ".git-agent.yaml"],
    );
    env.git_in(&dir, &["checkout", "--", "secret.txt", ".git-agent.yaml"]);
    write_bytes_name(&dir, b".github/workflows/evil\xff.yml", "on: push\n");
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "Invoices"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains(r#"".github/workflows/evil\377.yml"  protected by '.github/'"#),
        "{run:?}"
    );
    // The printed command unstages exactly that file.
    let restore = fix_line(&run.stderr, "git restore --staged");
    assert_eq!(
        restore,
        r"git restore --staged -- $'.github/workflows/evil\377.yml'"
    );
    env.ok(bash(&env, &dir, &restore));
    let staged = env.git_in(&dir, &["diff", "--cached", "--name-only"]);
    assert_eq!(staged, "src/billing/a.rs\n");
    env.git_in(&dir, &["commit", "-q", "-m", "Invoices"]);
    // Committed past the gate, the range check and land refuse it.
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "--no-verify", "-m", "Workflow"]);
    assert_branch_refused(&env, &[".github/workflows/evil\u{FFFD}.yml"]);
}

#[test]
fn the_suggested_patterns_grant_exactly_the_refused_paths() {
    let (env, dir) = setup();
    let names = [
        "*", "[ab]", "a", "!x", "#x", "x", "q?", "qq", "sub/*", "sub/y", "sp ",
    ];
    for name in names {
        write_in(&dir, name, "new\n");
    }
    write_in(&dir, "src/billing/ok.rs", "ok\n");
    let refused = ["*", "[ab]", "!x", "#x", "q?", "sub/*", "sp "];
    for name in refused {
        env.git_in(&dir, &["add", "--", &format!(":(literal){name}")]);
    }
    let run = env.git_run(&dir, &["add", "src/billing/ok.rs"]);
    assert_eq!(run.code, 0);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "Odd names"]);
    assert_ne!(run.code, 0, "{run:?}");
    // The person runs the suggested line; then the agent's commit passes.
    let add = fix_line(&run.stderr, "git agent scope add billing");
    env.ok(bash(&env, &env.repo(), &add));
    let patterns: Vec<String> =
        json_of(&env.ok(env.agent("scope", &["billing", "--json"])))["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["origin"] == "scope")
            .map(|p| p["pattern"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(patterns.len(), refused.len(), "{patterns:?}");
    // Each pattern matches its one path, by our matcher and by git's.
    let exclude = git_dir(&env, &env.repo()).join("info/exclude");
    for pattern in &patterns {
        std::fs::write(&exclude, format!("{pattern}\n")).unwrap();
        let ours: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| {
                let run = env.agent_in(&dir, "scope", &["check", "--paths", n]);
                run.code == 0
            })
            .collect();
        let gits: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| {
                env.git_run(&env.repo(), &["check-ignore", "-q", "--no-index", "--", n])
                    .code
                    == 0
            })
            .collect();
        assert_eq!(gits.len(), 1, "git: {pattern} matches {gits:?}");
        assert!(ours.contains(&gits[0]), "{pattern}: {ours:?} vs {gits:?}");
    }
    env.git_in(&dir, &["commit", "-q", "-m", "Odd names"]);
    // Siblings stay outside the scope.
    for sibling in ["a", "x", "qq", "sub/y"] {
        let run = env.agent_in(&dir, "scope", &["check", "--paths", sibling]);
        assert_eq!(run.code, 1, "{sibling} was granted: {run:?}");
    }
}

#[test]
fn a_committed_exclusion_wins_over_a_registered_pattern() {
    let env = Env::with_policy("version: 1\nagents:\n  writer: { scope: [\"!docs/private/\"] }\n");
    env.write("docs/private/plan.md", "secret plan\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "Private docs"]);
    env.ok(env.agent("add", &["writer", "--scope", "docs/"]));
    let dir = env.agent_dir("writer");
    let check = |path: &str| {
        env.agent_in(&dir, "scope", &["check", "--paths", path])
            .code
    };
    assert_eq!(check("docs/guide.md"), 0);
    assert_eq!(check("docs/private/plan.md"), 1);
    let v = json_of(&env.agent("scope", &["writer", "--json"]));
    let origins: Vec<&str> = v["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["origin"].as_str().unwrap())
        .collect();
    assert_eq!(origins, ["scope", "standing"], "{v}");
}
