//! What a commit or the index changes, as a list of paths.
//!
//! Only paths matter to the gate, so this is a name-status diff without
//! rename detection: a rename shows as its deleted old path and its added
//! new path, and so counts both, as the SPEC asks.
//!
//! The staged diff (index against `HEAD`) uses the index's cache-tree (the
//! `TREE` extension) the way git does: a directory whose cached tree id is
//! still valid and equals `HEAD`'s subtree is skipped without looking at its
//! entries, so the cost follows the size of the change, not of the repository.

use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice, ByteVec};
use serde::Serialize;

use crate::error::{GitContext, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Deleted,
    Modified,
    /// Mode or type changed: file ↔ executable ↔ symlink ↔ submodule.
    TypeChanged,
    /// An unmerged index entry.
    Unmerged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

const TREE: u32 = 0o040000;

fn is_tree(mode: u32) -> bool {
    mode & 0o170000 == TREE
}

/// Blob modes other than 100755 are all plain files to git (old trees may
/// say 100664).
fn normalize_mode(mode: u32) -> u32 {
    if mode & 0o170000 == 0o100000 {
        if mode & 0o111 != 0 {
            0o100755
        } else {
            0o100644
        }
    } else {
        mode
    }
}

#[derive(Debug, Clone)]
struct Entry {
    name: BString,
    mode: u32,
    id: ObjectId,
}

fn tree_entries(repo: &gix::Repository, id: ObjectId) -> Result<Vec<Entry>> {
    let tree = repo.find_tree(id).git("reading a tree")?;
    let decoded = tree.decode().git("decoding a tree")?;
    Ok(decoded
        .entries
        .iter()
        .map(|e| Entry {
            name: e.filename.to_owned(),
            mode: normalize_mode(e.mode.value() as u32),
            id: e.oid.to_owned(),
        })
        .collect())
}

fn join(prefix: &BStr, name: &BStr) -> BString {
    let mut p = BString::from(prefix.to_vec());
    p.push_str(name);
    p
}

fn push(out: &mut Vec<Change>, path: &BStr, kind: ChangeKind) {
    out.push(Change {
        path: path.to_str_lossy().into_owned(),
        kind,
    });
}

/// Paths that differ between trees `old` and `new` (either may be absent),
/// below `prefix` (empty, or ending in `/`).
pub fn diff_trees(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    prefix: &BStr,
    out: &mut Vec<Change>,
) -> Result<()> {
    if old == new {
        return Ok(());
    }
    let a = match old {
        Some(id) => tree_entries(repo, id)?,
        None => Vec::new(),
    };
    let b = match new {
        Some(id) => tree_entries(repo, id)?,
        None => Vec::new(),
    };
    let mut names: std::collections::BTreeMap<&BStr, (Option<&Entry>, Option<&Entry>)> =
        Default::default();
    for e in &a {
        names.entry(e.name.as_bstr()).or_default().0 = Some(e);
    }
    for e in &b {
        names.entry(e.name.as_bstr()).or_default().1 = Some(e);
    }
    for (name, sides) in names {
        let path = join(prefix, name);
        let subdir = || {
            let mut p = path.clone();
            p.push(b'/');
            p
        };
        match sides {
            (Some(x), Some(y)) if x.mode == y.mode && x.id == y.id => {}
            (Some(x), Some(y)) => match (is_tree(x.mode), is_tree(y.mode)) {
                (true, true) => diff_trees(repo, Some(x.id), Some(y.id), subdir().as_bstr(), out)?,
                (true, false) => {
                    diff_trees(repo, Some(x.id), None, subdir().as_bstr(), out)?;
                    push(out, path.as_bstr(), ChangeKind::Added);
                }
                (false, true) => {
                    push(out, path.as_bstr(), ChangeKind::Deleted);
                    diff_trees(repo, None, Some(y.id), subdir().as_bstr(), out)?;
                }
                (false, false) if x.mode != y.mode => {
                    push(out, path.as_bstr(), ChangeKind::TypeChanged)
                }
                (false, false) => push(out, path.as_bstr(), ChangeKind::Modified),
            },
            (Some(x), None) if is_tree(x.mode) => {
                diff_trees(repo, Some(x.id), None, subdir().as_bstr(), out)?
            }
            (Some(_), None) => push(out, path.as_bstr(), ChangeKind::Deleted),
            (None, Some(y)) if is_tree(y.mode) => {
                diff_trees(repo, None, Some(y.id), subdir().as_bstr(), out)?
            }
            (None, Some(_)) => push(out, path.as_bstr(), ChangeKind::Added),
            (None, None) => unreachable!("every name comes from one side"),
        }
    }
    Ok(())
}

/// Paths staged for the next commit: the index against `HEAD`'s tree.
pub fn staged(repo: &gix::Repository) -> Result<Vec<Change>> {
    let index = repo.open_index().git("reading the index")?;
    let head_tree = match repo.head_tree_id() {
        Ok(id) => Some(id.detach()),
        // An unborn branch: everything in the index is new.
        Err(_) => None,
    };
    let mut out = Vec::new();
    let walker = IndexWalk {
        repo,
        index: &index,
    };
    walker.dir(
        BStr::new(""),
        head_tree,
        index.tree(),
        0..index.entries().len(),
        &mut out,
    )?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

struct IndexWalk<'a> {
    repo: &'a gix::Repository,
    index: &'a gix::index::File,
}

enum Item {
    /// Index entries `range` at this level with one path (several when unmerged).
    File(std::ops::Range<usize>),
    /// Index entries below the subdirectory.
    Dir(std::ops::Range<usize>),
}

impl IndexWalk<'_> {
    fn dir(
        &self,
        prefix: &BStr,
        head: Option<ObjectId>,
        cache: Option<&gix::index::extension::Tree>,
        range: std::ops::Range<usize>,
        out: &mut Vec<Change>,
    ) -> Result<()> {
        if let (Some(cache), Some(head)) = (cache, head)
            && cache.num_entries == Some(range.len() as u32)
            && cache.id == head
        {
            return Ok(());
        }
        let entries = self.index.entries();
        let mut items: Vec<(&BStr, Item)> = Vec::new();
        let mut i = range.start;
        while i < range.end {
            let path = entries[i].path(self.index);
            let rest = &path[prefix.len()..];
            match rest.find_byte(b'/') {
                Some(slash) => {
                    let name = &rest[..slash];
                    let dir_prefix_len = prefix.len() + slash + 1;
                    let dir_prefix = &path[..dir_prefix_len];
                    let mut j = i + 1;
                    while j < range.end && entries[j].path(self.index).starts_with(dir_prefix) {
                        j += 1;
                    }
                    items.push((name.as_bstr(), Item::Dir(i..j)));
                    i = j;
                }
                None => {
                    let mut j = i + 1;
                    while j < range.end && entries[j].path(self.index) == path {
                        j += 1;
                    }
                    items.push((rest.as_bstr(), Item::File(i..j)));
                    i = j;
                }
            }
        }
        let head_entries = match head {
            Some(id) => tree_entries(self.repo, id)?,
            None => Vec::new(),
        };
        let mut names: std::collections::BTreeMap<&BStr, (Option<&Entry>, Option<&Item>)> =
            Default::default();
        for e in &head_entries {
            names.entry(e.name.as_bstr()).or_default().0 = Some(e);
        }
        for (name, item) in &items {
            names.entry(name).or_default().1 = Some(item);
        }
        for (name, (head_entry, item)) in names {
            let path = join(prefix, name);
            let mut subdir = path.clone();
            subdir.push(b'/');
            let head_tree = head_entry.filter(|e| is_tree(e.mode)).map(|e| e.id);
            let head_blob = head_entry.filter(|e| !is_tree(e.mode));
            match item {
                Some(Item::Dir(r)) => {
                    let child = cache.and_then(|c| {
                        c.children
                            .iter()
                            .find(|t| t.name.as_slice() == name.as_bytes())
                    });
                    self.dir(subdir.as_bstr(), head_tree, child, r.clone(), out)?;
                    if head_blob.is_some() {
                        push(out, path.as_bstr(), ChangeKind::Deleted);
                    }
                }
                Some(Item::File(r)) => {
                    let entry = &entries[r.start];
                    if r.len() > 1 || entry.stage_raw() != 0 {
                        push(out, path.as_bstr(), ChangeKind::Unmerged);
                        if let Some(t) = head_tree {
                            diff_trees(self.repo, Some(t), None, subdir.as_bstr(), out)?;
                        }
                        continue;
                    }
                    if entry
                        .flags
                        .contains(gix::index::entry::Flags::INTENT_TO_ADD)
                    {
                        // Not committed until really added.
                        if let Some(h) = head_blob {
                            let _ = h;
                            push(out, path.as_bstr(), ChangeKind::Deleted);
                        }
                        continue;
                    }
                    let mode = normalize_mode(entry.mode.bits());
                    if is_tree(mode) {
                        // A sparse index keeps whole directories as one entry.
                        diff_trees(self.repo, head_tree, Some(entry.id), subdir.as_bstr(), out)?;
                        if head_blob.is_some() {
                            push(out, path.as_bstr(), ChangeKind::Deleted);
                        }
                        continue;
                    }
                    match head_blob {
                        Some(h) if h.mode == mode && h.id == entry.id => {}
                        Some(h) if h.mode != mode => {
                            push(out, path.as_bstr(), ChangeKind::TypeChanged)
                        }
                        Some(_) => push(out, path.as_bstr(), ChangeKind::Modified),
                        None => push(out, path.as_bstr(), ChangeKind::Added),
                    }
                    if let Some(t) = head_tree {
                        diff_trees(self.repo, Some(t), None, subdir.as_bstr(), out)?;
                    }
                }
                None => match head_entry {
                    Some(e) if is_tree(e.mode) => {
                        diff_trees(self.repo, Some(e.id), None, subdir.as_bstr(), out)?
                    }
                    Some(_) => push(out, path.as_bstr(), ChangeKind::Deleted),
                    None => {}
                },
            }
        }
        Ok(())
    }
}

/// The changes one commit makes, as the gate counts them.
#[derive(Debug, Clone, Serialize)]
pub struct CommitChanges {
    pub commit: String,
    pub summary: String,
    pub changes: Vec<Change>,
}

/// Every commit reachable from `to` but not from `from`, oldest first, each
/// diffed against its first parent. For a merge, a path counts only when the
/// merge's version differs from every parent: what the merge took from the
/// base is the base's change, not the agent's.
pub fn range(repo: &gix::Repository, from: ObjectId, to: ObjectId) -> Result<Vec<CommitChanges>> {
    let walk = repo
        .rev_walk([to])
        .with_hidden([from])
        .all()
        .git("walking the commit range")?;
    let mut result = Vec::new();
    for info in walk {
        let info = info.git("walking the commit range")?;
        let commit = repo.find_commit(info.id).git("reading a commit")?;
        let tree = commit.tree_id().git("reading a commit's tree")?.detach();
        let parent_trees = info
            .parent_ids
            .iter()
            .map(|p| {
                Ok(repo
                    .find_commit(*p)
                    .git("reading a parent commit")?
                    .tree_id()
                    .git("reading a tree")?
                    .detach())
            })
            .collect::<Result<Vec<_>>>()?;
        let mut changes = Vec::new();
        diff_trees(
            repo,
            parent_trees.first().copied(),
            Some(tree),
            BStr::new(""),
            &mut changes,
        )?;
        if parent_trees.len() > 1 {
            let merged = repo.find_tree(tree).git("reading a tree")?;
            let others = parent_trees[1..]
                .iter()
                .map(|t| repo.find_tree(*t).git("reading a tree"))
                .collect::<Result<Vec<_>>>()?;
            let mut own = Vec::new();
            for change in changes {
                let mine = entry_at(&merged, &change.path)?;
                let mut differs_from_all = true;
                for other in &others {
                    if entry_at(other, &change.path)? == mine {
                        differs_from_all = false;
                    }
                }
                if differs_from_all {
                    own.push(change);
                }
            }
            changes = own;
        }
        let summary = commit
            .message_raw_sloppy()
            .lines()
            .next()
            .map(|l| l.to_str_lossy().into_owned())
            .unwrap_or_default();
        result.push(CommitChanges {
            commit: info.id.to_string(),
            summary,
            changes,
        });
    }
    result.reverse();
    Ok(result)
}

fn entry_at(tree: &gix::Tree<'_>, path: &str) -> Result<Option<(u32, ObjectId)>> {
    Ok(tree
        .lookup_entry_by_path(path)
        .git("looking up a path")?
        .map(|e| (normalize_mode(e.mode().value() as u32), e.object_id())))
}
