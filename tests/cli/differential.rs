//! The scope matcher against git itself: thousands of (pattern, path) pairs,
//! each decided by `git check-ignore --no-index` with the pattern alone in
//! a .gitignore, and by our matcher.

use std::io::Write;
use std::process::Stdio;

use git_agent::policy::pattern::Pattern;

use crate::support::*;

/// A small deterministic generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NAMES: &[&str] = &[
    "a", "b", "ab", "ba", "a.md", "b.rs", "src", "x.a", "A", "Ab.MD", "{a,b}", "a-b", "]", "!a",
    "a b",
];

fn random_component(rng: &mut Rng) -> String {
    let atoms = [
        "a",
        "b",
        ".",
        "md",
        "rs",
        "*",
        "?",
        "*",
        "[ab]",
        "[!a]",
        "[^b]",
        "[a-c]",
        "[]a]",
        "[[:alpha:]]",
        "[[:digit:]]",
        "\\*",
        "{a,b}",
        "-",
        "src",
        "A",
        "\\!",
        "]",
        " ",
        "**",
        "***",
    ];
    let n = 1 + rng.below(3);
    (0..n).map(|_| rng.pick(&atoms)).collect()
}

fn random_pattern(rng: &mut Rng) -> String {
    let depth = 1 + rng.below(3);
    let mut parts: Vec<String> = Vec::new();
    for _ in 0..depth {
        parts.push(match rng.below(6) {
            0 => "**".to_owned(),
            _ => random_component(rng),
        });
    }
    let mut p = parts.join("/");
    if rng.below(4) == 0 {
        p.insert(0, '/');
    }
    if rng.below(4) == 0 {
        p.push('/');
    }
    p
}

fn paths(rng: &mut Rng, n: usize) -> Vec<String> {
    let mut out: Vec<String> = (0..n)
        .map(|_| {
            let depth = 1 + rng.below(4);
            (0..depth)
                .map(|_| rng.pick(NAMES))
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The paths git says the single pattern ignores.
fn git_verdicts(env: &Env, pattern: &str, paths: &[String], ignore_case: bool) -> Vec<bool> {
    std::fs::write(env.repo().join(".gitignore"), format!("{pattern}\n")).unwrap();
    let mut cmd = env.command("git", &env.repo());
    cmd.args([
        "-c",
        &format!("core.ignoreCase={ignore_case}"),
        "check-ignore",
        "--no-index",
        "--stdin",
        "-z",
    ]);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p.as_bytes());
        input.push(0);
    }
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code().unwrap() <= 1,
        "check-ignore failed for {pattern:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ignored: std::collections::HashSet<&[u8]> = out
        .stdout
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .collect();
    paths
        .iter()
        .map(|p| ignored.contains(p.as_bytes()))
        .collect()
}

/// Whether git's wildmatch would reject the pattern outright (an unclosed
/// bracket); we report those as bad patterns instead of never matching.
fn git_rejects(pattern: &str) -> bool {
    Pattern::new(pattern, false).is_err()
}

fn compare(seed: u64, patterns: usize, ignore_case: bool) -> usize {
    let env = Env::empty();
    let mut rng = Rng(seed);
    let mut compared = 0;
    let mut failures = Vec::new();
    for _ in 0..patterns {
        let pattern = random_pattern(&mut rng);
        let paths = paths(&mut rng, 40);
        if git_rejects(&pattern) {
            continue;
        }
        let ours = Pattern::new(&pattern, ignore_case).unwrap();
        let theirs = git_verdicts(&env, &pattern, &paths, ignore_case);
        for (path, git_says) in paths.iter().zip(theirs) {
            compared += 1;
            if ours.matches(path) != git_says {
                failures.push(format!(
                    "pattern {pattern:?} path {path:?}: git {git_says}, ours {}",
                    !git_says
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements, e.g.:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    compared
}

#[test]
fn single_patterns_match_exactly_as_git_check_ignore() {
    let compared = compare(0x9e3779b97f4a7c15, 250, false);
    assert!(compared > 5000, "only {compared} pairs compared");
}

#[test]
fn single_patterns_match_as_git_with_ignore_case() {
    let compared = compare(0x2545f4914f6cdd1d, 120, true);
    assert!(compared > 2500, "only {compared} pairs compared");
}

#[test]
fn hand_picked_patterns_match_as_git() {
    let env = Env::empty();
    let patterns = [
        "*.md",
        "/*.md",
        "docs/",
        "/docs/",
        "docs",
        "src/**",
        "src/**/",
        "**/b",
        "a/**/b",
        "**",
        "*",
        "a/*",
        "a?",
        "[ab]/",
        "\\#x",
        "a\\ ",
        "a ",
        "foo/**/bar/",
        "src/billing/",
        "x/**/*.rs",
        "***",
        "a/***",
        "**a",
        "a**/b",
    ];
    let paths: Vec<String> = [
        "a.md",
        "docs/a.md",
        "docs",
        "docs/x/y",
        "x/docs/y",
        "src",
        "src/a",
        "src/a/b",
        "b",
        "a/b",
        "a/x/y/b",
        "a",
        "ab",
        "a/b/c",
        "#x",
        "a ",
        "foo/bar/x",
        "foo/q/r/bar/x",
        "src/billing/invoice.rs",
        "x/y.rs",
        "x/a/b/y.rs",
        "xa",
        "aa/b",
        "a/c/b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for pattern in patterns {
        let ours = Pattern::new(pattern, false).unwrap();
        let theirs = git_verdicts(&env, pattern, &paths, false);
        for (path, git_says) in paths.iter().zip(theirs) {
            assert_eq!(
                ours.matches(path),
                git_says,
                "pattern {pattern:?} path {path:?}"
            );
        }
    }
}
