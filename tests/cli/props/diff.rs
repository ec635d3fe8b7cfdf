//! The diff of changes equals git's: two trees built from generated entries
//! and edits (adds, deletes, content and mode changes, file ↔ executable ↔
//! symlink ↔ submodule, file ↔ directory, renames, deep paths, spaces and
//! non-UTF-8 names), compared by `diff_trees` and by `git diff-tree -r
//! --no-renames -z`.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Stdio;

use git_agent::git::changes::diff_trees;
use gix::bstr::BStr;
use proptest::prelude::*;

use super::config;
use crate::support::*;

const MODES: &[&str] = &["100644", "100755", "120000", "160000"];
const GITLINKS: &[&str] = &[
    "1111111111111111111111111111111111111111",
    "2222222222222222222222222222222222222222",
];
const NAMES: &[&[u8]] = &[
    b"a",
    b"b",
    b"a b",
    b"\xff\xfe",
    b"\xc3\xa9",
    b"d.rs",
    b"-",
    b"A",
];

/// What sits at a path: a mode and which of three contents (or gitlinks).
type Entry = (usize, usize);
type Tree = BTreeMap<Vec<u8>, Entry>;

fn path() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::sample::select(NAMES), 1..7).prop_map(|c| c.join(&b'/'))
}

fn entry() -> impl Strategy<Value = Entry> {
    (0..MODES.len(), 0..3usize)
}

/// An edit of one old entry.
#[derive(Debug, Clone)]
enum Edit {
    Keep,
    Delete,
    Content(usize),
    Mode(usize),
    Rename(Vec<u8>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => Just(Edit::Keep),
        1 => Just(Edit::Delete),
        1 => (0..3usize).prop_map(Edit::Content),
        1 => (0..MODES.len()).prop_map(Edit::Mode),
        1 => path().prop_map(Edit::Rename),
    ]
}

/// Insert unless a file would also be a directory (`a` and `a/b`).
fn insert(tree: &mut Tree, path: Vec<u8>, entry: Entry) {
    let clash = tree.keys().any(|k| {
        k == &path
            || (k.starts_with(&path) && k.get(path.len()) == Some(&b'/'))
            || (path.starts_with(k) && path.get(k.len()) == Some(&b'/'))
    });
    if !clash {
        tree.insert(path, entry);
    }
}

fn trees() -> impl Strategy<Value = (Tree, Tree)> {
    (
        proptest::collection::vec((path(), entry()), 0..24),
        proptest::collection::vec(edit(), 24),
        proptest::collection::vec((path(), entry()), 0..6),
    )
        .prop_map(|(entries, edits, added)| {
            let mut old = Tree::new();
            for (p, e) in entries {
                insert(&mut old, p, e);
            }
            let mut new = Tree::new();
            let mut renamed = Vec::new();
            for ((p, &(mode, content)), edit) in old.iter().zip(edits) {
                match edit {
                    Edit::Keep => insert(&mut new, p.clone(), (mode, content)),
                    Edit::Delete => {}
                    Edit::Content(c) => insert(&mut new, p.clone(), (mode, c)),
                    Edit::Mode(m) => insert(&mut new, p.clone(), (m, content)),
                    Edit::Rename(to) => renamed.push((to, (mode, content))),
                }
            }
            for (p, e) in renamed.into_iter().chain(added) {
                insert(&mut new, p, e);
            }
            (old, new)
        })
}

/// Write `tree` with git's plumbing (a scratch index, then write-tree).
fn write_tree(env: &Env, tree: &Tree, blobs: &[String]) -> String {
    let index = env.root.join("scratch.index");
    let _ = std::fs::remove_file(&index);
    let mut child = env
        .command("git", &env.repo())
        .env("GIT_INDEX_FILE", &index)
        .args(["update-index", "-z", "--index-info"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = Vec::new();
    for (path, &(mode, content)) in tree {
        let id = if MODES[mode] == "160000" {
            GITLINKS[content % 2]
        } else {
            &blobs[content]
        };
        input.extend_from_slice(format!("{} {id}\t", MODES[mode]).as_bytes());
        input.extend_from_slice(path);
        input.push(0);
    }
    child.stdin.take().unwrap().write_all(&input).unwrap();
    assert!(child.wait().unwrap().success());
    let run = Run::from_output(
        env.command("git", &env.repo())
            .env("GIT_INDEX_FILE", &index)
            .arg("write-tree")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout.trim().to_owned()
}

/// `git diff-tree -r --no-renames -z`: (path, status letter), sorted.
fn git_diff(env: &Env, old: &str, new: &str) -> Vec<(Vec<u8>, char)> {
    let out = env
        .command("git", &env.repo())
        .args(["diff-tree", "-r", "--no-renames", "-z", old, new])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let fields: Vec<&[u8]> = out.stdout.split(|&b| b == 0).collect();
    let mut changes: Vec<(Vec<u8>, char)> = fields
        .chunks_exact(2)
        .map(|r| (r[1].to_vec(), *r[0].last().unwrap() as char))
        .collect();
    changes.sort();
    changes
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn diff_trees_agrees_with_git_diff_tree((old, new) in trees()) {
        let env = Env::empty();
        for (i, text) in ["one\n", "two\n", "three\n"].iter().enumerate() {
            std::fs::write(env.root.join(format!("blob{i}")), text).unwrap();
        }
        let blobs: Vec<String> = env
            .git(&["hash-object", "-w", "../blob0", "../blob1", "../blob2"])
            .lines()
            .map(str::to_owned)
            .collect();
        let (a, b) = (write_tree(&env, &old, &blobs), write_tree(&env, &new, &blobs));
        let repo = gix::open(env.repo()).unwrap();
        let mut ours = Vec::new();
        diff_trees(&repo, Some(a.parse().unwrap()), Some(b.parse().unwrap()), BStr::new(""), &mut ours)
            .unwrap();
        let mut ours: Vec<(Vec<u8>, char)> =
            ours.into_iter().map(|c| (c.path.to_vec(), letter(c.kind))).collect();
        ours.sort();
        prop_assert_eq!(ours, git_diff(&env, &a, &b));
    }
}

/// Found by the property above: an executable bit set or cleared is a
/// modification to git (`M`), not a type change, in the staged diff too.
#[test]
fn executable_bit_is_a_modification_as_in_git() {
    let env = Env::new();
    env.git(&["update-index", "--chmod=+x", "README.md"]);
    let repo = gix::open(env.repo()).unwrap();
    let staged = git_agent::git::changes::staged(&repo).unwrap();
    let ours: Vec<(String, char)> = staged
        .iter()
        .map(|c| (c.path.to_string(), letter(c.kind)))
        .collect();
    assert_eq!(ours, [("README.md".to_owned(), 'M')]);
    assert_eq!(
        env.git(&["diff", "--cached", "--name-status"]),
        "M\tREADME.md\n"
    );
}
