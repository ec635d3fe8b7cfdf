//! Reading trees from packs with the delta-base cache (git/packs.rs), and
//! the diffs that read on several threads, against gix and git.
//!
//! A history is written with `git fast-import` (each tree a delta on the
//! version before it), then repacked as `git gc` would (newest whole,
//! older versions deltas on newer ones) and with REF_DELTA bases; every
//! tree read through the cache, in either order, must equal gix's copy.

use std::io::Write;
use std::process::Stdio;

use git_agent::git::changes;
use git_agent::git::packs::{Packs, Trees};

use crate::support::*;

/// `commits` commits on branch `work`, each changing three files spread
/// over nested directories, written by `git fast-import` on top of main.
fn fast_import_history(env: &Env, commits: usize) {
    let main = env.git(&["rev-parse", "main"]).trim().to_owned();
    let mut stream = Vec::new();
    for c in 0..commits {
        let message = format!("work {c}\n");
        write!(
            stream,
            "commit refs/heads/work\ncommitter T <t@example.com> {} +0000\ndata {}\n{}",
            1_700_000_000 + c,
            message.len(),
            message
        )
        .unwrap();
        if c == 0 {
            writeln!(stream, "from {main}").unwrap();
            // Directories of many entries, so that their versions are
            // stored as deltas on each other.
            for i in 0..240 {
                let path = format!("d{}/e{}/a-file-with-a-long-name-{i}.txt", i % 4, i % 3);
                write!(stream, "M 100644 inline {path}\ndata 2\n{}\n\n", i % 10).unwrap();
            }
        }
        for k in 0..3 {
            let n = (c * 7 + k * 5) % 23;
            let path = format!("d{}/e{}/f{}.txt", n % 4, n % 3, n);
            let body = format!("version {c} of {path}\n");
            write!(
                stream,
                "M 100644 inline {path}\ndata {}\n{body}\n",
                body.len()
            )
            .unwrap();
        }
        // Now and then a file leaves, so trees shrink as well as grow.
        if c % 5 == 4 {
            writeln!(stream, "D d{}/e{}/f{}.txt", c % 4, c % 3, (c * 7) % 23).unwrap();
        }
        writeln!(stream).unwrap();
    }
    let mut child = env
        .command("git", &env.repo())
        .args(["fast-import", "--quiet", "--depth=50"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(child.wait().unwrap().success());
}

/// Every tree object in the repository.
fn all_trees(env: &Env) -> Vec<gix::ObjectId> {
    env.git(&[
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objectname) %(objecttype)",
    ])
    .lines()
    .filter_map(|l| l.strip_suffix(" tree"))
    .map(|id| id.parse().unwrap())
    .collect()
}

/// The longest delta chain among the repository's packed objects.
fn longest_chain(env: &Env) -> usize {
    let pack_dir = env.repo().join(".git/objects/pack");
    let mut longest = 0;
    for entry in std::fs::read_dir(pack_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "idx") {
            let out = env.git(&["verify-pack", "-v", path.to_str().unwrap()]);
            for line in out.lines() {
                if let Some(rest) = line.strip_prefix("chain length = ") {
                    let n: usize = rest.split(':').next().unwrap().parse().unwrap();
                    longest = longest.max(n);
                }
            }
        }
    }
    longest
}

/// Read every tree through one [`Trees`], in `ids`' order, comparing each
/// with gix's own reading.
fn assert_trees_equal_gix(env: &Env, ids: &[gix::ObjectId]) {
    let repo = gix::open(env.repo()).unwrap();
    let packs = Packs::open(&repo);
    let mut trees = Trees::new(&repo, &packs);
    let mut buf = Vec::new();
    for id in ids {
        trees.read(id, &mut buf).unwrap();
        let expected = repo.find_object(*id).unwrap().detach().data;
        assert_eq!(buf, expected, "tree {id}");
    }
}

#[test]
fn trees_read_through_the_delta_cache_equal_gix_in_every_pack_layout() {
    let env = Env::new();
    fast_import_history(&env, 60);
    let layouts: [(&str, &[&str]); 3] = [
        ("as fast-import wrote it", &[]),
        (
            "repacked as gc does",
            &["repack", "-adf", "--depth=50", "--window=50"],
        ),
        (
            "repacked with REF_DELTA bases",
            &[
                "-c",
                "repack.useDeltaBaseOffset=false",
                "repack",
                "-adf",
                "--depth=50",
            ],
        ),
    ];
    for (layout, repack) in layouts {
        if !repack.is_empty() {
            env.git(repack);
        }
        // Otherwise the test would not show the chains are followed.
        let longest = longest_chain(&env);
        assert!(longest >= 8, "{layout}: chains too short ({longest})");
        let mut ids = all_trees(&env);
        assert!(ids.len() > 100, "{layout}: {} trees", ids.len());
        assert_trees_equal_gix(&env, &ids);
        ids.reverse();
        assert_trees_equal_gix(&env, &ids);
    }
}

#[test]
fn a_tree_not_in_any_pack_is_read_loose_and_a_blob_is_refused() {
    let env = Env::new();
    let repo = gix::open(env.repo()).unwrap();
    let tree = env
        .git(&["rev-parse", "HEAD^{tree}"])
        .trim()
        .parse()
        .unwrap();
    assert_trees_equal_gix(&env, &[tree]);
    let blob: gix::ObjectId = env
        .git(&["rev-parse", "HEAD:README.md"])
        .trim()
        .parse()
        .unwrap();
    env.git(&["repack", "-adq"]);
    let packs = Packs::open(&repo);
    let mut trees = Trees::new(&repo, &packs);
    let err = trees.read(&blob, &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("not a tree"), "{err}");
}

/// Each commit of `base..tip` diffed by git, newest first.
fn git_changes(env: &Env, base: &str, tip: &str) -> Vec<(String, Vec<(String, char)>)> {
    env.git(&["rev-list", &format!("{base}..{tip}")])
        .lines()
        .map(|commit| {
            let out = env.git(&[
                "diff-tree",
                "-r",
                "--no-renames",
                "--name-status",
                "--no-commit-id",
                commit,
            ]);
            let mut changes: Vec<(String, char)> = out
                .lines()
                .map(|l| {
                    let (status, path) = l.split_once('\t').unwrap();
                    (path.to_owned(), status.chars().next().unwrap())
                })
                .collect();
            changes.sort();
            (commit.to_owned(), changes)
        })
        .collect()
}

#[test]
fn a_range_diffed_on_several_threads_equals_one_thread_and_git() {
    let env = Env::new();
    fast_import_history(&env, 45);
    for repack in [false, true] {
        if repack {
            env.git(&["repack", "-adf", "--depth=50", "--window=50"]);
        }
        let repo = gix::open(env.repo()).unwrap();
        let base: gix::ObjectId = env.git(&["rev-parse", "main"]).trim().parse().unwrap();
        let tip: gix::ObjectId = env.git(&["rev-parse", "work"]).trim().parse().unwrap();
        let mut expected = git_changes(&env, "main", "work");
        expected.reverse();
        for workers in [1, 2, 3, 7] {
            let ours: Vec<(String, Vec<(String, char)>)> =
                changes::range_hiding_in(&repo, &[base], tip, workers)
                    .unwrap()
                    .into_iter()
                    .map(|c| {
                        let mut list: Vec<(String, char)> = c
                            .changes
                            .iter()
                            .map(|ch| (ch.path.to_string(), letter(ch.kind)))
                            .collect();
                        list.sort();
                        (c.commit, list)
                    })
                    .collect();
            assert_eq!(ours, expected, "{workers} threads, repacked: {repack}");
        }
    }
}

#[test]
fn the_staged_diff_on_several_threads_equals_one_thread_and_git() {
    let env = Env::new();
    for top in 0..9 {
        for sub in 0..4 {
            for f in 0..3 {
                env.write(&format!("t{top}/s{sub}/f{f}.txt"), "one\n");
            }
        }
    }
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "tree"]);
    env.git(&["repack", "-adq"]);
    // Modified, added, deleted, a directory become a file, a file become a
    // directory, an executable bit, in several top-level directories.
    env.write("t0/s0/f0.txt", "two\n");
    env.write("t1/s3/new.txt", "new\n");
    env.git(&["rm", "-q", "t2/s1/f2.txt"]);
    env.git(&["rm", "-rq", "t3/s2"]);
    env.write("t3/s2", "now a file\n");
    env.git(&["rm", "-q", "t4/s0/f1.txt"]);
    env.write("t4/s0/f1.txt/inner.txt", "now a directory\n");
    env.git(&["update-index", "--chmod=+x", "t5/s1/f0.txt"]);
    env.write("t8/s3/f2.txt", "changed\n");
    env.write("top.txt", "root file\n");
    env.git(&["add", "-A"]);
    let mut expected: Vec<(String, char)> = env
        .git(&["diff", "--cached", "--no-renames", "--name-status"])
        .lines()
        .map(|l| {
            let (status, path) = l.split_once('\t').unwrap();
            (path.to_owned(), status.chars().next().unwrap())
        })
        .collect();
    expected.sort();
    assert!(expected.len() >= 10, "{expected:?}");
    let repo = gix::open(env.repo()).unwrap();
    let index = repo.open_index().unwrap();
    for workers in [1, 2, 3, 8] {
        let ours: Vec<(String, char)> = changes::staged_in(&repo, &index, workers)
            .unwrap()
            .into_iter()
            .map(|c| (c.path.to_string(), letter(c.kind)))
            .collect();
        assert_eq!(ours, expected, "{workers} threads");
    }
}

#[test]
fn a_thread_count_that_is_not_a_number_is_refused_by_the_gate_and_the_range() {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["docs", "--scope", "docs/"]));
    let dir = env.agent_dir("docs");
    write_in(&dir, "docs/guide.md", "# More\n");
    env.git_in(&dir, &["add", "docs/guide.md"]);
    let before = env.state();
    for value in ["lots", "0", "1000"] {
        for args in [
            &["check", "--staged"][..],
            &["check", "--range", "main..agent/docs"][..],
        ] {
            let run = Run::from_output(
                env.command(bin("git-agent-scope"), &dir)
                    .args(args)
                    .env("GIT_AGENT_THREADS", value)
                    .output()
                    .unwrap(),
            );
            assert_bad_input(
                &env,
                &before,
                &run,
                &[&format!("GIT_AGENT_THREADS is '{value}'"), "such as 1 or 4"],
            );
        }
    }
    // A number is taken, one thread as well as several.
    for value in ["1", "3"] {
        let run = Run::from_output(
            env.command(bin("git-agent-scope"), &dir)
                .args(["check", "--staged"])
                .env("GIT_AGENT_THREADS", value)
                .output()
                .unwrap(),
        );
        assert_eq!(run.code, 0, "{run:?}");
    }
}
