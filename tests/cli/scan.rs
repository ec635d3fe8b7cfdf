//! `list`'s fast worktree scan (with its directory cache) against
//! `git status --porcelain -uall`, through a series of changes that the stat
//! data, the ignore rules, the index and the cache could each get wrong.

use std::collections::BTreeSet;
use std::path::Path;

use git_agent::ops::status::dirty_and_staged;

use crate::support::*;

/// git's view: (paths with any change, untracked paths).
fn git_view(env: &Env, dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let out = env.git_in(
        dir,
        &["status", "--porcelain", "-z", "-uall", "--no-renames"],
    );
    let (mut changed, mut untracked) = (BTreeSet::new(), BTreeSet::new());
    for record in out.split('\0').filter(|r| !r.is_empty()) {
        let (code, path) = record.split_at(3);
        if code == "?? " {
            untracked.insert(path.to_string());
        } else {
            changed.insert(path.to_string());
        }
    }
    (changed, untracked)
}

fn our_view(dir: &Path, cached: bool) -> (BTreeSet<String>, BTreeSet<String>) {
    let (dirty, _) = dirty_and_staged(dir, cached).unwrap();
    (
        dirty.uncommitted.into_iter().collect(),
        dirty.untracked.into_iter().collect(),
    )
}

/// Ours first (git's status refreshes the index, which would hide racy
/// entries from us), twice so the second run reads the cache the first
/// wrote, then the uncached path, then git.
fn assert_agrees(env: &Env, step: &str) {
    let dir = env.repo();
    assert_portable_scan_agrees(&dir, step);
    let first = our_view(&dir, true);
    let second = our_view(&dir, true);
    let exact = our_view(&dir, false);
    let git = git_view(env, &dir);
    assert_eq!(first, git, "{step}: first scan differs from git status");
    assert_eq!(second, git, "{step}: cached scan differs from git status");
    assert_eq!(exact, git, "{step}: full status differs from git status");
}

/// The portable way of opening directories (every unix but Linux) finds
/// what the Linux one does, both without a cache. The cache the previous
/// step left is put back, for the scans `assert_agrees` runs next.
fn assert_portable_scan_agrees(dir: &Path, step: &str) {
    use git_agent::git::scan::{DirOpen, tracked_changes_with, worktree_with};
    let repo = gix::open(dir).unwrap();
    let cache = repo.git_dir().join("git-agent-dircache");
    let kept = std::fs::read(&cache).ok();
    let scan = |how| {
        let _ = std::fs::remove_file(&cache);
        let scan = worktree_with(&repo, how).unwrap().unwrap();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        (sorted(scan.modified), sorted(scan.untracked))
    };
    assert_eq!(scan(DirOpen::Readable), scan(DirOpen::NATIVE), "{step}");
    assert_eq!(
        tracked_changes_with(&repo, DirOpen::Readable).unwrap(),
        tracked_changes_with(&repo, DirOpen::NATIVE).unwrap(),
        "{step}"
    );
    match kept {
        Some(bytes) => std::fs::write(&cache, bytes).unwrap(),
        None => {
            let _ = std::fs::remove_file(&cache);
        }
    }
}

/// Give every directory an old mtime, so the scan caches its listing (a
/// directory changed in the last seconds is not cached).
fn age_directories(root: &Path) {
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let file = std::fs::File::open(&dir).unwrap();
        file.set_modified(old).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() && entry.file_name() != ".git" {
                stack.push(entry.path());
            }
        }
    }
}

#[test]
fn scan_agrees_with_git_status() {
    let env = Env::empty();
    for i in 0..40 {
        env.write(
            &format!("src/m{}/f{i}.rs", i % 4),
            &format!("// file {i}\n"),
        );
    }
    env.write("docs/a.md", "a\n");
    env.write("docs/deep/b.md", "b\n");
    env.write("tool.sh", "echo\n");
    env.write("link-me", "target\n");
    env.write("becomes-dir", "x\n");
    env.write(".gitignore", "*.log\n!keep.log\nbuild/\n");
    env.write("empty", "");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "files"]);
    let repo = env.repo();
    age_directories(&repo);
    assert_agrees(&env, "clean");

    // Content changes leave directory listings alone: the cache is used.
    env.write("src/m0/f0.rs", "// changed, and longer\n");
    env.write("empty", "now has content\n");
    assert_agrees(&env, "modified");

    // Same size, new mtime: only the content can tell; a few, then many
    // (which settles them through one full comparison).
    env.write("src/m1/f1.rs", "// FILE 1\n");
    assert_agrees(&env, "same size, few");
    for i in (2..40).step_by(2) {
        let path = repo.join(format!("src/m{}/f{i}.rs", i % 4));
        let text = std::fs::read_to_string(&path).unwrap();
        // Half rewritten with the same bytes (touched only), half changed.
        let text = if i % 4 == 0 {
            text.to_uppercase()
        } else {
            text
        };
        std::fs::write(&path, text).unwrap();
    }
    assert_agrees(&env, "same size, many");

    age_directories(&repo);
    std::fs::remove_file(repo.join("docs/a.md")).unwrap();
    std::fs::remove_dir_all(repo.join("docs/deep")).unwrap();
    assert_agrees(&env, "deleted");

    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(repo.join("tool.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_file(repo.join("link-me")).unwrap();
    std::os::unix::fs::symlink("elsewhere", repo.join("link-me")).unwrap();
    std::fs::remove_file(repo.join("becomes-dir")).unwrap();
    env.write("becomes-dir/inside.txt", "i\n");
    assert_agrees(&env, "mode and type changes");

    env.write("src/m2/new.rs", "new\n");
    env.write("fresh/a/b/c.txt", "c\n");
    env.write("fresh/top.txt", "t\n");
    env.write("debug.log", "ignored\n");
    env.write("keep.log", "negated\n");
    env.write("build/out.o", "ignored dir\n");
    env.write("only-ignored/x.log", "ignored\n");
    std::fs::create_dir_all(repo.join("empty-dir/inner")).unwrap();
    env.git_in(&repo.join("src/m3"), &["init", "-q", "nested"]);
    env.write("src/m3/nested/file", "inner repo\n");
    let fifo = env
        .command("mkfifo", &repo)
        .arg("src/pipe")
        .status()
        .unwrap();
    assert!(fifo.success());
    assert_agrees(&env, "untracked, ignored, nested repository, fifo");

    // The index changes while the directories do not.
    age_directories(&repo);
    assert_agrees(&env, "aged");
    env.git(&["rm", "-q", "--cached", "src/m0/f4.rs"]);
    env.git(&["add", "src/m2/new.rs"]);
    assert_agrees(&env, "index changed, listings cached");

    // The ignore rules change while the directories do not.
    age_directories(&repo);
    assert_agrees(&env, "aged again");
    std::fs::write(repo.join(".gitignore"), "*.o\n").unwrap();
    assert_agrees(&env, "ignore rules changed");
}

#[test]
fn racily_clean_file_is_compared_by_content() {
    let env = Env::empty();
    env.write("a.txt", "one\n");
    env.git(&["add", "a.txt"]);
    env.git(&["commit", "-q", "-m", "a"]);
    // Rewritten within the index's timestamp tick, with the same size: the
    // stat data match, and only the racy check sends us to the content.
    env.write("a.txt", "two\n");
    env.git(&["add", "a.txt"]);
    env.write("a.txt", "six\n");
    assert_agrees(&env, "racy");
}
