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
    /// Type changed: file ↔ symlink ↔ submodule. (An executable bit set or
    /// cleared is `Modified`, as git reports it.)
    TypeChanged,
    /// An unmerged index entry.
    Unmerged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The path's bytes, as git stores them; JSON gets a lossy UTF-8 copy.
    #[serde(serialize_with = "lossy")]
    pub path: BString,
    pub kind: ChangeKind,
}

/// JSON strings are Unicode: a name that is not UTF-8 is shown with U+FFFD.
pub fn lossy<S: serde::Serializer>(path: &BString, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_str_lossy())
}

const TREE: u32 = 0o040000;

fn is_tree(mode: u32) -> bool {
    mode & 0o170000 == TREE
}

/// How a path whose entry went from mode `a` to mode `b` changed: `T` only
/// when the object type differs, as git's `diff-tree` decides.
fn modified_or_retyped(a: u32, b: u32) -> ChangeKind {
    if a & 0o170000 == b & 0o170000 {
        ChangeKind::Modified
    } else {
        ChangeKind::TypeChanged
    }
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

/// A tree entry borrowed from its decoded buffer.
#[derive(Clone, Copy)]
struct Entry<'a> {
    name: &'a BStr,
    mode: u32,
    id: &'a gix::oid,
}

/// Decode tree `id` into `buf`, returning its entries in git's tree order.
fn read_tree<'a>(
    repo: &gix::Repository,
    id: Option<ObjectId>,
    buf: &'a mut Vec<u8>,
) -> Result<Vec<Entry<'a>>> {
    use gix::prelude::FindExt;
    let Some(id) = id else {
        return Ok(Vec::new());
    };
    repo.objects
        .find_tree_iter(&id, buf)
        .git("reading a tree")?;
    tree_entries(buf, repo.object_hash())
}

/// git's tree order: names compare as if directories ended in '/'.
fn tree_order(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> std::cmp::Ordering {
    let common = a.len().min(b.len());
    a[..common].cmp(&b[..common]).then_with(|| {
        let next = |s: &[u8], dir: bool| {
            s.get(common)
                .copied()
                .or(if dir { Some(b'/') } else { None })
        };
        next(a, a_dir).cmp(&next(b, b_dir))
    })
}

/// Walk two lists sorted in tree order, calling `f` with each name and the
/// item of each side that has it. A name that is a directory on one side
/// and a file on the other comes twice, once per side, which reads as the
/// directory's removal (or addition) and the file's addition (or removal).
fn merge_join<A, B>(
    a: &[A],
    b: &[B],
    key_a: impl Fn(&A) -> (&[u8], bool),
    key_b: impl Fn(&B) -> (&[u8], bool),
    mut f: impl FnMut(&[u8], Option<&A>, Option<&B>) -> Result<()>,
) -> Result<()> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => {
                let (xn, xd) = key_a(x);
                let (yn, yd) = key_b(y);
                tree_order(xn, xd, yn, yd)
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                f(key_a(&a[i]).0, Some(&a[i]), None)?;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                f(key_b(&b[j]).0, None, Some(&b[j]))?;
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                f(key_a(&a[i]).0, Some(&a[i]), Some(&b[j]))?;
                i += 1;
                j += 1;
            }
        }
    }
    Ok(())
}

fn join(prefix: &BStr, name: &[u8]) -> BString {
    let mut p = BString::from(Vec::with_capacity(prefix.len() + name.len() + 1));
    p.push_str(prefix);
    p.push_str(name);
    p
}

fn with_slash(mut path: BString) -> BString {
    path.push(b'/');
    path
}

fn push(out: &mut Vec<Change>, path: &BStr, kind: ChangeKind) {
    out.push(Change {
        path: path.to_owned(),
        kind,
    });
}

fn entry_key<'b>(e: &'b Entry<'_>) -> (&'b [u8], bool) {
    (e.name.as_bytes(), is_tree(e.mode))
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
    diff_trees_reusing(repo, old, new, prefix, out, &mut Reuse::default())
}

/// Trees decoded by one diff and kept for the next. Walking a branch
/// newest first, each commit's parent is the next commit diffed, so the
/// trees read as the old side of one diff are the new side of the next:
/// reusing them reads each tree once instead of twice.
#[derive(Default)]
struct Reuse<'r> {
    enabled: bool,
    /// Where trees are read from, when not through gix's cache.
    trees: Option<super::packs::Trees<'r>>,
    /// Old-side trees of the last diff.
    last: std::collections::HashMap<ObjectId, std::rc::Rc<Vec<u8>>>,
    /// Old-side trees of this diff.
    kept: std::collections::HashMap<ObjectId, std::rc::Rc<Vec<u8>>>,
}

/// A tree object's raw bytes, owned or shared with [`Reuse`].
enum TreeData {
    Owned(Vec<u8>),
    Shared(std::rc::Rc<Vec<u8>>),
}

impl std::ops::Deref for TreeData {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            TreeData::Owned(v) => v,
            TreeData::Shared(r) => r,
        }
    }
}

impl<'r> Reuse<'r> {
    fn enabled(repo: &'r gix::Repository, packs: &'r super::packs::Packs) -> Reuse<'r> {
        Reuse {
            enabled: true,
            trees: Some(super::packs::Trees::new(repo, packs)),
            ..Reuse::default()
        }
    }

    /// The next diff begins: this one's old side becomes reusable.
    fn next_diff(&mut self) {
        self.last = std::mem::take(&mut self.kept);
    }

    /// Tree `id`'s bytes; `old` when it is the old side of the diff.
    fn load(
        &mut self,
        repo: &gix::Repository,
        id: Option<ObjectId>,
        old: bool,
    ) -> Result<TreeData> {
        use gix::prelude::FindExt;
        let Some(id) = id else {
            return Ok(TreeData::Owned(Vec::new()));
        };
        if self.enabled
            && let Some(data) = self.last.get(&id).or_else(|| self.kept.get(&id))
        {
            let data = data.clone();
            if old {
                self.kept.insert(id, data.clone());
            }
            return Ok(TreeData::Shared(data));
        }
        let mut buf = Vec::new();
        match &mut self.trees {
            Some(trees) => trees.read(&id, &mut buf)?,
            None => {
                repo.objects
                    .find_tree_iter(&id, &mut buf)
                    .git("reading a tree")?;
            }
        }
        if !(self.enabled && old) {
            return Ok(TreeData::Owned(buf));
        }
        let data = std::rc::Rc::new(buf);
        self.kept.insert(id, data.clone());
        Ok(TreeData::Shared(data))
    }
}

/// The entries of a tree object's bytes, in git's tree order.
fn tree_entries(data: &[u8], hash: gix::hash::Kind) -> Result<Vec<Entry<'_>>> {
    gix::objs::TreeRefIter::from_bytes(data, hash)
        .map(|e| {
            e.map(|e| Entry {
                name: e.filename,
                mode: normalize_mode(e.mode.value() as u32),
                id: e.oid,
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .git("decoding a tree")
}

fn diff_trees_reusing(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    prefix: &BStr,
    out: &mut Vec<Change>,
    reuse: &mut Reuse<'_>,
) -> Result<()> {
    if old == new {
        return Ok(());
    }
    let (data_a, data_b) = (reuse.load(repo, old, true)?, reuse.load(repo, new, false)?);
    let hash = repo.object_hash();
    let (a, b) = (tree_entries(&data_a, hash)?, tree_entries(&data_b, hash)?);
    merge_join(&a, &b, entry_key, entry_key, |name, x, y| {
        // Most entries are equal on both sides: their path is never built.
        let path = || join(prefix, name);
        let mut descend = |old: Option<&gix::oid>, new: Option<&gix::oid>| {
            diff_trees_reusing(
                repo,
                old.map(ToOwned::to_owned),
                new.map(ToOwned::to_owned),
                with_slash(path()).as_bstr(),
                out,
                reuse,
            )
        };
        match (x, y) {
            (Some(x), Some(y)) if x.mode == y.mode && x.id == y.id => {}
            // Equal names in tree order are both trees or both not.
            (Some(x), Some(y)) if is_tree(x.mode) => descend(Some(x.id), Some(y.id))?,
            (Some(x), None) if is_tree(x.mode) => descend(Some(x.id), None)?,
            (None, Some(y)) if is_tree(y.mode) => descend(None, Some(y.id))?,
            (Some(x), Some(y)) => push(out, path().as_bstr(), modified_or_retyped(x.mode, y.mode)),
            (Some(_), None) => push(out, path().as_bstr(), ChangeKind::Deleted),
            (None, Some(_)) => push(out, path().as_bstr(), ChangeKind::Added),
            (None, None) => {}
        }
        Ok(())
    })
}

/// Paths staged for the next commit: the index against `HEAD`'s tree.
pub fn staged(repo: &gix::Repository) -> Result<Vec<Change>> {
    let index = read_index(repo)?;
    // Threads pay for themselves only where there are many directories to
    // read; a small index (the hook's usual case) is walked on this thread
    // without asking how many cores there are.
    let workers = workers(index.entries().len() >= PARALLEL_INDEX_ENTRIES)?;
    staged_in(repo, &index, workers)
}

/// Below this many index entries, [`staged`] does not start threads.
const PARALLEL_INDEX_ENTRIES: usize = 4096;

/// How many threads a diff may use: 1 unless `parallel`, else
/// `GIT_AGENT_THREADS` when set, else the machine's cores, at most four.
/// The setting is checked either way, so a bad value is refused whatever
/// the size of the diff.
pub fn workers(parallel: bool) -> Result<usize> {
    let set = match std::env::var_os("GIT_AGENT_THREADS") {
        Some(value) if !value.is_empty() => match value.to_str().map(str::trim).map(str::parse) {
            Some(Ok(n)) if (1..=64).contains(&n) => Some(n),
            _ => {
                return Err(crate::error::Error::usage(
                    format!(
                        "GIT_AGENT_THREADS is '{}', not a number of threads from 1 to 64",
                        value.to_string_lossy()
                    ),
                    "set it to a number such as 1 or 4, or unset it to use the machine's cores",
                ));
            }
        },
        _ => None,
    };
    if !parallel {
        return Ok(1);
    }
    Ok(set.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4)
    }))
}

/// [`staged`] over `index`, reading trees on up to `workers` threads.
#[doc(hidden)]
pub fn staged_in(
    repo: &gix::Repository,
    index: &gix::index::File,
    workers: usize,
) -> Result<Vec<Change>> {
    let repo = &without_pack_cache(repo);
    let head_tree = match repo.head_tree_id() {
        Ok(id) => Some(id.detach()),
        // An unborn branch: everything in the index is new.
        Err(_) => None,
    };
    let root = DirTask {
        prefix: BString::default(),
        head: head_tree,
        cache: index.tree(),
        range: 0..index.entries().len(),
    };
    let mut out = if workers > 1 {
        IndexWalk { repo, index }.parallel(root, workers)?
    } else {
        let mut out = Vec::new();
        IndexWalk { repo, index }.walk(vec![root], &mut out)?;
        out
    };
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

/// The index, read as git reads it for a diff: without hashing the whole
/// file to verify its trailing checksum (git verifies it only in `fsck`).
/// On a 100,000-entry index that hash is about a twentieth of the gate.
fn read_index(repo: &gix::Repository) -> Result<gix::index::File> {
    gix::index::File::at(
        repo.index_path(),
        repo.object_hash(),
        true,
        gix::index::decode::Options::default(),
    )
    .git("reading the index")
}

/// These walks read each tree once, so a cache of delta bases costs more in
/// lookups than it saves (measured in bench/scope-check.sh).
fn without_pack_cache(repo: &gix::Repository) -> gix::Repository {
    let mut repo = repo.clone();
    repo.objects.unset_pack_cache();
    repo
}

struct IndexWalk<'a, 'i> {
    repo: &'a gix::Repository,
    index: &'i gix::index::File,
}

/// What the index holds under one name at one directory level.
struct Item<'a> {
    name: &'a [u8],
    /// The entries: one file (several when unmerged), or all below a directory.
    range: std::ops::Range<usize>,
    is_dir: bool,
}

fn item_key<'b>(i: &'b Item<'_>) -> (&'b [u8], bool) {
    (i.name, i.is_dir)
}

/// The cache-tree node for subdirectory `name`. git keeps children sorted
/// by name length, then bytes; fall back to a scan if that does not hold.
fn cache_child<'t>(
    parent: Option<&'t gix::index::extension::Tree>,
    name: &[u8],
) -> Option<&'t gix::index::extension::Tree> {
    let children = &parent?.children;
    match children.binary_search_by(|t| (t.name.len(), t.name.as_slice()).cmp(&(name.len(), name)))
    {
        Ok(i) => Some(&children[i]),
        Err(_) => children.iter().find(|t| t.name.as_slice() == name),
    }
}

/// One directory for [`IndexWalk`] to compare: `prefix` (empty for the
/// root, else ending in `/`), HEAD's tree there, the index's cache-tree
/// node for it and the index entries below it.
struct DirTask<'i> {
    prefix: BString,
    head: Option<ObjectId>,
    cache: Option<&'i gix::index::extension::Tree>,
    range: std::ops::Range<usize>,
}

impl<'i> IndexWalk<'_, 'i> {
    /// Compare every directory in `tasks` and all below them.
    fn walk(&self, mut tasks: Vec<DirTask<'i>>, out: &mut Vec<Change>) -> Result<()> {
        while let Some(task) = tasks.pop() {
            self.level(task, out, &mut tasks)?;
        }
        Ok(())
    }

    /// [`IndexWalk::walk`] from `root` on `workers` threads: the
    /// directories are split until there are a few for each thread, then
    /// the threads take them, largest first, each with its own handle on
    /// the object database.
    fn parallel(&self, root: DirTask<'i>, workers: usize) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        let mut tasks = vec![root];
        while tasks.len() < workers * 4 {
            let Some(largest) = (0..tasks.len()).max_by_key(|&i| tasks[i].range.len()) else {
                break;
            };
            let task = tasks.swap_remove(largest);
            self.level(task, &mut out, &mut tasks)?;
        }
        // Popped from the end: the largest first.
        tasks.sort_by_key(|t| t.range.len());
        let threads = workers.min(tasks.len());
        let queue = std::sync::Mutex::new(tasks);
        let index = self.index;
        let results: Vec<Result<Vec<Change>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let repo = without_pack_cache(self.repo).into_sync();
                    let queue = &queue;
                    s.spawn(move || {
                        let repo = repo.to_thread_local();
                        let walk = IndexWalk { repo: &repo, index };
                        let mut out = Vec::new();
                        let next = || queue.lock().expect("no thread panics holding it").pop();
                        while let Some(task) = next() {
                            walk.walk(vec![task], &mut out)?;
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("walk threads do not panic"))
                .collect()
        });
        for part in results {
            out.extend(part?);
        }
        Ok(out)
    }

    /// The changes in one directory between HEAD's tree and the index:
    /// files are compared here, subdirectories that may differ are pushed
    /// onto `sub`.
    fn level(
        &self,
        task: DirTask<'i>,
        out: &mut Vec<Change>,
        sub: &mut Vec<DirTask<'i>>,
    ) -> Result<()> {
        let DirTask {
            prefix,
            head,
            cache,
            range,
        } = task;
        // git's own shortcut: a valid cached tree id equal to HEAD's subtree
        // means nothing below changed.
        if let (Some(cache), Some(head)) = (cache, head)
            && cache.num_entries == Some(range.len() as u32)
            && cache.id == head
        {
            return Ok(());
        }
        let prefix = prefix.as_bstr();
        let items = self.items(prefix, range);
        let mut buf = Vec::new();
        let head_entries = read_tree(self.repo, head, &mut buf)?;
        merge_join(
            &head_entries,
            &items,
            entry_key,
            item_key,
            |name, head_entry, item| {
                let path = join(prefix, name);
                match (head_entry, item) {
                    (head_entry, Some(item)) if item.is_dir => sub.push(DirTask {
                        prefix: with_slash(path),
                        head: head_entry.map(|e| e.id.to_owned()),
                        cache: cache_child(cache, name),
                        range: item.range.clone(),
                    }),
                    (head_entry, Some(item)) => self.file(path, head_entry, item, out)?,
                    (Some(h), None) if is_tree(h.mode) => diff_trees(
                        self.repo,
                        Some(h.id.to_owned()),
                        None,
                        with_slash(path).as_bstr(),
                        out,
                    )?,
                    (Some(_), None) => push(out, path.as_bstr(), ChangeKind::Deleted),
                    (None, None) => {}
                }
                Ok(())
            },
        )
    }

    /// The index entries in `range` (all below `prefix`) grouped by their
    /// next path component: one item per file or subdirectory, in order.
    fn items(&self, prefix: &BStr, range: std::ops::Range<usize>) -> Vec<Item<'_>> {
        let entries = self.index.entries();
        let state: &gix::index::State = self.index;
        let mut items: Vec<Item<'_>> = Vec::new();
        let mut i = range.start;
        while i < range.end {
            let path = entries[i].path(state);
            let rest = &path[prefix.len()..];
            match rest.find_byte(b'/') {
                Some(slash) => {
                    let dir_prefix = &path[..prefix.len() + slash + 1];
                    let len = entries[i..range.end]
                        .partition_point(|e| e.path(state).starts_with(dir_prefix));
                    items.push(Item {
                        name: &rest[..slash],
                        range: i..i + len,
                        is_dir: true,
                    });
                    i += len;
                }
                None => {
                    let mut j = i + 1;
                    while j < range.end && entries[j].path(state) == path {
                        j += 1;
                    }
                    items.push(Item {
                        name: rest,
                        range: i..j,
                        is_dir: false,
                    });
                    i = j;
                }
            }
        }
        items
    }

    /// Compare the index's version of file `path` with HEAD's.
    fn file(
        &self,
        path: BString,
        head_entry: Option<&Entry<'_>>,
        item: &Item<'_>,
        out: &mut Vec<Change>,
    ) -> Result<()> {
        let entry = &self.index.entries()[item.range.start];
        if item.range.len() > 1 || entry.stage_raw() != 0 {
            push(out, path.as_bstr(), ChangeKind::Unmerged);
            return Ok(());
        }
        let mode = normalize_mode(entry.mode.bits());
        if entry
            .flags
            .contains(gix::index::entry::Flags::INTENT_TO_ADD)
        {
            // Not part of the next commit until really added.
            if head_entry.is_some() {
                push(out, path.as_bstr(), ChangeKind::Deleted);
            }
        } else if is_tree(mode) {
            // A sparse index keeps a whole directory as one entry.
            diff_trees(
                self.repo,
                head_entry.map(|e| e.id.to_owned()),
                Some(entry.id),
                with_slash(path).as_bstr(),
                out,
            )?;
        } else {
            match head_entry {
                Some(h) if h.mode == mode && h.id == entry.id => {}
                Some(h) => push(out, path.as_bstr(), modified_or_retyped(h.mode, mode)),
                None => push(out, path.as_bstr(), ChangeKind::Added),
            }
        }
        Ok(())
    }
}

/// A path's version in a tree or the index: normalized mode and object id.
type Version = Option<(u32, ObjectId)>;

/// A merge's parent other than the first, with what it brings.
///
/// It brings path `p` when its version differs from that of every merge
/// base it has with the first parent (every path, if it has none): a
/// commit that is already an ancestor of the first parent brings nothing.
struct OtherParent<'r> {
    tree: gix::Tree<'r>,
    bases: Vec<gix::Tree<'r>>,
    /// Whether what it brings may be exempted: see [`merge_own`].
    trusted: bool,
}

impl<'r> OtherParent<'r> {
    fn new(
        repo: &'r gix::Repository,
        first: Option<ObjectId>,
        id: ObjectId,
        trusted: bool,
    ) -> Result<Self> {
        let bases = match first {
            Some(first) => repo
                .merge_bases_many(first, &[id])
                .git("finding a merge base")?
                .into_iter()
                .map(|b| commit_tree(repo, b.detach()))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        Ok(OtherParent {
            tree: commit_tree(repo, id)?,
            bases,
            trusted,
        })
    }

    fn brings(&self, path: &BStr) -> Result<bool> {
        let mine = version_at(&self.tree, path)?;
        if self.bases.is_empty() {
            return Ok(mine.is_some());
        }
        for base in &self.bases {
            if version_at(base, path)? == mine {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every path it may bring: what it changed since any of its merge bases.
    fn candidates(&self, repo: &gix::Repository) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        if self.bases.is_empty() {
            diff_trees(repo, None, Some(self.tree.id), BStr::new(""), &mut out)?;
        }
        for base in &self.bases {
            diff_trees(
                repo,
                Some(base.id),
                Some(self.tree.id),
                BStr::new(""),
                &mut out,
            )?;
        }
        Ok(out)
    }
}

fn commit_tree(repo: &gix::Repository, commit: ObjectId) -> Result<gix::Tree<'_>> {
    repo.find_commit(commit)
        .git("reading a commit")?
        .tree()
        .git("reading a commit's tree")
}

/// What a merge changes on its own, given `changes` (its diff against its
/// first parent) and its version of each path (`merged`).
///
/// A change is not the merge's own when a trusted other parent brings that
/// very version. And where an other parent brings a version the merge did
/// not keep, the merge overrode it: that path is the merge's own change
/// too, though the first-parent diff may not show it (`git merge -s ours`).
fn merge_own(
    repo: &gix::Repository,
    changes: Vec<Change>,
    others: &[OtherParent<'_>],
    merged: impl Fn(&BStr) -> Result<Version>,
) -> Result<Vec<Change>> {
    let mut own = Vec::new();
    for change in changes {
        let mine = merged(change.path.as_bstr())?;
        let mut exempt = false;
        for other in others.iter().filter(|o| o.trusted) {
            if version_at(&other.tree, change.path.as_bstr())? == mine
                && other.brings(change.path.as_bstr())?
            {
                exempt = true;
                break;
            }
        }
        if !exempt {
            own.push(change);
        }
    }
    for other in others {
        for candidate in other.candidates(repo)? {
            let path = candidate.path.as_bstr();
            let theirs = version_at(&other.tree, path)?;
            let mine = merged(path)?;
            if mine != theirs {
                own.push(Change {
                    path: candidate.path.clone(),
                    kind: kind_between(theirs, mine),
                });
            }
        }
    }
    own.sort_by(|a, b| a.path.cmp(&b.path));
    own.dedup_by(|a, b| a.path == b.path);
    Ok(own)
}

fn kind_between(from: Version, to: Version) -> ChangeKind {
    match (from, to) {
        (None, _) => ChangeKind::Added,
        (_, None) => ChangeKind::Deleted,
        (Some((a, _)), Some((b, _))) => modified_or_retyped(a, b),
    }
}

/// The staged changes the next commit makes on its own.
///
/// While a merge is in progress, `MERGE_HEAD` names the other parents, but
/// it is a file anyone can write. So only a parent that is `base_tip`, the
/// base's current tip, is trusted to bring changes, and an ancestor of
/// `HEAD` brings none; every other staged change is the agent's, by the
/// same rule [`range`] applies to merge commits. `base_tip` is asked only
/// while a merge is in progress: the gate runs on every commit.
pub fn staged_own(
    repo: &gix::Repository,
    base_tip: impl FnOnce() -> Result<Option<ObjectId>>,
) -> Result<Vec<Change>> {
    let staged = staged(repo)?;
    let merge_head = repo.git_dir().join("MERGE_HEAD");
    let Ok(text) = std::fs::read_to_string(&merge_head) else {
        return Ok(staged);
    };
    let base_tip = base_tip()?;
    let head = repo.head_id().ok().map(|id| id.detach());
    let mut others = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let id = ObjectId::from_hex(line.trim().as_bytes()).git("reading MERGE_HEAD")?;
        others.push(OtherParent::new(repo, head, id, Some(id) == base_tip)?);
    }
    let index = read_index(repo)?;
    merge_own(repo, staged, &others, |path| {
        Ok(index.entry_by_path(path).and_then(|e| {
            // A path added with intent to add is not in the next commit.
            (!e.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD))
                .then(|| (normalize_mode(e.mode.bits()), e.id))
        }))
    })
}

/// The changes one commit makes, as the gate counts them.
#[derive(Debug, Clone, Serialize)]
pub struct CommitChanges {
    pub commit: String,
    pub summary: String,
    pub changes: Vec<Change>,
}

/// Every commit reachable from `to` but not from `from`, oldest first, each
/// diffed against its first parent. `from` is the base as it will be at the
/// landing. For a merge, see [`merge_own`]: every other parent is either
/// held by the base (reachable from `from`) or one of the agent's own
/// commits checked in this same range, so each is trusted to bring what it
/// changed since its merge base with the first parent, and no more.
pub fn range(repo: &gix::Repository, from: ObjectId, to: ObjectId) -> Result<Vec<CommitChanges>> {
    range_hiding(repo, &[from], to)
}

/// Every commit reachable from `to` but from none of `hidden`, oldest
/// first, as [`range`] diffs them. A pre-receive hook hides every ref's tip
/// to get the commits a push brings (`git rev-list NEW --not --all`).
pub fn range_hiding(
    repo: &gix::Repository,
    hidden: &[ObjectId],
    to: ObjectId,
) -> Result<Vec<CommitChanges>> {
    range_hiding_in(repo, hidden, to, workers(true)?)
}

/// [`range_hiding`], diffing on up to `workers` threads when the range has
/// enough commits to pay for them.
#[doc(hidden)]
pub fn range_hiding_in(
    repo: &gix::Repository,
    hidden: &[ObjectId],
    to: ObjectId,
    workers: usize,
) -> Result<Vec<CommitChanges>> {
    let walk = repo
        .rev_walk([to])
        .with_hidden(hidden.iter().copied())
        .all()
        .git("walking the commit range")?;
    // Each commit is decoded once: its tree is the next one's parent tree.
    let mut commits = Vec::new();
    let mut trees = std::collections::HashMap::new();
    for info in walk {
        let info = info.git("walking the commit range")?;
        let commit = repo.find_commit(info.id).git("reading a commit")?;
        let tree = commit.tree_id().git("reading a commit's tree")?.detach();
        let summary = super::repo::summary(&commit);
        let time = commit.time().map(|t| t.seconds).unwrap_or(i64::MIN);
        trees.insert(info.id, tree);
        commits.push((info.id, info.parent_ids, tree, summary, time));
    }
    drop_reachable_from_hidden(repo, hidden, &mut commits);
    let workers = if commits.len() >= PARALLEL_COMMITS {
        workers
    } else {
        1
    };
    let mut result = diff_commits(repo, &commits, &trees, workers)?;
    result.reverse();
    Ok(result)
}

/// Below this many commits, a range is diffed on one thread.
const PARALLEL_COMMITS: usize = 16;

/// A commit of a range as the walk found it: id, parents, tree, summary
/// and commit time.
type Walked = (
    ObjectId,
    gix::traverse::commit::ParentIds,
    ObjectId,
    String,
    i64,
);

/// Each of `commits` (newest first) diffed against its first parent, in
/// the same order, on up to `workers` threads. Each thread takes a run of
/// consecutive commits, so it still reads each tree once within its run.
fn diff_commits(
    repo: &gix::Repository,
    commits: &[Walked],
    trees: &std::collections::HashMap<ObjectId, ObjectId>,
    workers: usize,
) -> Result<Vec<CommitChanges>> {
    let packs = super::packs::Packs::open(repo);
    let run = |repo: &gix::Repository, part: &[Walked]| -> Result<Vec<CommitChanges>> {
        let mut reuse = Reuse::enabled(repo, &packs);
        part.iter()
            .map(|c| commit_changes(repo, c, trees, &mut reuse))
            .collect()
    };
    if workers <= 1 || commits.len() < 2 {
        return run(repo, commits);
    }
    let chunk = commits.len().div_ceil(workers);
    let parts: Vec<Result<Vec<CommitChanges>>> = std::thread::scope(|s| {
        let handles: Vec<_> = commits
            .chunks(chunk)
            .map(|part| {
                let repo = repo.clone().into_sync();
                let run = &run;
                s.spawn(move || run(&repo.to_thread_local(), part))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("diff threads do not panic"))
            .collect()
    });
    let mut result = Vec::with_capacity(commits.len());
    for part in parts {
        result.extend(part?);
    }
    Ok(result)
}

/// What one walked commit changes against its first parent, on its own.
fn commit_changes(
    repo: &gix::Repository,
    (id, parents, tree, summary, _): &Walked,
    trees: &std::collections::HashMap<ObjectId, ObjectId>,
    reuse: &mut Reuse<'_>,
) -> Result<CommitChanges> {
    let first = parents.first().copied();
    let first_tree = match first {
        Some(p) => Some(match trees.get(&p) {
            Some(tree) => *tree,
            None => tree_of(repo, p)?,
        }),
        None => None,
    };
    let mut changes = Vec::new();
    reuse.next_diff();
    diff_trees_reusing(
        repo,
        first_tree,
        Some(*tree),
        BStr::new(""),
        &mut changes,
        reuse,
    )?;
    if parents.len() > 1 {
        let others = parents[1..]
            .iter()
            .map(|p| OtherParent::new(repo, first, *p, true))
            .collect::<Result<Vec<_>>>()?;
        let merged = repo.find_tree(*tree).git("reading a tree")?;
        changes = merge_own(repo, changes, &others, |path| version_at(&merged, path))?;
    }
    Ok(CommitChanges {
        commit: id.to_string(),
        summary: summary.clone(),
        changes,
    })
}

/// gix's walk with hidden tips can return commits a hidden tip reaches
/// when commit times tie (commits made in one second): drop those a walk
/// back from the hidden tips finds. It looks back to a day before the
/// oldest candidate; since dropping a commit needs it found, stopping
/// early only keeps one, as the walk returned it.
fn drop_reachable_from_hidden(
    repo: &gix::Repository,
    hidden: &[ObjectId],
    commits: &mut Vec<Walked>,
) {
    let Some(oldest) = commits.iter().map(|c| c.4).min() else {
        return;
    };
    let floor = oldest.saturating_sub(24 * 60 * 60);
    let candidates: std::collections::HashSet<ObjectId> = commits.iter().map(|c| c.0).collect();
    let mut found = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<ObjectId> = hidden.to_vec();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        // Not a commit (a tag's target), or missing (a shallow boundary):
        // nothing to follow from here.
        let Ok(commit) = repo.find_commit(id) else {
            continue;
        };
        if candidates.contains(&id) {
            found.insert(id);
        }
        if commit.time().map(|t| t.seconds).unwrap_or(i64::MIN) < floor {
            continue;
        }
        stack.extend(commit.parent_ids().map(|p| p.detach()));
    }
    commits.retain(|c| !found.contains(&c.0));
}

fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId> {
    Ok(commit_tree(repo, commit)?.id)
}

/// The version of `path` (bytes, slash-separated) in `tree`.
fn version_at(tree: &gix::Tree<'_>, path: &BStr) -> Result<Version> {
    Ok(tree
        .lookup_entry(path.split(|&b| b == b'/'))
        .git("looking up a path")?
        .map(|e| (normalize_mode(e.mode().value() as u32), e.object_id())))
}
