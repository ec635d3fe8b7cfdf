use crate::support::*;

fn hook_text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn install_twice_changes_nothing_and_uninstall_removes_the_file_it_made() {
    let env = Env::new();
    let hook = env.repo().join(".git/hooks/pre-commit");
    env.ok(env.agent("hooks", &["install"]));
    let first = hook_text(&hook);
    assert!(first.starts_with("#!/bin/sh\n"));
    let run = env.ok(env.agent("hooks", &["install"]));
    assert!(run.stdout.contains("already installed"), "{run:?}");
    assert_eq!(first, hook_text(&hook));
    let run = env.ok(env.agent("hooks", &["status"]));
    assert!(run.stdout.starts_with("installed: "), "{run:?}");
    env.ok(env.agent("hooks", &["uninstall"]));
    assert!(!hook.exists());
    let run = env.ok(env.agent("hooks", &["status"]));
    assert!(run.stdout.starts_with("not installed"), "{run:?}");
}

#[test]
fn a_foreign_hook_keeps_its_lines_and_still_runs() {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("hooks", &["uninstall"]));
    let hook = env.repo().join(".git/hooks/pre-commit");
    let foreign = "#!/bin/sh\n# another tool's hook\necho foreign-hook-ran >&2\n";
    std::fs::write(&hook, foreign).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = env.ok(env.agent("hooks", &["install"]));
    assert!(
        run.stdout
            .contains("appended the pre-commit gate to the existing hook"),
        "{run:?}"
    );
    let text = hook_text(&hook);
    assert!(text.starts_with(foreign), "{text}");
    env.ok(env.agent("hooks", &["install"]));
    assert_eq!(text, hook_text(&hook), "a second install changes nothing");

    // Both run: the foreign part prints, our part refuses out-of-scope work.
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "src/api/routes.rs", "x\n");
    env.git_in(&dir, &["add", "-A"]);
    let run = env.git_run(&dir, &["commit", "-q", "-m", "x"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("foreign-hook-ran"), "{run:?}");
    assert!(
        run.stderr.contains("outside the scope of agent 'a'"),
        "{run:?}"
    );

    env.ok(env.agent("hooks", &["uninstall"]));
    assert_eq!(hook_text(&hook), foreign, "only our block is removed");
}

#[test]
fn core_hooks_path_is_honoured() {
    let env = Env::new();
    env.git(&["config", "core.hooksPath", "custom-hooks"]);
    let run = env.ok(env.agent("hooks", &["install"]));
    let hook = env.repo().join("custom-hooks/pre-commit");
    assert!(run.stdout.contains(&hook.display().to_string()), "{run:?}");
    assert!(hook.is_file());
    assert!(!env.repo().join(".git/hooks/pre-commit").exists());

    // git runs it from there: an agent's out-of-scope commit is refused.
    env.git(&["add", "custom-hooks"]);
    env.git(&["commit", "-q", "-m", "hooks"]);
    env.ok(env.agent("add", &["a", "--scope", "docs/"]));
    let dir = env.agent_dir("a");
    write_in(&dir, "README.md", "x\n");
    let run = env.git_run(&dir, &["commit", "-q", "-am", "x"]);
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn a_non_shell_hook_is_left_alone() {
    let env = Env::new();
    let hook = env.repo().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/usr/bin/env python3\nprint('hi')\n").unwrap();
    let before = env.state();
    let run = env.agent("hooks", &["install"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is not a shell script"), "{run:?}");
    assert_eq!(before, env.state());
}
