//! Sparse worktrees: `add --sparse` checks out the scope and the policy's
//! `context:`, and every command works on them unchanged.

use std::path::Path;

use crate::support::*;

const POLICY: &str = "version: 1\ncontext: [libs/shared/]\nprotected: [Cargo.lock, docs/]\n";

/// The repository of [`Env::new`] with a shared library, the policy and the gate.
fn env_with(policy: &str) -> Env {
    let env = Env::new();
    env.write("libs/shared/util.rs", "fn util() {}\n");
    env.write("libs/big/blob.rs", "fn blob() {}\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "Libraries"]);
    env.commit_policy(policy);
    env.ok(env.agent("hooks", &["install"]));
    env
}

/// Every file checked out in `dir`, without git's and the guardrails' own.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if [".git", ".claude", ".codex", ".cursor", ".gemini"].contains(&name.as_str()) {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e.path().strip_prefix(root).unwrap().to_owned();
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn config(env: &Env, dir: &Path, key: &str) -> String {
    env.git_in(dir, &["config", "--get", key]).trim().to_owned()
}

fn list_row(env: &Env, name: &str) -> serde_json::Value {
    let v = json_of(&env.ok(env.agent("list", &["--json"])));
    v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
        .unwrap()
}

#[test]
fn directories_check_out_in_cone_mode_with_a_sparse_index() {
    let env = env_with(POLICY);
    let run = env.ok(env.agent("add", &["billing", "--sparse", "--scope", "src/billing/"]));
    assert!(run.stderr.contains("sparse: only the scope"), "{run:?}");
    let dir = env.agent_dir("billing");
    assert_eq!(
        files(&dir),
        [
            ".git-agent.yaml",
            "Cargo.lock",
            "README.md",
            "libs/shared/util.rs",
            "src/billing/invoice.rs",
            "src/billing/secrets/key.rs",
        ],
        "the scope, the context, and the root files cone mode always has"
    );
    assert_eq!(config(&env, &dir, "core.sparseCheckoutCone"), "true");
    assert_eq!(config(&env, &dir, "index.sparse"), "true");
    let sparse_entries = env.git_in(&dir, &["ls-files", "--sparse"]);
    assert!(
        sparse_entries.lines().any(|l| l == "src/api/"),
        "{sparse_entries}"
    );
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    // The main worktree is not made sparse.
    assert!(env.repo().join("docs/guide.md").is_file());
    let registry = std::fs::read_to_string(env.repo().join(".git/git-agent/agents.json")).unwrap();
    assert!(registry.contains("\"sparse\": true"), "{registry}");
    let brief = env.ok(env.agent("brief", &["billing"])).stdout;
    assert!(brief.contains("Your worktree is sparse"), "{brief}");
    let row = list_row(&env, "billing");
    assert_eq!(row["sparse"], true);
    assert_eq!(
        (row["uncommitted"].clone(), row["untracked"].clone()),
        (0.into(), 0.into())
    );
}

#[test]
fn globs_and_names_at_any_depth_check_out_in_non_cone_mode() {
    let env = env_with("version: 1\ncontext: [Cargo.lock]\n");
    env.ok(env.agent("add", &["a", "--sparse", "--scope", "src/*/invoice.rs"]));
    let dir = env.agent_dir("a");
    assert_eq!(
        files(&dir),
        [
            ".git-agent.yaml",
            "Cargo.lock",
            "README.md",
            "src/billing/invoice.rs"
        ]
    );
    assert_eq!(config(&env, &dir, "core.sparseCheckoutCone"), "false");
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
}

/// `list`'s counts agree with `git status --porcelain` in a sparse
/// worktree: the files not checked out are not deleted, new files outside
/// the checkout are untracked, and the rest is as in a full worktree.
#[test]
fn list_on_a_sparse_worktree_agrees_with_git_status() {
    let env = env_with(POLICY);
    env.ok(env.agent("add", &["cone", "--sparse", "--scope", "src/billing/"]));
    env.ok(env.agent("add", &["globs", "--sparse", "--scope", "src/billing/*.rs"]));
    for name in ["cone", "globs"] {
        let dir = env.agent_dir(name);
        write_in(&dir, "src/billing/invoice.rs", "changed\n");
        write_in(&dir, "src/billing/new.rs", "staged\n");
        env.git_in(&dir, &["add", "src/billing/new.rs"]);
        std::fs::remove_file(dir.join("README.md")).unwrap();
        write_in(&dir, "notes.txt", "untracked\n");
        // A new file where nothing is checked out.
        write_in(&dir, "src/api/extra.rs", "untracked too\n");
        let status = env.git_in(&dir, &["status", "--porcelain", "--untracked-files=all"]);
        let untracked = status.lines().filter(|l| l.starts_with("??")).count();
        let uncommitted = status.lines().count() - untracked;
        assert_eq!((uncommitted, untracked), (3, 2), "{name}: {status}");
        let row = list_row(&env, name);
        assert_eq!(row["uncommitted"], uncommitted, "{name}: {row} vs {status}");
        assert_eq!(row["untracked"], untracked, "{name}: {row} vs {status}");
        assert_eq!(row["out_of_scope"], false, "{name}: {row}");
    }
}

#[test]
fn the_gate_reads_a_sparse_index_and_its_hint_works_outside_the_checkout() {
    let env = env_with(POLICY);
    env.ok(env.agent("add", &["billing", "--sparse", "--scope", "src/billing/"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/billing/invoice.rs", "in scope\n");
    env.git_in(&dir, &["commit", "-q", "-am", "in scope"]);
    let sparse_entries = env.git_in(&dir, &["ls-files", "--sparse"]);
    assert!(
        sparse_entries.lines().any(|l| l == "docs/"),
        "{sparse_entries}"
    );

    // Files outside the checkout, staged the only way git allows there.
    write_in(&dir, "docs/new.md", "protected\n");
    write_in(&dir, "src/api/extra.rs", "out of scope\n");
    env.git_in(
        &dir,
        &["add", "--sparse", "docs/new.md", "src/api/extra.rs"],
    );
    let run = env.git_run(&dir, &["commit", "-m", "out of scope"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("protected by 'docs/'"), "{run:?}");
    assert!(
        run.stderr
            .contains("src/api/extra.rs  no pattern of the scope matches"),
        "{run:?}"
    );
    let hint = "git restore --staged -- docs/new.md src/api/extra.rs";
    assert!(run.stderr.contains(hint), "{run:?}");
    // The hint does what it says in a sparse worktree.
    env.git_in(
        &dir,
        &[
            "restore",
            "--staged",
            "--",
            "docs/new.md",
            "src/api/extra.rs",
        ],
    );
    assert_eq!(env.git_in(&dir, &["diff", "--cached", "--name-only"]), "");
    std::fs::remove_file(dir.join("docs/new.md")).unwrap();
    std::fs::remove_file(dir.join("src/api/extra.rs")).unwrap();
    env.ok(env.agent_in(&dir, "scope", &["check", "--staged"]));
}

#[test]
fn scope_add_widens_the_checkout() {
    let env = env_with(POLICY);
    env.ok(env.agent("add", &["a", "--sparse", "--scope", "src/billing/"]));
    let dir = env.agent_dir("a");
    assert!(!dir.join("src/api/routes.rs").exists());
    env.ok(env.agent("scope", &["add", "a", "src/api/"]));
    assert!(dir.join("src/api/routes.rs").is_file());
    assert_eq!(config(&env, &dir, "core.sparseCheckoutCone"), "true");
    // A glob needs patterns: the checkout switches to them.
    env.ok(env.agent("scope", &["add", "a", "*.md"]));
    assert!(dir.join("docs/guide.md").is_file());
    assert_eq!(config(&env, &dir, "core.sparseCheckoutCone"), "false");
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    // A full agent is left alone.
    env.ok(env.agent("add", &["full", "--scope", "src/billing/"]));
    env.ok(env.agent("scope", &["add", "full", "src/api/"]));
    let run = env.git_run(
        &env.agent_dir("full"),
        &["config", "--get", "core.sparseCheckout"],
    );
    assert_ne!(run.stdout.trim(), "true", "{run:?}");
}

#[test]
fn defaults_sparse_makes_it_the_default_and_no_sparse_overrides_it() {
    let env = env_with("version: 1\ndefaults: { sparse: true }\n");
    env.ok(env.agent("add", &["a", "--scope", "src/billing/"]));
    assert!(!env.agent_dir("a").join("docs/guide.md").exists());
    env.ok(env.agent("add", &["b", "--scope", "src/billing/", "--no-sparse"]));
    assert!(env.agent_dir("b").join("docs/guide.md").is_file());
    assert_eq!(list_row(&env, "a")["sparse"], true);
    assert_eq!(list_row(&env, "b")["sparse"], false);
}

#[test]
fn a_sparse_clone_checks_out_the_scope() {
    let env = env_with(POLICY);
    env.ok(env.agent(
        "add",
        &["c", "--clone", "--sparse", "--scope", "src/billing/"],
    ));
    let dir = env.agent_dir("c");
    assert!(dir.join("src/billing/invoice.rs").is_file());
    assert!(dir.join("libs/shared/util.rs").is_file());
    #[cfg(unix)]
    assert!(!writable(&dir.join("libs/shared/util.rs")), "context only");
    assert!(!dir.join("src/api/routes.rs").exists());
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    assert_eq!(
        env.git_in(&dir, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "agent/c\n"
    );
}

/// land, sync, doctor, rm and restore on a sparse agent.
#[test]
fn the_lifecycle_works_on_a_sparse_worktree() {
    let env = env_with(POLICY);
    env.ok(env.agent("add", &["a", "--sparse", "--scope", "src/billing/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "src/billing/invoice.rs", "landed\n");
    let run = env.agent("land", &["a", "--no-checks"]);
    assert_eq!(run.code, 1, "uncommitted work is seen: {run:?}");
    env.git_in(&dir, &["commit", "-q", "-am", "work"]);
    env.ok(env.agent("land", &["a", "--no-checks"]));
    assert_eq!(
        std::fs::read_to_string(env.repo().join("src/billing/invoice.rs")).unwrap(),
        "landed\n"
    );
    // The base moves outside the checkout; sync brings it in unseen.
    env.ok(env.agent("add", &["b", "--scope", "src/api/"]));
    write_in(
        &env.agent_dir("b"),
        "src/api/routes.rs",
        "fn routes2() {}\n",
    );
    env.git_in(&env.agent_dir("b"), &["commit", "-q", "-am", "api"]);
    env.ok(env.agent("land", &["b", "--no-checks", "--remove"]));
    env.ok(env.agent("sync", &["a"]));
    assert_eq!(
        env.git(&["rev-parse", "main"]),
        env.git_in(&dir, &["rev-parse", "HEAD"])
    );
    assert!(!dir.join("docs/guide.md").exists());
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    assert_eq!(
        env.ok(env.agent("doctor", &[])).stdout,
        "no problems found\n"
    );

    // rm --force archives the work; restore brings it back, sparse.
    write_in(&dir, "src/billing/invoice.rs", "uncommitted\n");
    write_in(&dir, "src/billing/draft.rs", "untracked\n");
    let status_before = env.git_in(&dir, &["status", "--porcelain", "--untracked-files=all"]);
    env.ok(env.agent("rm", &["a", "--force"]));
    assert!(!dir.exists());
    env.ok(env.agent("restore", &["a"]));
    assert_eq!(
        env.git_in(&dir, &["status", "--porcelain", "--untracked-files=all"]),
        status_before
    );
    assert!(!dir.join("src/api/routes.rs").exists());
    #[cfg(unix)]
    assert!(!writable(&dir.join("libs/shared/util.rs")), "context only");
    assert_eq!(config(&env, &dir, "core.sparseCheckoutCone"), "true");
    assert_eq!(list_row(&env, "a")["sparse"], true);
    // doctor recreates a sparse worktree deleted by hand as sparse.
    std::fs::remove_dir_all(&dir).unwrap();
    env.ok(env.agent("doctor", &["--fix"]));
    assert!(dir.join("src/billing/invoice.rs").is_file());
    assert!(!dir.join("src/api/routes.rs").exists());
    #[cfg(unix)]
    assert!(!writable(&dir.join("libs/shared/util.rs")), "context only");
    env.git(&["fsck"]);
}

#[test]
fn a_bad_context_pattern_is_bad_input() {
    let env = env_with("version: 1\ncontext:\n  - Cargo.lock\n  - \"libs/[ab\"\n");
    let before = env.state();
    let run = env.agent("add", &["a", "--sparse", "--scope", "src/"]);
    assert_bad_input(
        &env,
        &before,
        &run,
        &[".git-agent.yaml on main:4:5", "unclosed '['"],
    );
    // The other pattern errors, for comparison: an unknown guardrail.
    let env = env_with(POLICY);
    let before = env.state();
    let run = env.agent(
        "add",
        &["a", "--sparse", "--scope", "src/", "--guardrails", "vim"],
    );
    assert_bad_input(&env, &before, &run, &["vim"]);
}

/// A new file where nothing is checked out is work too: `rm` keeps it.
#[test]
fn rm_sees_an_untracked_file_where_nothing_is_checked_out() {
    let env = env_with(POLICY);
    env.ok(env.agent("add", &["a", "--sparse", "--scope", "src/billing/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "src/api/notes.rs", "untracked\n");
    let run = env.agent("rm", &["a"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("src/api/notes.rs") || run.stderr.contains("src/api/notes.rs"),
        "{run:?}"
    );
    assert!(dir.join("src/api/notes.rs").is_file());
}

/// Whether any write bit of the file at `path` is set.
#[cfg(unix)]
fn writable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o222 != 0
}

/// What only `context:` brings in is read-only on disk, until the scope
/// takes it in; `sync` makes it read-only again after git rewrote it.
#[cfg(unix)]
#[test]
fn context_files_are_read_only_until_the_scope_takes_them_in() {
    let env = env_with(POLICY);
    env.ok(env.agent("add", &["a", "--sparse", "--scope", "src/billing/"]));
    let dir = env.agent_dir("a");
    let context_file = dir.join("libs/shared/util.rs");
    assert!(context_file.is_file());
    assert!(!writable(&context_file), "context only: read-only");
    assert!(writable(&dir.join("src/billing/invoice.rs")), "the scope");
    assert!(
        writable(&dir.join("README.md")),
        "a root file cone mode has"
    );
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    assert_eq!(list_row(&env, "a")["sparse"], true);

    // The base changes the context file; sync rewrites it, read-only again.
    env.ok(env.agent("add", &["b", "--scope", "libs/shared/"]));
    let b = env.agent_dir("b");
    write_in(&b, "libs/shared/util.rs", "fn util2() {}\n");
    env.git_in(&b, &["commit", "-q", "-am", "shared"]);
    env.ok(env.agent("land", &["b", "--no-checks", "--remove"]));
    env.ok(env.agent("sync", &["a"]));
    assert_eq!(
        std::fs::read_to_string(&context_file).unwrap(),
        "fn util2() {}\n"
    );
    assert!(!writable(&context_file), "read-only again after sync");
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");

    // In the scope, it is the agent's to change; out of it, read-only again.
    env.ok(env.agent("scope", &["add", "a", "libs/shared/"]));
    assert!(writable(&context_file), "in scope now");
    env.ok(env.agent("scope", &["rm", "a", "libs/shared/"]));
    assert!(!writable(&context_file), "out of scope again");
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    env.ok(env.agent("rm", &["a"]));
    assert!(!dir.exists());
}
