//! conflicts: the pairwise forecast, overlaps, landing order, list's column.

use crate::support::*;

fn commit_in(env: &Env, agent: &str, files: &[(&str, &str)], message: &str) {
    let dir = env.agent_dir(agent);
    for (path, text) in files {
        write_in(&dir, path, text);
    }
    env.git_in(&dir, &["add", "-A"]);
    env.git_in(&dir, &["commit", "-q", "--no-verify", "-m", message]);
}

/// a and b change the same line; c conflicts with the base; d with no one.
fn four_agents() -> (Env, Run) {
    let env = Env::with_policy("version: 1\nhot: [Cargo.lock]\n");
    env.ok(env.agent(
        "add",
        &["a", "--scope", "src/billing/", "--scope", "Cargo.lock"],
    ));
    let b = env.ok(env.agent("add", &["b", "--scope", "src/", "--scope", "Cargo.lock"]));
    env.ok(env.agent("add", &["c", "--scope", "docs/"]));
    env.ok(env.agent("add", &["d", "--scope", "README.md"]));
    commit_in(
        &env,
        "a",
        &[
            ("src/billing/invoice.rs", "fn total() { a }\n"),
            ("Cargo.lock", "# lock\nserde 1\n"),
        ],
        "a's work",
    );
    commit_in(
        &env,
        "b",
        &[
            ("src/billing/invoice.rs", "fn total() { b }\n"),
            ("Cargo.lock", "# lock\nserde 1\n"),
        ],
        "b's work",
    );
    commit_in(&env, "c", &[("docs/guide.md", "# c's guide\n")], "c's work");
    commit_in(&env, "d", &[("README.md", "# d's shop\n")], "d's work");
    env.write("docs/guide.md", "# the base's guide\n");
    env.git(&["commit", "-q", "-am", "Base edits the guide"]);
    (env, b)
}

#[test]
fn add_warns_when_scopes_overlap() {
    let (_env, b) = four_agents();
    assert!(
        b.stderr
            .contains("the scope of 'b' overlaps agent 'a''s on 3 files, e.g."),
        "{b:?}"
    );
}

#[test]
fn conflicts_forecasts_every_pair_and_writes_nothing() {
    let (env, _) = four_agents();
    let objects = env.git(&["count-objects"]);
    let before = env.state();
    let run = env.agent("conflicts", &["--json"]);
    assert_eq!(run.code, 1, "a conflict is predicted: {run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], 2);
    assert_eq!(
        v["pairs"],
        serde_json::json!([
            {"left": null, "right": "c", "files": ["docs/guide.md"]},
            {"left": "a", "right": "b", "files": ["src/billing/invoice.rs"]},
        ])
    );
    assert_eq!(v["order"], serde_json::json!(["d", "a", "b", "c"]));
    assert_eq!(
        v["shared_files"],
        serde_json::json!([
            {"path": "Cargo.lock", "agents": ["a", "b"], "hot": true, "protected": false},
            {"path": "src/billing/invoice.rs", "agents": ["a", "b"], "hot": false, "protected": false},
        ])
    );
    let overlaps = v["scope_overlaps"].as_array().unwrap();
    assert_eq!(overlaps.len(), 1, "{overlaps:?}");
    assert_eq!(
        (
            &overlaps[0]["left"],
            &overlaps[0]["right"],
            &overlaps[0]["files"]
        ),
        (&"a".into(), &"b".into(), &3.into())
    );
    assert_eq!(before, env.state());

    let run = env.agent("conflicts", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    for needle in [
        "b × a: src/billing/invoice.rs",
        "c × its base: docs/guide.md",
        "Cargo.lock: a, b  [hot]",
        "a and b: 3 files",
        "landing order: d, a, b, c",
        "a before b: land a, then `git agent sync b` once and resolve src/billing/invoice.rs",
    ] {
        assert!(run.stdout.contains(needle), "lacks {needle:?}: {run:?}");
    }
    let matrix: Vec<&str> = run.stdout.lines().take(6).collect();
    assert_eq!(
        matrix[1].split_whitespace().collect::<Vec<_>>(),
        ["base", "a", "b", "c", "d"]
    );
    assert_eq!(
        matrix[2].split_whitespace().collect::<Vec<_>>(),
        ["a", "·", "-", "1", "·", "·"]
    );
    assert_eq!(
        matrix[4].split_whitespace().collect::<Vec<_>>(),
        ["c", "1", "·", "·", "-", "·"]
    );
    // Only the cache of merge results is new; no object was written.
    assert_eq!(objects, env.git(&["count-objects"]));
    assert!(
        env.repo()
            .join(".git/git-agent/conflicts-cache.json")
            .is_file()
    );
}

#[test]
fn list_counts_conflicts_and_a_clean_set_exits_0() {
    let (env, _) = four_agents();
    let run = env.ok(env.agent("list", &["--json"]));
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let counts: Vec<(String, u64)> = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["conflicts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("a".into(), 1),
            ("b".into(), 1),
            ("c".into(), 1),
            ("d".into(), 0)
        ]
    );
    // A second list reads the cache; the counts stay.
    let again = env.ok(env.agent("list", &["--json"]));
    assert_eq!(run.stdout, again.stdout);

    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["d", "--scope", "README.md"]));
    commit_in(&env, "d", &[("README.md", "# d\n")], "d");
    let run = env.ok(env.agent("conflicts", &[]));
    assert!(run.stdout.contains("landing order: d"), "{run:?}");
}

fn commit_changes(env: &Env, agent: &str, write: &[(&str, &str)], delete: &[&str]) {
    for path in delete {
        env.git_in(&env.agent_dir(agent), &["rm", "-q", "-r", path]);
    }
    commit_in(env, agent, write, agent);
}

/// Every pair's forecast agrees with `git merge-tree`, across the ways two
/// branches can collide without touching the same file (a file where the
/// other adds a directory, a rename against an edit) and the ways they can
/// touch the same file without colliding (different hunks, equal edits).
#[test]
fn forecast_agrees_with_git_merge_tree() {
    let env = Env::with_policy("version: 1\n");
    env.write(
        "src/long.rs",
        "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n",
    );
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "A longer file"]);
    let names = [
        "top", "bottom", "same", "file", "dir", "mover", "editor", "dropper",
    ];
    for name in names {
        env.ok(env.agent("add", &[name, "--scope", "/*"]));
    }
    let long =
        |first: &str, last: &str| format!("{first}\ntwo\nthree\nfour\nfive\nsix\nseven\n{last}\n");
    commit_changes(&env, "top", &[("src/long.rs", &long("ONE", "eight"))], &[]);
    commit_changes(
        &env,
        "bottom",
        &[("src/long.rs", &long("one", "EIGHT"))],
        &[],
    );
    commit_changes(&env, "same", &[("src/long.rs", &long("ONE", "eight"))], &[]);
    commit_changes(&env, "file", &[("notes", "a file\n")], &[]);
    commit_changes(&env, "dir", &[("notes/today.md", "a directory\n")], &[]);
    env.git_in(
        &env.agent_dir("mover"),
        &["mv", "docs/guide.md", "docs/manual.md"],
    );
    commit_changes(&env, "mover", &[], &[]);
    commit_changes(&env, "editor", &[("docs/guide.md", "# Guide\nmore\n")], &[]);
    commit_changes(&env, "dropper", &[], &["docs/guide.md"]);

    let run = env.agent("conflicts", &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let sorted =
        |a: &str, b: &str| -> (String, String) { (a.min(b).to_owned(), a.max(b).to_owned()) };
    let mut predicted: Vec<(String, String)> = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| sorted(p["left"].as_str().unwrap(), p["right"].as_str().unwrap()))
        .collect();
    predicted.sort();
    let mut expected = Vec::new();
    for (i, left) in names.iter().enumerate() {
        for right in &names[i + 1..] {
            let merge = env.git_run(
                &env.repo(),
                &[
                    "merge-tree",
                    "--write-tree",
                    &format!("agent/{left}"),
                    &format!("agent/{right}"),
                ],
            );
            assert!(merge.code <= 1, "{merge:?}");
            if merge.code == 1 {
                expected.push(sorted(left, right));
            }
        }
    }
    expected.sort();
    assert_eq!(predicted, expected);
    // The cases above include both kinds, so the comparison means something.
    for pair in [("file", "dir"), ("mover", "dropper"), ("editor", "dropper")] {
        assert!(
            expected.contains(&sorted(pair.0, pair.1)),
            "{pair:?} conflicts in git: {expected:?}"
        );
    }
    for pair in [("top", "bottom"), ("top", "same"), ("mover", "editor")] {
        assert!(!expected.contains(&sorted(pair.0, pair.1)), "{pair:?}");
    }
    assert_eq!(run.code, 1);
}
