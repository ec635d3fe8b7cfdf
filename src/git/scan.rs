//! A fast look at a worktree for `list`: which tracked files changed and which
//! untracked files exist, like `git status --porcelain -uall`, but cheaper to
//! repeat.
//!
//! Reading every directory is what makes a status of a big worktree slow
//! (more than half of `git status` on 100,000 files), so the listing of each
//! directory is cached in the worktree's git directory and reused while the
//! directory's own stat data (mtime, ctime, inode) is unchanged: creating,
//! removing or renaming an entry always changes them. Tracked files are still
//! `lstat`ed one by one, as git does. Whatever the stat data cannot settle
//! (a racily clean file, a changed mtime with the same size, a submodule) is
//! handed to gix's status for just those paths, so content comparison and
//! filters follow git's rules.
//!
//! Repositories this does not model (sparse checkouts, unmerged entries, a
//! split index, case-insensitive file systems) get `None`, and the caller
//! falls back to a full gix status.

#![allow(
    clippy::unnecessary_cast,
    reason = "stat fields have other types on other platforms"
)]

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;

use rustix::fs::{AtFlags, OFlags};

use gix::bstr::{BStr, BString, ByteSlice};

use crate::error::{GitContext, Result};

/// What a scan found, as repository-relative paths.
#[derive(Debug, Default)]
pub struct Scan {
    /// Tracked files that differ from the index (modified, deleted, type or
    /// mode changed).
    pub modified: Vec<String>,
    /// Files neither tracked nor ignored; a nested repository counts once,
    /// as `dir/`.
    pub untracked: Vec<String>,
}

const CACHE_FILE: &str = "git-agent-dircache";
const CACHE_MAGIC: &[u8] = b"git-agent dircache 1\n";
/// A directory changed this recently may change again within the same
/// timestamp tick, so its listing is not cached.
const RACY_SECONDS: i64 = 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File = 0,
    Dir = 1,
    Other = 2,
}

#[derive(Clone, PartialEq, Eq)]
struct DirStat {
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
    size: u64,
}

impl DirStat {
    fn of(st: &rustix::fs::Stat) -> Self {
        DirStat {
            mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime: (st.st_ctime as i64, st.st_ctime_nsec as i64),
            ino: st.st_ino as u64,
            dev: st.st_dev as u64,
            size: st.st_size as u64,
        }
    }
}

struct Listing {
    stat: DirStat,
    names: Vec<(Vec<u8>, Kind)>,
}

/// How directories are opened to anchor the `*at` lookups below them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirOpen {
    /// Linux's `O_PATH`: cheaper to open, but not readable, so `read_dir`
    /// opens the directory again when it must list it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    PathOnly,
    /// Opened for reading, as every unix allows: the portable way, which
    /// the tests also run on Linux.
    Readable,
}

impl DirOpen {
    /// The fastest way this platform has.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const NATIVE: DirOpen = DirOpen::PathOnly;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub const NATIVE: DirOpen = DirOpen::Readable;

    fn flags(self) -> OFlags {
        let how = match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            DirOpen::PathOnly => OFlags::PATH,
            DirOpen::Readable => OFlags::RDONLY,
        };
        how | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW
    }
}

/// Scan the worktree of `wt`. `None` means the repository uses something the
/// fast path does not model; use a full status instead.
pub fn worktree(wt: &gix::Repository) -> Result<Option<Scan>> {
    worktree_with(wt, DirOpen::NATIVE)
}

/// [`worktree`], opening directories the way `how` says.
#[doc(hidden)]
pub fn worktree_with(wt: &gix::Repository, how: DirOpen) -> Result<Option<Scan>> {
    let Some(workdir) = wt.workdir() else {
        return Ok(None);
    };
    let index = wt.index_or_empty().git("reading the agent's index")?;
    if !supported(wt, &index) {
        return Ok(None);
    }
    let excludes = wt
        .excludes(
            &index,
            None,
            gix::worktree::stack::state::ignore::Source::WorktreeThenIdMappingIfNotSkipped,
        )
        .git("reading the ignore rules")?;
    let cache_path = wt.git_dir().join(CACHE_FILE);
    let cache = read_cache(&cache_path, workdir).unwrap_or_default();
    let mut walk = Walk::new(wt, &index, excludes, cache, how)?;
    let Ok(root) = open_dir(rustix::fs::CWD, workdir, how) else {
        return Ok(None);
    };
    // Directories are opened relative to their parent and files are stat'ed
    // relative to their directory: resolving full paths again and again was
    // a good part of the kernel's time.
    let mut stack = vec![Pending {
        dir: BString::default(),
        parent: Rc::new(root),
        untracked: false,
    }];
    while let Some(pending) = stack.pop() {
        walk.visit_dir(pending, &mut stack)?;
    }
    walk.finish(wt, &cache_path, workdir).map(Some)
}

/// Every tracked path with its index position, and every directory that
/// holds a tracked path.
fn tracked_paths(index: &gix::index::File) -> (FastMap<&BStr, usize>, FastSet<&BStr>) {
    let mut files: FastMap<&BStr, usize> =
        FastMap::with_capacity_and_hasher(index.entries().len(), Default::default());
    let mut dirs: FastSet<&BStr> = FastSet::default();
    for (i, entry) in index.entries().iter().enumerate() {
        let path = entry.path(index);
        files.insert(path, i);
        let mut end = path.len();
        while let Some(slash) = path[..end].rfind_byte(b'/') {
            if !dirs.insert(path[..slash].as_bstr()) {
                break;
            }
            end = slash;
        }
    }
    (files, dirs)
}

/// One scan under way: what the index says, the directory listings cached
/// and seen, and what was found so far.
struct Walk<'a> {
    index: &'a gix::index::File,
    files: FastMap<&'a BStr, usize>,
    dirs: FastSet<&'a BStr>,
    excludes: gix::AttributeStack<'a>,
    fs: gix::fs::Capabilities,
    stat_options: gix::index::entry::stat::Options,
    how: DirOpen,
    cache: FastMap<BString, Listing>,
    /// Listings of the directories seen this time; the others are dropped.
    next_cache: FastMap<BString, Listing>,
    cache_changed: bool,
    racy_after: i64,
    seen: Vec<bool>,
    uncertain: Vec<BString>,
    scan: Scan,
    /// The path of the entry at hand, reused to spare allocations.
    path: BString,
}

impl<'a> Walk<'a> {
    fn new(
        wt: &gix::Repository,
        index: &'a gix::index::File,
        excludes: gix::AttributeStack<'a>,
        cache: FastMap<BString, Listing>,
        how: DirOpen,
    ) -> Result<Self> {
        let (files, dirs) = tracked_paths(index);
        let racy_after = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64 - RACY_SECONDS)
            .unwrap_or(i64::MAX);
        Ok(Walk {
            index,
            files,
            dirs,
            excludes,
            fs: wt.filesystem_options().git("reading core.fileMode")?,
            stat_options: wt.stat_options().git("reading core.checkStat")?,
            how,
            next_cache: FastMap::with_capacity_and_hasher(cache.len(), Default::default()),
            cache,
            cache_changed: false,
            racy_after,
            seen: vec![false; index.entries().len()],
            uncertain: Vec::new(),
            scan: Scan::default(),
            path: BString::default(),
        })
    }

    /// List one directory (from the cache when its stat data is unchanged)
    /// and look at each of its entries, pushing the directories to descend.
    fn visit_dir(&mut self, pending: Pending, stack: &mut Vec<Pending>) -> Result<()> {
        let Pending {
            dir,
            parent,
            untracked: untracked_dir,
        } = pending;
        let fd = if dir.is_empty() {
            parent
        } else {
            let name = dir.rsplit_str("/").next().unwrap_or(&dir);
            match open_dir(&*parent, fs_path(name), self.how) {
                Ok(fd) => Rc::new(fd),
                // Gone, or replaced by something else, since its parent was read.
                Err(_) => return Ok(()),
            }
        };
        let Some(listing) = self.listing(&dir, &fd) else {
            return Ok(());
        };
        let nested_repository = untracked_dir && listing.names.iter().any(|(n, _)| n == b".git");
        if nested_repository {
            self.scan.untracked.push(format!("{}/", dir.to_str_lossy()));
        }
        for (name, kind) in listing.names.iter().filter(|_| !nested_repository) {
            if dir.is_empty() && name == b".git" {
                continue;
            }
            self.path.clear();
            self.path.extend_from_slice(&dir);
            if !self.path.is_empty() {
                self.path.push(b'/');
            }
            self.path.extend_from_slice(name);
            if let Some(next) = self.visit_entry(&fd, name, *kind, untracked_dir)? {
                stack.push(next);
            }
        }
        if listing.stat.mtime.0 < self.racy_after {
            self.next_cache.insert(dir, listing);
        } else {
            self.cache_changed = true;
        }
        Ok(())
    }

    /// The listing of `dir`: the cached one while the directory's stat data
    /// is unchanged, else read afresh. `None` when it cannot be read.
    fn listing(&mut self, dir: &BString, fd: &OwnedFd) -> Option<Listing> {
        let stat = DirStat::of(&rustix::fs::fstat(fd).ok()?);
        match self.cache.remove(dir) {
            Some(listing) if listing.stat == stat => Some(listing),
            _ => {
                let names = read_dir(fd).ok()?;
                self.cache_changed = true;
                Some(Listing { stat, names })
            }
        }
    }

    /// Look at the entry at `self.path`, named `name` in the directory `fd`:
    /// check it against the index if tracked, record it if untracked, and
    /// return the directory to descend into, if it is one.
    fn visit_entry(
        &mut self,
        fd: &Rc<OwnedFd>,
        name: &[u8],
        kind: Kind,
        untracked_dir: bool,
    ) -> Result<Option<Pending>> {
        let tracked = if untracked_dir {
            None
        } else {
            self.files.get(self.path.as_bstr()).copied()
        };
        if let Some(i) = tracked {
            self.seen[i] = true;
            let entry = &self.index.entries()[i];
            let stat = rustix::fs::statat(&**fd, fs_path(name), AtFlags::SYMLINK_NOFOLLOW);
            let (timestamp, stat_options) = (self.index.timestamp(), self.stat_options);
            let is_racy = |stat: &gix::index::entry::Stat| stat.is_racy(timestamp, stat_options);
            match certainly_clean(entry, stat.ok(), self.fs, stat_options, &is_racy) {
                Some(true) => {}
                Some(false) => self.scan.modified.push(self.path.to_string()),
                None => self.uncertain.push(self.path.clone()),
            }
            // A file that became a directory also brings its contents.
            if kind != Kind::Dir || entry.mode.is_submodule() {
                return Ok(None);
            }
        }
        let descend = |untracked| Pending {
            dir: self.path.clone(),
            parent: fd.clone(),
            untracked,
        };
        let in_tracked_dir = tracked.is_none()
            && !untracked_dir
            && kind == Kind::Dir
            && self.dirs.contains(self.path.as_bstr());
        if in_tracked_dir {
            return Ok(Some(descend(false)));
        }
        let mode = (kind == Kind::Dir).then_some(gix::index::entry::Mode::DIR);
        let ignored = self
            .excludes
            .at_entry(self.path.as_bstr(), mode)
            .git("reading the ignore rules")?
            .is_excluded();
        if ignored {
            return Ok(None);
        }
        Ok(match kind {
            Kind::Dir => Some(descend(true)),
            Kind::File => {
                self.scan.untracked.push(self.path.to_string());
                None
            }
            // git's status shows neither fifos nor sockets.
            Kind::Other => None,
        })
    }

    /// The scan: tracked files never seen count as modified, the uncertain
    /// ones are settled by content, and the cache is saved if it changed.
    fn finish(mut self, wt: &gix::Repository, cache_path: &Path, workdir: &Path) -> Result<Scan> {
        self.cache_changed |= !self.cache.is_empty();
        let mut scan = self.scan;
        for (entry, seen) in self.index.entries().iter().zip(&self.seen) {
            if !seen {
                scan.modified.push(entry.path(self.index).to_string());
            }
        }
        if !self.uncertain.is_empty() {
            scan.modified.extend(settle(wt, self.uncertain)?);
        }
        if self.cache_changed {
            // A cache that cannot be written only costs speed next time.
            let _ = write_cache(cache_path, workdir, &self.next_cache);
        }
        scan.modified.sort();
        scan.modified.dedup();
        scan.untracked.sort();
        Ok(scan)
    }
}

fn supported(wt: &gix::Repository, index: &gix::index::File) -> bool {
    !index.is_sparse()
        && index.link().is_none()
        && !wt
            .config_snapshot()
            .boolean("core.ignoreCase")
            .unwrap_or(false)
        && index.entries().iter().all(|e| {
            e.stage_raw() == 0
                && !e.flags.intersects(
                    gix::index::entry::Flags::SKIP_WORKTREE
                        | gix::index::entry::Flags::INTENT_TO_ADD,
                )
        })
}

/// Tracked files of `wt`'s worktree that differ from its index (modified,
/// deleted, type or mode changed), without looking for untracked files:
/// no directory is read, and the `lstat`s are spread over the cores.
/// `None`: not a repository the fast path models; use a full status.
pub fn tracked_changes(wt: &gix::Repository) -> Result<Option<Vec<String>>> {
    tracked_changes_with(wt, DirOpen::NATIVE)
}

/// [`tracked_changes`], opening directories the way `how` says.
#[doc(hidden)]
pub fn tracked_changes_with(wt: &gix::Repository, how: DirOpen) -> Result<Option<Vec<String>>> {
    let Some(workdir) = wt.workdir() else {
        return Ok(None);
    };
    let index = wt.index_or_empty().git("reading the index")?;
    if !supported(wt, &index) {
        return Ok(None);
    }
    let stat_options = wt.stat_options().git("reading core.checkStat")?;
    let fs = wt.filesystem_options().git("reading core.fileMode")?;
    let timestamp = index.timestamp();
    let is_racy = |stat: &gix::index::entry::Stat| stat.is_racy(timestamp, stat_options);
    let Ok(root) = open_dir(rustix::fs::CWD, workdir, how) else {
        return Ok(None);
    };
    let entries = index.entries();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let chunk = entries.len().div_ceil(threads).max(1);
    let results: Vec<(Vec<String>, Vec<BString>)> = std::thread::scope(|s| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .map(|part| {
                let (root, index, is_racy) = (&root, &index, &is_racy);
                s.spawn(move || {
                    let mut changed = Vec::new();
                    let mut uncertain = Vec::new();
                    // The open directories along the current entry's path;
                    // sorted entries visit each directory once.
                    let mut open: Vec<(BString, Option<OwnedFd>)> = Vec::new();
                    for entry in part {
                        let path = entry.path(index);
                        let (dir, name) = match path.rfind_byte(b'/') {
                            Some(slash) => (&path[..slash], &path[slash + 1..]),
                            None => (&path[..0], path),
                        };
                        let fd = dir_fd(root, &mut open, dir, how);
                        let stat = fd.and_then(|fd| {
                            rustix::fs::statat(fd, fs_path(name), AtFlags::SYMLINK_NOFOLLOW).ok()
                        });
                        match certainly_clean(entry, stat, fs, stat_options, is_racy) {
                            Some(true) => {}
                            Some(false) => changed.push(path.to_string()),
                            None => uncertain.push(path.to_owned()),
                        }
                    }
                    (changed, uncertain)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scan threads do not panic"))
            .collect()
    });
    let mut changed = Vec::new();
    let mut uncertain = Vec::new();
    for (c, u) in results {
        changed.extend(c);
        uncertain.extend(u);
    }
    if !uncertain.is_empty() {
        changed.extend(settle(wt, uncertain)?);
    }
    changed.sort();
    changed.dedup();
    Ok(Some(changed))
}

/// The descriptor of directory `dir` (relative to `root`), opening what is
/// missing along `open`, one component at a time and never through a
/// symlink: a tracked directory replaced by a symlink has lost its files.
fn dir_fd<'a>(
    root: &'a OwnedFd,
    open: &'a mut Vec<(BString, Option<OwnedFd>)>,
    dir: &[u8],
    how: DirOpen,
) -> Option<&'a OwnedFd> {
    if dir.is_empty() {
        return Some(root);
    }
    // Keep the open directories that are prefixes of `dir`.
    while let Some((path, _)) = open.last() {
        let is_prefix =
            dir.starts_with(path) && (dir.len() == path.len() || dir[path.len()] == b'/');
        if is_prefix {
            break;
        }
        open.pop();
    }
    loop {
        let current_len = open.last().map_or(0, |(p, _)| p.len());
        if current_len == dir.len() {
            break;
        }
        let start = if current_len == 0 { 0 } else { current_len + 1 };
        let end = dir[start..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(dir.len(), |i| start + i);
        let fd = match open.last() {
            Some((_, None)) => None,
            Some((_, Some(parent))) => open_dir(parent, fs_path(&dir[start..end]), how).ok(),
            None => open_dir(root, fs_path(&dir[start..end]), how).ok(),
        };
        open.push((BString::from(&dir[..end]), fd));
    }
    open.last().and_then(|(_, fd)| fd.as_ref())
}

/// `Some(true)` when the stat data proves the file unchanged, `Some(false)`
/// when it proves a change, `None` when only the content can tell. The rules
/// are git's (and gix's): mode and type first, then the stat data, and an
/// entry written in the same tick as the index is racy.
fn certainly_clean(
    entry: &gix::index::Entry,
    stat: Option<rustix::fs::Stat>,
    fs: gix::fs::Capabilities,
    stat_options: gix::index::entry::stat::Options,
    is_racy: &impl Fn(&gix::index::entry::Stat) -> bool,
) -> Option<bool> {
    if entry.mode.is_submodule() {
        return None;
    }
    let Some(st) = stat else {
        return Some(false);
    };
    let file_type = rustix::fs::FileType::from_raw_mode(st.st_mode);
    let is_file = file_type == rustix::fs::FileType::RegularFile;
    if file_type == rustix::fs::FileType::Directory {
        return Some(false);
    }
    let mode_change = entry.mode.change_to_match_fs_with_values(
        is_file,
        false,
        file_type == rustix::fs::FileType::Symlink,
        is_file && st.st_mode & 0o100 != 0,
        fs.symlink,
        fs.executable_bit,
    );
    if mode_change.is_some() {
        return Some(false);
    }
    // The same truncations as gix's Stat::from_fs (and git's index).
    let time = |secs: i64, nsecs: u64| gix::index::entry::stat::Time {
        secs: secs.max(0) as u32,
        nsecs: nsecs as u32,
    };
    let stat = gix::index::entry::Stat {
        mtime: time(st.st_mtime as i64, st.st_mtime_nsec as u64),
        ctime: time(st.st_ctime as i64, st.st_ctime_nsec as u64),
        dev: st.st_dev as u32,
        ino: st.st_ino as u32,
        uid: st.st_uid,
        gid: st.st_gid,
        size: st.st_size as u32,
    };
    // As git's ce_modified(): a new size settles it, unless the index holds
    // size 0, which marks an entry found racy before.
    if stat.size != entry.stat.size && entry.stat.size != 0 {
        return Some(false);
    }
    let empty_blob_with_size = entry.id.is_empty_blob() && entry.stat.size != 0;
    if stat.matches(&entry.stat, stat_options) && !empty_blob_with_size && !is_racy(&stat) {
        return Some(true);
    }
    None
}

struct Pending {
    dir: BString,
    parent: Rc<OwnedFd>,
    untracked: bool,
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// A descriptor of directory `path`, never through a symlink; it anchors
/// the lookups below it, and read_dir opens it for reading when it must.
fn open_dir(at: impl AsFd, path: &Path, how: DirOpen) -> std::io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        at,
        path,
        how.flags(),
        rustix::fs::Mode::empty(),
    )?)
}

/// Ask gix's status which of `paths` changed: it compares content through
/// the filters, as git does.
fn settle(wt: &gix::Repository, paths: Vec<BString>) -> Result<Vec<String>> {
    let paths = drop_unchanged_content(wt, paths)?;
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    // Pathspecs are matched against every index entry, one by one, so past a
    // handful it is cheaper to compare all entries and keep the ones asked.
    const MAX_PATHSPECS: usize = 16;
    let wanted: Option<HashSet<BString>> =
        (paths.len() > MAX_PATHSPECS).then(|| paths.iter().cloned().collect());
    let patterns: Vec<BString> = if wanted.is_some() {
        Vec::new()
    } else {
        paths
            .into_iter()
            .map(|p| {
                let mut spec = BString::from(":(literal)");
                spec.extend_from_slice(&p);
                spec
            })
            .collect()
    };
    let iter = wt
        .status(gix::progress::Discard)
        .git("reading the worktree status")?
        .untracked_files(gix::status::UntrackedFiles::None)
        .index_worktree_rewrites(None)
        .into_index_worktree_iter(patterns)
        .git("reading the worktree status")?;
    let mut changed = Vec::new();
    for item in iter {
        let item = item.git("reading the worktree status")?;
        let asked = wanted.as_ref().is_none_or(|w| w.contains(item.rela_path()));
        if asked && item.summary().is_some() {
            changed.push(item.rela_path().to_string());
        }
    }
    Ok(changed)
}

/// Most files the stat data cannot settle are racily clean: written in the
/// same tick as the index, typically by a checkout. Where nothing converts
/// content on its way into git (no attributes, no autocrlf), a file whose
/// bytes hash to its index entry's blob is unchanged, which is much cheaper
/// to find out than gix's full comparison. The rest go on to gix.
fn drop_unchanged_content(wt: &gix::Repository, paths: Vec<BString>) -> Result<Vec<BString>> {
    let index = wt.index_or_empty().git("reading the index")?;
    let (Some(workdir), false) = (wt.workdir(), has_conversions(wt, &index)) else {
        return Ok(paths);
    };
    let mut rest = Vec::new();
    for path in paths {
        let unchanged = index
            .entry_by_path(path.as_bstr())
            .filter(|e| {
                matches!(
                    e.mode,
                    gix::index::entry::Mode::FILE | gix::index::entry::Mode::FILE_EXECUTABLE
                )
            })
            .is_some_and(|entry| {
                std::fs::read(workdir.join(fs_path(&path))).is_ok_and(|data| {
                    gix::objs::compute_hash(wt.object_hash(), gix::objs::Kind::Blob, &data)
                        .is_ok_and(|id| id == entry.id)
                })
            });
        if !unchanged {
            rest.push(path);
        }
    }
    Ok(rest)
}

/// Whether anything could convert a file's content on its way into git.
fn has_conversions(wt: &gix::Repository, index: &gix::index::File) -> bool {
    let config = wt.config_snapshot();
    let autocrlf = config
        .string("core.autocrlf")
        .is_some_and(|v| !v.eq_ignore_ascii_case(b"false"));
    let global_attributes = std::env::var_os("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
        .is_some_and(|dir| dir.join("git/attributes").exists());
    autocrlf
        || global_attributes
        || config.string("core.attributesFile").is_some()
        || wt.common_dir().join("info/attributes").exists()
        || index
            .entries()
            .iter()
            .any(|e| e.path(index).ends_with(b".gitattributes"))
}

fn fs_path(path: &[u8]) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(path))
}

fn read_dir(fd: &OwnedFd) -> std::io::Result<Vec<(Vec<u8>, Kind)>> {
    let mut names = Vec::new();
    let readable = rustix::fs::openat(
        fd,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    for entry in rustix::fs::Dir::new(readable)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let mut file_type = entry.file_type();
        // Only file systems that do not fill in d_type cost an lstat here.
        if file_type == rustix::fs::FileType::Unknown {
            file_type = rustix::fs::FileType::from_raw_mode(
                rustix::fs::statat(fd, fs_path(name), AtFlags::SYMLINK_NOFOLLOW)?.st_mode,
            );
        }
        let kind = match file_type {
            rustix::fs::FileType::Directory => Kind::Dir,
            rustix::fs::FileType::RegularFile | rustix::fs::FileType::Symlink => Kind::File,
            _ => Kind::Other,
        };
        names.push((name.to_vec(), kind));
    }
    Ok(names)
}

fn read_cache(path: &Path, workdir: &Path) -> Option<FastMap<BString, Listing>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .read_to_end(&mut bytes)
        .ok()?;
    let mut r = Reader(&bytes);
    if r.take(CACHE_MAGIC.len())? != CACHE_MAGIC {
        return None;
    }
    use std::os::unix::ffi::OsStrExt;
    let len = r.u64()? as usize;
    if r.take(len)? != workdir.as_os_str().as_bytes() {
        return None;
    }
    let mut cache = FastMap::default();
    while !r.0.is_empty() {
        let len = r.u64()? as usize;
        let dir = BString::from(r.take(len)?);
        let stat = DirStat {
            mtime: (r.u64()? as i64, r.u64()? as i64),
            ctime: (r.u64()? as i64, r.u64()? as i64),
            ino: r.u64()?,
            dev: r.u64()?,
            size: r.u64()?,
        };
        let count = r.u64()? as usize;
        let mut names = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let kind = match r.take(1)?[0] {
                0 => Kind::File,
                1 => Kind::Dir,
                _ => Kind::Other,
            };
            let len = r.u64()? as usize;
            names.push((r.take(len)?.to_vec(), kind));
        }
        cache.insert(dir, Listing { stat, names });
    }
    Some(cache)
}

fn write_cache(
    path: &Path,
    workdir: &Path,
    cache: &FastMap<BString, Listing>,
) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::with_capacity(1 << 20);
    out.extend_from_slice(CACHE_MAGIC);
    let put = |out: &mut Vec<u8>, n: u64| out.extend_from_slice(&n.to_le_bytes());
    let root = workdir.as_os_str().as_bytes();
    put(&mut out, root.len() as u64);
    out.extend_from_slice(root);
    for (dir, listing) in cache {
        put(&mut out, dir.len() as u64);
        out.extend_from_slice(dir);
        let s = &listing.stat;
        for n in [
            s.mtime.0 as u64,
            s.mtime.1 as u64,
            s.ctime.0 as u64,
            s.ctime.1 as u64,
            s.ino,
            s.dev,
            s.size,
        ] {
            put(&mut out, n);
        }
        put(&mut out, listing.names.len() as u64);
        for (name, kind) in &listing.names {
            out.push(*kind as u8);
            put(&mut out, name.len() as u64);
            out.extend_from_slice(name);
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(&out)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}
