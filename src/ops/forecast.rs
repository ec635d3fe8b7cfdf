//! `git agent conflicts`: which agents' branches would conflict, with their
//! bases and with each other, before anyone lands; which files several
//! agents change; which scopes overlap; and an order to land them in.
//!
//! Every merge is computed in memory (gix `merge_commits` with object
//! memory): nothing is written to the repository. Results are cached by the
//! commit ids merged, in `<common dir>/git-agent/conflicts-cache.json`, so
//! `list` can show the count cheaply again and again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use serde::{Deserialize, Serialize};

use crate::error::{GitContext, Result};
use crate::git::changes::{self, ChangeKind};
use crate::git::repo;
use crate::ops::context;
use crate::ops::landing::tree_of;
use crate::policy::pattern::Pattern;
use crate::state::registry::Agent;

/// A pair whose merge would conflict.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Pair {
    pub left: Left,
    pub right: String,
    pub files: Vec<String>,
}

/// The left side of a pair: the right agent's own base, or another agent.
/// Not a name: an agent may be called anything, `base` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Left {
    Base,
    Agent(String),
}

impl Left {
    /// Whether this side is agent `name`.
    pub fn is(&self, name: &str) -> bool {
        matches!(self, Left::Agent(a) if a == name)
    }
}

/// `null` for the base, else the agent's name.
impl Serialize for Left {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Left::Base => s.serialize_none(),
            Left::Agent(name) => s.serialize_some(name),
        }
    }
}

impl Pair {
    fn involves(&self, name: &str) -> bool {
        self.left.is(name) || self.right == name
    }
}

/// The agents the forecast covers, and the conflicting pairs among them.
#[derive(Debug, Default)]
pub struct Forecast {
    pub agents: Vec<String>,
    pub pairs: Vec<Pair>,
    /// Agents left out, and why (a missing branch or base).
    pub problems: Vec<String>,
}

impl Forecast {
    /// How many conflicting pairs `name` is in.
    pub fn count(&self, name: &str) -> usize {
        self.pairs.iter().filter(|p| p.involves(name)).count()
    }
}

struct Side<'a> {
    agent: &'a Agent,
    tip: ObjectId,
    base_tip: ObjectId,
}

/// Each agent's branch tip and its base's tip, read once (a clone's branch
/// is fetched once), and the agents left out for lack of either.
pub struct Tips<'a> {
    sides: Vec<Side<'a>>,
    problems: Vec<String>,
}

pub fn tips<'a>(repo: &gix::Repository, agents: &'a [Agent]) -> Result<Tips<'a>> {
    let mut tips = Tips {
        sides: Vec::new(),
        problems: Vec::new(),
    };
    for agent in agents {
        let base_tip = repo::branch_tip(repo, &agent.base)?;
        let tip = crate::ops::landing::branch_tip(repo, agent).ok();
        match (tip, base_tip) {
            (Some(tip), Some(base_tip)) => tips.sides.push(Side {
                agent,
                tip,
                base_tip,
            }),
            (None, _) => tips.problems.push(format!(
                "{}: branch {} is missing",
                agent.name, agent.branch
            )),
            (_, None) => tips
                .problems
                .push(format!("{}: base {} is missing", agent.name, agent.base)),
        }
    }
    Ok(tips)
}

/// Merge every agent with its base and every pair of agents, in memory,
/// reusing the merges cached from earlier runs.
pub fn forecast(repo: &gix::Repository, agents: &[Agent]) -> Result<Forecast> {
    let mut cache = Cache::load(repo);
    let forecast = forecast_tips(repo, &tips(repo, agents)?, &Diffs::default(), &mut cache)?;
    cache.save_if_changed(repo);
    Ok(forecast)
}

fn forecast_tips(
    repo: &gix::Repository,
    tips: &Tips<'_>,
    diffs: &Diffs,
    cache: &mut Cache,
) -> Result<Forecast> {
    let sides = &tips.sides;
    let mut forecast = Forecast {
        agents: sides.iter().map(|s| s.agent.name.clone()).collect(),
        pairs: Vec::new(),
        problems: tips.problems.clone(),
    };
    // (left side index or None for the base, right side index)
    let mut jobs: Vec<(Option<usize>, usize)> = Vec::new();
    for right in 0..sides.len() {
        jobs.push((None, right));
    }
    for left in 0..sides.len() {
        for right in left + 1..sides.len() {
            jobs.push((Some(left), right));
        }
    }
    let ids = |&(left, right): &(Option<usize>, usize)| {
        let theirs = sides[right].tip;
        let ours = left.map_or(sides[right].base_tip, |l| sides[l].tip);
        (ours, theirs)
    };
    let mut results: Vec<Option<Vec<String>>> = jobs
        .iter()
        .map(|job| cache.merges.get(&key(ids(job))).cloned())
        .collect();
    let todo: Vec<usize> = (0..jobs.len()).filter(|&i| results[i].is_none()).collect();
    if !todo.is_empty() {
        let computed = merge_all(repo, diffs, todo.iter().map(|&i| ids(&jobs[i])).collect())?;
        for (i, files) in todo.into_iter().zip(computed) {
            results[i] = Some(files);
        }
        // Keep only the merges of the current tips.
        cache.merges = jobs
            .iter()
            .zip(&results)
            .map(|(job, files)| (key(ids(job)), files.clone().unwrap_or_default()))
            .collect();
        cache.changed = true;
    }
    for (job, files) in jobs.iter().zip(results) {
        let files = files.unwrap_or_default();
        if files.is_empty() {
            continue;
        }
        forecast.pairs.push(Pair {
            left: job
                .0
                .map_or(Left::Base, |l| Left::Agent(sides[l].agent.name.clone())),
            right: sides[job.1].agent.name.clone(),
            files,
        });
    }
    Ok(forecast)
}

fn key((ours, theirs): (ObjectId, ObjectId)) -> String {
    let (a, b) = if ours <= theirs {
        (ours, theirs)
    } else {
        (theirs, ours)
    };
    format!("{a}:{b}")
}

/// The conflicting files of each merge, computed on every core.
fn merge_all(
    repo: &gix::Repository,
    diffs: &Diffs,
    merges: Vec<(ObjectId, ObjectId)>,
) -> Result<Vec<Vec<String>>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(merges.len())
        .max(1);
    let shared = repo.clone().into_sync();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Vec<String>>>>> =
        Mutex::new((0..merges.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut mem = shared.to_thread_local().with_object_memory();
                // Trees are read again and again across the pairs.
                mem.object_cache_size_if_unset(64 << 20);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(ours, theirs)) = merges.get(i) else {
                        break;
                    };
                    let result = conflicting_files(&mem, diffs, ours, theirs);
                    mem.objects.reset_object_memory();
                    results.lock().expect("no panics while holding")[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no panics while holding")
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Ok(Vec::new())))
        .collect()
}

/// The files a branch changed since a merge base, and whether it only
/// added and modified files (no deletions, which could be renames, and no
/// type changes).
struct Changed {
    paths: Vec<String>,
    simple: bool,
}

/// Diffs shared across the pairs (and the report of files several agents
/// change) that have the same merge base and tip.
#[derive(Default)]
pub struct Diffs(Mutex<HashMap<(ObjectId, ObjectId), Arc<Changed>>>);

impl Diffs {
    fn get(&self, repo: &gix::Repository, base: ObjectId, tip: ObjectId) -> Result<Arc<Changed>> {
        if let Some(known) = self
            .0
            .lock()
            .expect("no panics while holding")
            .get(&(base, tip))
        {
            return Ok(known.clone());
        }
        let mut changes = Vec::new();
        changes::diff_trees(
            repo,
            Some(tree_of(repo, base)?),
            Some(tree_of(repo, tip)?),
            "".into(),
            &mut changes,
        )?;
        let changed = Arc::new(Changed {
            simple: changes
                .iter()
                .all(|c| matches!(c.kind, ChangeKind::Added | ChangeKind::Modified)),
            paths: changes
                .into_iter()
                .map(|c| c.path.to_str_lossy().into_owned())
                .collect(),
        });
        self.0
            .lock()
            .expect("no panics while holding")
            .insert((base, tip), changed.clone());
        Ok(changed)
    }
}

/// Whether two sides that only add and modify files, each since the same
/// merge base, merge cleanly without looking at any content: no path is
/// changed by both, and no path of one is a directory of the other's (a
/// file/directory conflict). Without deletions there are no renames, so
/// nothing else can conflict.
fn independent(ours: &[String], theirs: &[String]) -> bool {
    let ours_set: HashSet<&str> = ours.iter().map(String::as_str).collect();
    let theirs_set: HashSet<&str> = theirs.iter().map(String::as_str).collect();
    let clashes = |paths: &[String], other: &HashSet<&str>| {
        paths.iter().any(|p| {
            other.contains(p.as_str()) || p.match_indices('/').any(|(i, _)| other.contains(&p[..i]))
        })
    };
    !clashes(ours, &theirs_set) && !clashes(theirs, &ours_set)
}

fn conflicting_files(
    mem: &gix::Repository,
    diffs: &Diffs,
    ours: ObjectId,
    theirs: ObjectId,
) -> Result<Vec<String>> {
    if ours == theirs {
        return Ok(Vec::new());
    }
    let bases = mem
        .merge_bases_many(ours, &[theirs])
        .git("finding a merge base")?;
    if let [base] = bases.as_slice() {
        let base = base.detach();
        // One side contains the other: a fast-forward, nothing to merge.
        if base == ours || base == theirs {
            return Ok(Vec::new());
        }
        // Most pairs of agents touch different files; prove those clean
        // from the two diffs and save the merge for the pairs that might not be.
        let (a, b) = (diffs.get(mem, base, ours)?, diffs.get(mem, base, theirs)?);
        if a.simple && b.simple && independent(&a.paths, &b.paths) {
            return Ok(Vec::new());
        }
    }
    match crate::ops::landing::merge_commits(mem, ours, theirs, true)? {
        crate::ops::landing::Merged::Clean(_) => Ok(Vec::new()),
        crate::ops::landing::Merged::Conflicted(files) => Ok(files),
    }
}

/// Results of earlier runs, keyed by what they were computed from, in
/// `<common dir>/git-agent/conflicts-cache.json`. Only speed depends on
/// it: a missing or unreadable cache is recomputed, a failed write ignored.
#[derive(Default, Serialize, Deserialize)]
struct Cache {
    version: u32,
    /// "<commit>:<commit>" → the files their merge leaves conflicted.
    #[serde(default)]
    merges: BTreeMap<String, Vec<String>>,
    /// "<base tip>:<agent tip>" → the files the agent changed since it left the base.
    #[serde(default)]
    changes: BTreeMap<String, Vec<String>>,
    /// [`overlaps_key`] of the bases' trees and the scopes → their overlaps.
    #[serde(default)]
    overlaps: BTreeMap<String, Vec<ScopeOverlap>>,
    #[serde(skip)]
    changed: bool,
}

impl Cache {
    /// 3: the overlaps' key is a SHA-1, no longer std's hash.
    const VERSION: u32 = 3;

    fn path(repo: &gix::Repository) -> PathBuf {
        repo.common_dir()
            .join("git-agent")
            .join("conflicts-cache.json")
    }

    fn load(repo: &gix::Repository) -> Cache {
        std::fs::read_to_string(Self::path(repo))
            .ok()
            .and_then(|text| serde_json::from_str::<Cache>(&text).ok())
            .filter(|c| c.version == Self::VERSION)
            .unwrap_or_default()
    }

    fn save_if_changed(&self, repo: &gix::Repository) {
        if self.changed {
            let _ = self.save(&Self::path(repo));
        }
    }

    fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().expect("cache file has a parent");
        std::fs::create_dir_all(dir)?;
        let body = serde_json::to_string(&Cache {
            version: Self::VERSION,
            merges: self.merges.clone(),
            changes: self.changes.clone(),
            overlaps: self.overlaps.clone(),
            changed: false,
        })
        .expect("serialises");
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(body.as_bytes())?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Files changed by more than one agent, each with the agents and whether
/// the policy calls it hot or protected.
#[derive(Debug, Serialize)]
pub struct Shared {
    pub path: String,
    pub agents: Vec<String>,
    pub hot: bool,
    pub protected: bool,
}

/// Two agents whose scopes allow some of the same files of the base.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScopeOverlap {
    pub left: String,
    pub right: String,
    pub files: usize,
    pub examples: Vec<String>,
}

/// Files changed by more than one agent since each left its base.
fn shared_changes(
    repo: &gix::Repository,
    tips: &Tips<'_>,
    diffs: &Diffs,
    cache: &mut Cache,
) -> Result<Vec<Shared>> {
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut known = BTreeMap::new();
    for side in &tips.sides {
        let key = format!("{}:{}", side.base_tip, side.tip);
        let paths = match cache.changes.remove(&key) {
            Some(paths) => paths,
            None => {
                let Some(fork) = repo
                    .merge_base(side.base_tip, side.tip)
                    .git("finding a merge base")?
                    .map(|id| id.detach())
                else {
                    continue;
                };
                cache.changed = true;
                diffs.get(repo, fork, side.tip)?.paths.clone()
            }
        };
        for path in &paths {
            by_path
                .entry(path.clone())
                .or_default()
                .push(side.agent.name.clone());
        }
        known.insert(key, paths);
    }
    // Keep only the current tips' changes.
    cache.changed |= !cache.changes.is_empty();
    cache.changes = known;
    let policy_base = tips.sides.first().map(|s| s.agent.base.clone());
    let policy = match &policy_base {
        Some(base) => repo::load_policy(repo, base)?,
        None => Default::default(),
    };
    let ignore_case = repo::ignore_case(repo);
    let compile = |texts: &[String]| -> Vec<Pattern> {
        texts
            .iter()
            .filter_map(|t| Pattern::new(t, ignore_case).ok())
            .collect()
    };
    let hot = compile(&policy.hot);
    let mut protected = compile(&policy.protected);
    protected.extend(
        Pattern::new(
            &format!("/{}", crate::policy::manifest::MANIFEST_FILE),
            ignore_case,
        )
        .ok(),
    );
    let matches = |patterns: &[Pattern], path: &str| {
        // Last match wins, as in .gitignore.
        patterns
            .iter()
            .rev()
            .find(|p| p.matches(path))
            .is_some_and(|p| !p.negated)
    };
    Ok(by_path
        .into_iter()
        .filter(|(_, agents)| agents.len() > 1)
        .map(|(path, agents)| Shared {
            hot: matches(&hot, &path),
            protected: matches(&protected, &path),
            path,
            agents,
        })
        .collect())
}

/// Agents grouped by base: the base's tip, and each agent's scope
/// subject (its patterns and the policy's protected ones).
type ScopeGroups = Vec<(ObjectId, Vec<crate::ops::gate::Subject>)>;

fn scope_groups(repo: &gix::Repository, agents: &[Agent]) -> Result<ScopeGroups> {
    let mut by_base: BTreeMap<&str, Vec<&Agent>> = BTreeMap::new();
    for agent in agents {
        by_base.entry(agent.base.as_str()).or_default().push(agent);
    }
    // An agent's clone keeps the registry and the policy in its home.
    let home = repo::control(repo)?;
    let control = home.as_ref().unwrap_or(repo);
    let mut groups = Vec::new();
    for (base, group) in by_base {
        if group.len() < 2 {
            continue;
        }
        let Some(base_tip) = repo::branch_tip(repo, base)? else {
            continue;
        };
        // From the entries given, not the registry as it is now: an agent
        // removed since they were read would fail the whole forecast (and
        // `add`'s overlap warning) as unknown.
        let subjects = group
            .into_iter()
            .map(|agent| crate::ops::gate::subject_of(control, agent, false))
            .collect::<Result<Vec<_>>>()?;
        groups.push((base_tip, subjects));
    }
    Ok(groups)
}

/// Pairs of agents whose scopes share files of their base's tree. `only`
/// limits it to pairs involving that agent (for `add`'s warning).
pub fn scope_overlaps(
    repo: &gix::Repository,
    agents: &[Agent],
    only: Option<&str>,
) -> Result<Vec<ScopeOverlap>> {
    overlaps_of(repo, &scope_groups(repo, agents)?, only)
}

/// The cache key of the overlaps of `groups`: the SHA-1 (hex) of what they
/// depend on, each field written as `<byte length>:<bytes>` so no two
/// inputs read alike: `ignore-case` and `0` or `1`; then for each base,
/// `tree` and its tree's id; for each agent of it, `agent` and its name,
/// `scope` and each pattern, `protected` and each protected pattern.
/// Stable across processes, builds and Rust versions, unlike std's hasher.
/// `None` when SHA-1 refuses the input (a collision attack), which only
/// costs the cache.
fn overlaps_key(repo: &gix::Repository, groups: &ScopeGroups) -> Result<Option<String>> {
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    let mut field = |bytes: &[u8]| {
        hasher.update(format!("{}:", bytes.len()).as_bytes());
        hasher.update(bytes);
    };
    field(b"ignore-case");
    field(if repo::ignore_case(repo) { b"1" } else { b"0" });
    for (base_tip, subjects) in groups {
        field(b"tree");
        field(tree_of(repo, *base_tip)?.to_string().as_bytes());
        for subject in subjects {
            field(b"agent");
            field(subject.name.as_bytes());
            for (pattern, _) in &subject.patterns {
                field(b"scope");
                field(pattern.as_bytes());
            }
            for pattern in &subject.manifest.protected {
                field(b"protected");
                field(pattern.as_bytes());
            }
        }
    }
    Ok(hasher.try_finalize().ok().map(|id| id.to_string()))
}

/// [`scope_overlaps`] of every pair, reused while the bases' trees and the
/// scopes stay the same.
fn scope_overlaps_cached(
    repo: &gix::Repository,
    agents: &[Agent],
    cache: &mut Cache,
) -> Result<Vec<ScopeOverlap>> {
    let groups = scope_groups(repo, agents)?;
    let Some(digest) = overlaps_key(repo, &groups)? else {
        return overlaps_of(repo, &groups, None);
    };
    if let Some(known) = cache.overlaps.get(&digest) {
        return Ok(known.clone());
    }
    let overlaps = overlaps_of(repo, &groups, None)?;
    cache.overlaps = BTreeMap::from([(digest, overlaps.clone())]);
    cache.changed = true;
    Ok(overlaps)
}

fn overlaps_of(
    repo: &gix::Repository,
    groups: &ScopeGroups,
    only: Option<&str>,
) -> Result<Vec<ScopeOverlap>> {
    let mut overlaps = Vec::new();
    for (base_tip, subjects) in groups {
        let mut scopes = Vec::with_capacity(subjects.len());
        for subject in subjects {
            scopes.push((subject.name.as_str(), subject.scope(repo)?));
        }
        let mut files = Vec::new();
        tree_files(
            repo,
            tree_of(repo, *base_tip)?,
            &mut String::new(),
            &mut files,
        )?;
        files.sort_unstable();
        // Each scope is decided only on the files under its patterns'
        // literal prefixes (a scope of `/src/api/` never looks at `docs/`),
        // and each directory once.
        let allowed: Vec<Vec<usize>> = scopes
            .iter()
            .map(|(_, scope)| {
                scope.allowed_among(&files, candidates(&files, scope.allowed_prefixes()))
            })
            .collect();
        for a in 0..scopes.len() {
            for b in a + 1..scopes.len() {
                if only.is_some_and(|o| scopes[a].0 != o && scopes[b].0 != o) {
                    continue;
                }
                let both = intersect(&allowed[a], &allowed[b]);
                if !both.is_empty() {
                    overlaps.push(ScopeOverlap {
                        left: scopes[a].0.to_owned(),
                        right: scopes[b].0.to_owned(),
                        files: both.len(),
                        examples: both.iter().take(3).map(|&i| files[i].clone()).collect(),
                    });
                }
            }
        }
    }
    Ok(overlaps)
}

/// Indices into the sorted `files` of those starting with one of
/// `prefixes` (all of them when `None`), in order.
fn candidates<'a>(
    files: &'a [String],
    prefixes: Option<Vec<&str>>,
) -> impl Iterator<Item = usize> + 'a {
    let mut ranges: Vec<std::ops::Range<usize>> = match prefixes {
        None => std::iter::once(0..files.len()).collect(),
        Some(prefixes) => prefixes
            .into_iter()
            .map(|p| {
                let start = files.partition_point(|f| f.as_str() < p);
                let len = files[start..].partition_point(|f| f.starts_with(p));
                start..start + len
            })
            .collect(),
    };
    ranges.sort_by_key(|r| r.start);
    // Overlapping ranges (`src/`, `src/api/`) yield each index once.
    let mut next = 0;
    ranges.into_iter().flat_map(move |r| {
        let from = r.start.max(next);
        next = next.max(r.end);
        from..r.end.max(from)
    })
}

/// The common elements of two sorted index lists.
fn intersect(a: &[usize], b: &[usize]) -> Vec<usize> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Every file path in `tree`, below `prefix` (empty, or ending in `/`).
fn tree_files(
    repo: &gix::Repository,
    tree: ObjectId,
    prefix: &mut String,
    out: &mut Vec<String>,
) -> Result<()> {
    use gix::prelude::FindExt;
    let mut buf = Vec::new();
    let entries: Vec<(String, bool, ObjectId)> = repo
        .objects
        .find_tree(&tree, &mut buf)
        .git("reading the base's tree")?
        .entries
        .iter()
        .map(|e| (e.filename.to_string(), e.mode.is_tree(), e.oid.to_owned()))
        .collect();
    for (name, is_tree, id) in entries {
        if is_tree {
            let len = prefix.len();
            prefix.push_str(&name);
            prefix.push('/');
            tree_files(repo, id, prefix, out)?;
            prefix.truncate(len);
        } else {
            out.push(format!("{prefix}{name}"));
        }
    }
    Ok(())
}

/// A landing order that puts the agents with the fewest conflicts first.
pub fn landing_order(forecast: &Forecast) -> Vec<String> {
    let mut order = forecast.agents.clone();
    let files = |name: &str| -> usize {
        forecast
            .pairs
            .iter()
            .filter(|p| p.involves(name))
            .map(|p| p.files.len())
            .sum()
    };
    order.sort_by_key(|name| (forecast.count(name), files(name), name.clone()));
    order
}

/// What `conflicts` reports: the forecast, a landing order, the files
/// several agents change and the scopes that overlap.
pub struct Conflicts {
    pub forecast: Forecast,
    pub order: Vec<String>,
    pub shared: Vec<Shared>,
    pub overlaps: Vec<ScopeOverlap>,
}

/// Forecast every registered agent of `repo` (the home repository),
/// reusing and updating the cache of earlier forecasts.
pub fn conflicts(repo: &gix::Repository) -> Result<Conflicts> {
    let agents: Vec<Agent> = context::registry(repo).load()?.into_values().collect();
    let mut cache = Cache::load(repo);
    let tips = tips(repo, &agents)?;
    let diffs = Diffs::default();
    let forecast = forecast_tips(repo, &tips, &diffs, &mut cache)?;
    let order = landing_order(&forecast);
    let shared = shared_changes(repo, &tips, &diffs, &mut cache)?;
    let overlaps = scope_overlaps_cached(repo, &agents, &mut cache)?;
    cache.save_if_changed(repo);
    Ok(Conflicts {
        forecast,
        order,
        shared,
        overlaps,
    })
}
