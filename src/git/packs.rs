//! Reading trees out of pack files with git's delta-base cache.
//!
//! A packed object is often a delta on another, which may itself be a
//! delta: reading it means inflating the whole chain. git keeps every
//! object it rebuilds along a chain in its delta-base cache, so reading the
//! neighbours of one version of a tree (the previous commit's, say) costs
//! one delta each. gix's decoder caches only the object asked for, so
//! walking a branch through a pack `git fast-import` wrote (each tree a
//! delta on the version before it, chains up to fifty long) inflated about
//! nine objects for every tree it read (measured in bench/scope-check.sh).
//!
//! [`Trees`] finds an object's chain itself and has gix decode it from the
//! far end, one link per call, caching each result, so every link is
//! inflated once. What is not in a pack of the repository or its alternates
//! (loose objects) is read through gix as before.

use std::collections::HashMap;
use std::path::PathBuf;

use gix::odb::pack;
use gix::odb::pack::data::decode::entry::ResolvedBase;
use gix::odb::pack::data::entry::Header;

use crate::error::{GitContext, Result};

/// Rebuilt objects kept for the chains read after them, up to this many
/// bytes per reader (a diff's threads each have one; git's
/// `core.deltaBaseCacheLimit` is 96 MiB for its one).
const CACHE_BYTES: usize = 24 << 20;

/// The packs of a repository's object directory and its alternates,
/// newest first: opened once, and shared by every thread of a diff.
pub struct Packs {
    bundles: Vec<pack::Bundle>,
}

impl Packs {
    /// A pack that cannot be opened is left to gix.
    pub fn open(repo: &gix::Repository) -> Packs {
        let store = repo.objects.store_ref();
        let mut dirs = vec![store.path().to_owned()];
        dirs.extend(store.alternate_db_paths().unwrap_or_default());
        let mut indexes: Vec<(std::time::SystemTime, PathBuf)> = dirs
            .iter()
            .filter_map(|dir| std::fs::read_dir(dir.join("pack")).ok())
            .flatten()
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let modified = path.metadata().ok()?.modified().ok()?;
                (path.extension()? == "idx").then_some((modified, path))
            })
            .collect();
        indexes.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        let bundles = indexes
            .into_iter()
            .filter_map(|(_, path)| pack::Bundle::at(&path, repo.object_hash()).ok())
            .enumerate()
            .map(|(n, mut bundle)| {
                // The cache keys on this id: one per pack.
                bundle.pack.id = n as u32;
                bundle
            })
            .collect();
        Packs { bundles }
    }
}

/// Tree objects of one repository, read from its [`Packs`] with a
/// delta-base cache; one per thread.
pub struct Trees<'r> {
    repo: &'r gix::Repository,
    bundles: &'r [pack::Bundle],
    /// The bundle the last object was found in: tried first.
    last_hit: usize,
    cache: BaseCache,
    inflate: gix::zlib::Inflate,
}

impl<'r> Trees<'r> {
    /// Trees of `repo` (which reads what is not in `packs`), from `packs`.
    pub fn new(repo: &'r gix::Repository, packs: &'r Packs) -> Trees<'r> {
        Trees {
            repo,
            bundles: &packs.bundles,
            last_hit: 0,
            cache: BaseCache::default(),
            inflate: gix::zlib::Inflate::default(),
        }
    }

    /// Read tree `id` into `buf`.
    pub fn read(&mut self, id: &gix::oid, buf: &mut Vec<u8>) -> Result<()> {
        let Some((bundle, offset)) = self.locate(id) else {
            use gix::prelude::FindExt;
            self.repo
                .objects
                .find_tree_iter(id, buf)
                .git("reading a tree")?;
            return Ok(());
        };
        let kind = self.decode(bundle, offset, buf)?;
        if kind != gix::object::Kind::Tree {
            return Err(crate::error::Error::Git {
                context: "reading a tree".into(),
                message: format!("object {id} is a {kind}, not a tree"),
            });
        }
        Ok(())
    }

    /// The pack holding `id` and the object's offset in it.
    fn locate(&mut self, id: &gix::oid) -> Option<(usize, u64)> {
        let last = self.last_hit;
        let order = std::iter::once(last).chain((0..self.bundles.len()).filter(|&n| n != last));
        for n in order {
            let Some(bundle) = self.bundles.get(n) else {
                continue;
            };
            if let Some(entry) = bundle.index.lookup(id) {
                self.last_hit = n;
                return Some((n, bundle.index.pack_offset_at_index(entry)));
            }
        }
        None
    }

    /// Decode the object at `offset` of pack `bundle` into `out`: first the
    /// links of its delta chain that are not cached, from the far end, so
    /// that each call applies one delta to a cached base and caches its
    /// result.
    fn decode(
        &mut self,
        bundle: usize,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Result<gix::object::Kind> {
        let pack = &self.bundles[bundle];
        let mut chain = Vec::new();
        let mut entry = pack.pack.entry(offset).git("reading a pack entry")?;
        while entry.header.is_delta()
            && !self.cache.holds(pack.pack.id, entry.data_offset)
            && chain.len() <= MAX_CHAIN
        {
            let base = match &entry.header {
                Header::OfsDelta { base_distance } => entry
                    .checked_base_pack_offset(*base_distance)
                    .ok_or_else(|| corrupt(offset))?,
                // A base named by id: followed here when it is in this pack
                // (as in a thin pack git completed), else left to gix.
                Header::RefDelta { base_id } => match pack.index.lookup(base_id) {
                    Some(i) => pack.index.pack_offset_at_index(i),
                    None => break,
                },
                _ => break,
            };
            chain.push(entry);
            entry = pack.pack.entry(base).git("reading a pack entry")?;
        }
        // The far end (a whole object, a cached link, or a base elsewhere)
        // needs no call of its own: the first link's call reads it. Then
        // each link applies one delta to the result of the one before.
        let mut kind = None;
        for link in chain.into_iter().rev() {
            kind = Some(self.decode_link(bundle, link, out)?);
        }
        match kind {
            Some(kind) => Ok(kind),
            // Not a delta, or one whose result is cached.
            None => self.decode_link(bundle, entry, out),
        }
    }

    /// Decode one entry of pack `bundle` with gix, through the cache.
    fn decode_link(
        &mut self,
        bundle: usize,
        link: pack::data::Entry,
        out: &mut Vec<u8>,
    ) -> Result<gix::object::Kind> {
        let (repo, pack) = (self.repo, &self.bundles[bundle]);
        let resolve = |id: &gix::oid, out: &mut Vec<u8>| -> gix::Result<Option<ResolvedBase>> {
            if let Some(i) = pack.index.lookup(id) {
                let entry = pack.pack.entry(pack.index.pack_offset_at_index(i))?;
                return Ok(Some(ResolvedBase::InPack(entry)));
            }
            use gix::prelude::Find;
            Ok(repo.objects.try_find(id, out)?.map(|object| {
                let (kind, end) = (object.kind, object.data.len());
                ResolvedBase::OutOfPack { kind, end }
            }))
        };
        Ok(pack
            .pack
            .decode_entry(link, out, &mut self.inflate, &resolve, &mut self.cache)
            .git("decoding a pack entry")?
            .kind)
    }
}

/// Longer chains than git ever writes (its `pack.depth` is at most 4095)
/// are left to gix in one call.
const MAX_CHAIN: usize = 4096;

fn corrupt(offset: u64) -> crate::error::Error {
    crate::error::Error::Git {
        context: "reading a pack entry".into(),
        message: format!("the delta at offset {offset} names a base before the pack's start"),
    }
}

/// Rebuilt objects by pack and data offset, as gix's decoder asks for them;
/// emptied when full (chains are read newest or oldest first, so what
/// helps is what was just rebuilt).
#[derive(Default)]
struct BaseCache {
    objects: HashMap<(u32, u64), (gix::object::Kind, Vec<u8>, usize)>,
    bytes: usize,
}

impl BaseCache {
    fn holds(&self, pack: u32, offset: u64) -> bool {
        self.objects.contains_key(&(pack, offset))
    }
}

impl pack::cache::DecodeEntry for BaseCache {
    fn put(
        &mut self,
        pack: u32,
        offset: u64,
        data: &[u8],
        kind: gix::object::Kind,
        compressed: usize,
    ) {
        if data.len() > CACHE_BYTES / 4 {
            return;
        }
        if self.bytes + data.len() > CACHE_BYTES {
            self.objects.clear();
            self.bytes = 0;
        }
        self.bytes += data.len();
        if let Some(old) = self
            .objects
            .insert((pack, offset), (kind, data.to_vec(), compressed))
        {
            self.bytes -= old.1.len();
        }
    }

    fn get(
        &mut self,
        pack: u32,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Option<(gix::object::Kind, usize)> {
        let (kind, data, compressed) = self.objects.get(&(pack, offset))?;
        out.clear();
        out.extend_from_slice(data);
        Some((*kind, *compressed))
    }
}
