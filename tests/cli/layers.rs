//! The library's layers point one way: commands -> ops -> git, state,
//! policy -> error. A lower layer naming a higher one in code (comments
//! aside) fails here, as does a command reaching into another command.

use std::path::{Path, PathBuf};

/// The Rust files under `src/<dir>`, with their lines that are code.
fn code_of(dir: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect();
                files.push((path, code.join("\n")));
            }
        }
    }
    files
}

fn assert_none_names(dir: &str, forbidden: &[&str]) {
    for (path, code) in code_of(dir) {
        for f in forbidden {
            assert!(
                !code.contains(f),
                "{} names {f}: layers point down (commands -> ops -> git, state, policy)",
                path.display()
            );
        }
    }
}

#[test]
fn lower_layers_name_no_higher_one() {
    let above_ops = [
        "crate::cli",
        "crate::commands",
        "crate::ui",
        "crate::engine",
    ];
    assert_none_names("ops", &above_ops);
    for dir in ["git", "state", "policy"] {
        assert_none_names(dir, &above_ops);
        assert_none_names(dir, &["crate::ops"]);
    }
    assert_none_names("git", &["crate::state"]);
    assert_none_names("policy", &["crate::git", "crate::state"]);
}

#[test]
fn no_command_reaches_into_another() {
    for (path, code) in code_of("commands") {
        if path.file_name().is_some_and(|n| n == "mod.rs") {
            continue;
        }
        assert!(
            !code.contains("crate::commands::"),
            "{} uses another command's module; shared code belongs in ops or ui",
            path.display()
        );
    }
}
