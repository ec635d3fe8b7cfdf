//! The scope matcher equals git's: a generated pattern, alone in a
//! .gitignore, and a batch of generated paths, decided by our matcher and
//! by `git check-ignore --no-index`, with and without `core.ignoreCase`.

use std::io::Write;
use std::process::Stdio;

use git_agent::policy::pattern::Pattern;
use proptest::prelude::*;

use super::config;
use crate::support::*;

const ATOMS: &[&str] = &[
    "a",
    "b",
    "A",
    ".",
    "md",
    "*",
    "?",
    "[ab]",
    "[!a]",
    "[^b]",
    "[a-c]",
    "[]a]",
    "[[:alpha:]]",
    "[[:upper:]]",
    "\\*",
    "\\?",
    "{a,b}",
    "-",
    " ",
    "\\ ",
    "**",
    "***",
    "é",
    "src",
];

const NAMES: &[&str] = &[
    "a", "b", "A", "B", "ab", "aB", "a.md", "A.MD", "b.rs", "src", "SRC", "x.a", "{a,b}", "a-b",
    "]", "!a", "a b", "a ", "é", "É", "*", "?", ".a",
];

fn component() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(ATOMS), 1..4).prop_map(|a| a.concat())
}

fn pattern() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(component(), 1..4),
        any::<bool>(),
    )
        .prop_map(|(negated, rooted, parts, dir_only)| {
            let mut p = String::new();
            if negated {
                p.push('!');
            }
            if rooted {
                p.push('/');
            }
            p.push_str(&parts.join("/"));
            if dir_only {
                p.push('/');
            }
            p
        })
}

fn paths() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::btree_set(
        proptest::collection::vec(proptest::sample::select(NAMES), 1..5).prop_map(|c| c.join("/")),
        1..60,
    )
    .prop_map(|set| set.into_iter().collect())
}

/// Whether the .gitignore line matched each path, as `git check-ignore
/// --verbose --non-matching` reports it.
fn git_matches(env: &Env, pattern: &str, paths: &[String], ignore_case: bool) -> Vec<bool> {
    std::fs::write(env.repo().join(".gitignore"), format!("{pattern}\n")).unwrap();
    let mut child = env
        .command("git", &env.repo())
        .args(["-c", &format!("core.ignoreCase={ignore_case}")])
        .args([
            "check-ignore",
            "--no-index",
            "--stdin",
            "-z",
            "--verbose",
            "--non-matching",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<u8> = paths
        .iter()
        .flat_map(|p| [p.as_bytes(), b"\0"].concat())
        .collect();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{out:?}"
    );
    // Records of four fields: source, line, pattern, path.
    let fields: Vec<&[u8]> = out.stdout.split(|&b| b == 0).collect();
    let verdicts: std::collections::HashMap<&[u8], bool> = fields
        .chunks_exact(4)
        .map(|r| (r[3], !r[2].is_empty()))
        .collect();
    assert_eq!(
        verdicts.len(),
        paths.len(),
        "git answered another set of paths"
    );
    paths.iter().map(|p| verdicts[p.as_bytes()]).collect()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn matcher_agrees_with_git_check_ignore(
        pattern in pattern(),
        paths in paths(),
        ignore_case in any::<bool>(),
    ) {
        // Patterns git would read as something else (an unclosed bracket,
        // a comment) are refused by the manifest, so never matched.
        let Ok(ours) = Pattern::new(&pattern, ignore_case) else {
            return Ok(());
        };
        // A negated pattern matches what its body matches and then excludes
        // it; git's check-ignore does not look below a directory it does
        // not ignore, so ask git about the body.
        let body = pattern.strip_prefix('!');
        prop_assert_eq!(ours.negated, body.is_some());
        let env = Env::empty();
        let theirs = git_matches(&env, body.unwrap_or(&pattern), &paths, ignore_case);
        for (path, git_says) in paths.iter().zip(theirs) {
            prop_assert_eq!(
                ours.matches(path),
                git_says,
                "pattern {:?} path {:?} ignoreCase={}",
                pattern,
                path,
                ignore_case
            );
        }
    }
}
