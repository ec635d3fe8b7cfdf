//! The manifest parser never panics, answers every input with a policy or a
//! located diagnostic, and stays within its budgets on YAML bombs.

use std::time::{Duration, Instant};

use git_agent::error::Error;
use git_agent::policy::manifest::{MAX_MANIFEST_BYTES, Manifest};
use proptest::prelude::*;

use super::config;
use crate::support::*;

/// Parse `text`; fail unless the answer is a policy or a diagnostic that
/// names a line and column and says where it came from.
fn answers(text: &str) -> std::result::Result<(), TestCaseError> {
    match Manifest::parse(text, ".git-agent.yaml") {
        Ok(_) => Ok(()),
        Err(Error::Manifest(d)) => {
            prop_assert!(d.line >= 1 && d.column >= 1, "unlocated: {d:?}");
            prop_assert!(d.message.starts_with(".git-agent.yaml:"), "{}", d.message);
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "not a manifest error: {other:?}"
        ))),
    }
}

/// A YAML value built from the real schema's keys and values and from noise.
#[derive(Debug, Clone)]
enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

const KEYS: &[&str] = &[
    "version",
    "defaults",
    "base",
    "worktrees",
    "strategy",
    "sandbox",
    "protected",
    "areas",
    "agents",
    "scope",
    "role",
    "copy",
    "setup",
    "checks",
    "hot",
    "limits",
    "max_files_per_commit",
    "writable",
    "docs-bot",
    "billing",
    "-bad",
    "<<",
    "x y",
    "",
];

const SCALARS: &[&str] = &[
    "1",
    "2",
    "0",
    "-1",
    "true",
    "no",
    "null",
    "~",
    "merge",
    "squash",
    "ff",
    "proposer",
    "writer",
    "src/",
    "*.md",
    "!src/gen/",
    "src/[ab",
    "**",
    "../x",
    "/etc",
    "~/x",
    ".env",
    "a\\b",
    "é",
    "{repo}",
    "1e9",
    "0x1f",
    "18446744073709551616",
    "",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-z_ :#&*!-]{0,8}",
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(SCALARS).prop_map(str::to_owned),
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    scalar()
        .prop_map(Node::Scalar)
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Node::Seq),
                proptest::collection::vec((key(), inner), 0..6).prop_map(Node::Map),
            ]
        })
}

/// A double-quoted YAML scalar: JSON's escapes are YAML's.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Flow style: `{a: [b, "c"]}`; plain scalars where they are plain-safe.
fn flow(node: &Node, plain: bool, out: &mut String) {
    match node {
        Node::Scalar(s)
            if plain
                && !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)) =>
        {
            out.push_str(s)
        }
        Node::Scalar(s) => out.push_str(&quoted(s)),
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, plain, out);
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&quoted(k));
                out.push_str(": ");
                flow(v, plain, out);
            }
            out.push('}');
        }
    }
}

/// Block style, indented by `indent`; nested collections go in flow style
/// below the top level half of the time, as people write them.
fn block(entries: &[(String, Node)], indent: usize, out: &mut String) {
    for (k, v) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&quoted(k));
        out.push(':');
        match v {
            Node::Map(inner) if !inner.is_empty() && indent < 6 => {
                out.push('\n');
                block(inner, indent + 2, out);
            }
            Node::Seq(items) if !items.is_empty() && indent < 6 => {
                out.push('\n');
                for item in items {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str("- ");
                    flow(item, true, out);
                    out.push('\n');
                }
            }
            other => {
                out.push(' ');
                flow(other, true, out);
                out.push('\n');
            }
        }
    }
}

/// A whole manifest: usually `version: 1` first, then generated sections.
fn manifest_text() -> impl Strategy<Value = String> {
    (
        proptest::option::weighted(0.8, Just("version: 1\n")),
        proptest::collection::vec((key(), node()), 0..6),
        any::<bool>(),
    )
        .prop_map(|(version, entries, as_flow)| {
            let mut out = version.unwrap_or_default().to_owned();
            if as_flow {
                for (k, v) in &entries {
                    out.push_str(&quoted(k));
                    out.push_str(": ");
                    flow(v, true, &mut out);
                    out.push('\n');
                }
            } else {
                block(&entries, 0, &mut out);
            }
            out
        })
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn manifest_parser_answers_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        answers(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn manifest_parser_answers_arbitrary_yaml(text in manifest_text()) {
        answers(&text)?;
    }

    /// Random bytes spliced into a valid manifest: a near-miss, the most
    /// common real input.
    #[test]
    fn manifest_parser_answers_damaged_manifests(
        at in 0usize..400,
        noise in "[\\[\\]{}:,&*!|>'\"#\\- \n\t]{1,6}",
    ) {
        let good = git_agent::policy::manifest::STARTER.replace("BASE", "main");
        let mut at = at.min(good.len());
        while !good.is_char_boundary(at) {
            at -= 1;
        }
        answers(&format!("{}{noise}{}", &good[..at], &good[at..]))?;
    }
}

/// Each YAML bomb, named.
fn bombs() -> Vec<(&'static str, String)> {
    let big = "x".repeat(MAX_MANIFEST_BYTES / 2);
    let laughs = {
        // Billion laughs in the only shape the schema lets through: one
        // long scalar, copied by every alias.
        let mut t = format!("version: 1\nsetup: [&a \"{}\"", "lol".repeat(20_000));
        for _ in 0..5_000 {
            t += ", *a";
        }
        t + "]\n"
    };
    let nested_laughs = {
        let mut t = String::from("version: 1\nareas:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = format!("*a{}", i - 1);
            t += &format!("  a{i}: &a{i} [{}]\n", [p.as_str(); 10].join(", "));
        }
        t
    };
    let merge_keys = {
        let mut t = String::from("version: 1\nareas:\n  base: &b {x: [a]}\n");
        for i in 0..2_000 {
            t += &format!("  m{i}: {{<<: *b}}\n");
        }
        t
    };
    vec![
        ("alias copies of a long scalar", laughs),
        ("nested alias expansion", nested_laughs),
        ("merge keys", merge_keys),
        (
            "deep flow nesting",
            format!(
                "version: 1\nsetup: {}{}\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        ),
        (
            "deep block nesting",
            format!(
                "version: 1\nareas:\n{}",
                (1..3_000)
                    .map(|i| format!("{}- \n", " ".repeat(i)))
                    .collect::<String>()
            ),
        ),
        (
            "a huge scalar",
            format!(
                "version: 1\nsetup: [\"{}\"]\n",
                "x".repeat(64 * MAX_MANIFEST_BYTES)
            ),
        ),
        (
            "many values",
            format!(
                "version: 1\nsetup: [{}]\n",
                vec!["a"; MAX_MANIFEST_BYTES / 2 - 100].join(",")
            ),
        ),
        ("many documents", "---\nversion: 1\n".repeat(10_000)),
        (
            "long keys",
            format!("version: 1\nareas: {{{big}: [a], {big}: [b]}}\n"),
        ),
    ]
}

/// Every bomb is refused with a located diagnostic, quickly (5 s allows
/// for an unoptimised build on a loaded machine). Memory is checked on the
/// real binary, below.
#[test]
fn manifest_parser_refuses_yaml_bombs_within_budget() {
    for (name, text) in bombs() {
        let start = Instant::now();
        let answer = Manifest::parse(&text, ".git-agent.yaml");
        let took = start.elapsed();
        match answer {
            Err(Error::Manifest(d)) => assert!(d.line >= 1, "{name}: unlocated {d:?}"),
            Err(other) => panic!("{name}: expected a manifest error, got {other:?}"),
            Ok(_) => panic!("{name}: accepted"),
        }
        assert!(took < Duration::from_secs(5), "{name} took {took:?}");
    }
}

/// A bomb committed as the policy: `scope check` answers exit 2 with a
/// clear message, quickly, with its address space capped at
/// [`MEMORY_CAP`]: an allocation past the cap would abort it instead.
#[test]
fn yaml_bomb_policy_is_bad_input_for_the_cli() {
    use std::os::unix::process::CommandExt;
    let env = Env::new();
    let (_, bomb) = bombs().swap_remove(0);
    env.commit_policy(&bomb);
    let start = Instant::now();
    let mut cmd = env.command(bin("git-agent-scope"), &env.repo());
    cmd.args(["check", "--agent", "bot", "--paths", "x"]);
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            let cap = libc::rlimit {
                rlim_cur: MEMORY_CAP,
                rlim_max: MEMORY_CAP,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &cap) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = Run::from_output(cmd.output().unwrap());
    let took = start.elapsed();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(".git-agent.yaml"), "{run:?}");
    assert!(run.stderr.contains("too large to read"), "{run:?}");
    assert!(
        run.stderr.contains("aliases"),
        "the help names the limits: {run:?}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// The address space the binary gets for a bomb: it needs about 64 MiB.
const MEMORY_CAP: libc::rlim_t = 128 * 1024 * 1024;

/// A committed manifest over the size cap is refused before it is read.
#[test]
fn oversized_policy_is_bad_input_for_the_cli() {
    let env = Env::new();
    env.commit_policy(&format!(
        "version: 1\n#{}\n",
        "x".repeat(MAX_MANIFEST_BYTES)
    ));
    let run = env.agent("scope", &["check", "--agent", "bot", "--paths", "x"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("more than the limit"), "{run:?}");
}
