//! `git agent conflicts`: which agents' branches would conflict, with their
//! bases and with each other, before anyone lands; which files several
//! agents change; which scopes overlap; and an order to land them in.
//!
//! Every merge is computed in memory (gix `merge_commits` with object
//! memory): nothing is written to the repository. Results are cached by the
//! commit ids merged, in `<common dir>/git-agent/conflicts-cache.json`, so
//! `list` can show the count cheaply again and again.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use crate::Io;
use crate::changes;
use crate::cli::ConflictsArgs;
use crate::error::{Error, GitContext, Outcome, Result};
use crate::pattern::Pattern;
use crate::registry::Agent;
use crate::repo;

/// A pair whose merge would conflict. `left` is `"base"` for an agent
/// against its own base.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Pair {
    pub left: String,
    pub right: String,
    pub files: Vec<String>,
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
        self.pairs
            .iter()
            .filter(|p| p.left == name || p.right == name)
            .count()
    }
}

struct Side<'a> {
    agent: &'a Agent,
    tip: ObjectId,
    base_tip: ObjectId,
}

/// Merge every agent with its base and every pair of agents, in memory.
pub fn forecast(repo: &gix::Repository, agents: &[Agent]) -> Result<Forecast> {
    let mut forecast = Forecast::default();
    let mut sides = Vec::new();
    for agent in agents {
        let base_tip = repo::branch_tip(repo, &agent.base)?;
        let tip = crate::land::branch_tip(repo, agent).ok();
        match (tip, base_tip) {
            (Some(tip), Some(base_tip)) => {
                forecast.agents.push(agent.name.clone());
                sides.push(Side {
                    agent,
                    tip,
                    base_tip,
                });
            }
            (None, _) => forecast.problems.push(format!(
                "{}: branch {} is missing",
                agent.name, agent.branch
            )),
            (_, None) => forecast
                .problems
                .push(format!("{}: base {} is missing", agent.name, agent.base)),
        }
    }
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
    let cache_path = cache_file(repo);
    let cache = read_cache(&cache_path);
    let mut results: Vec<Option<Vec<String>>> = jobs
        .iter()
        .map(|job| cache.get(&key(ids(job))).cloned())
        .collect();
    let todo: Vec<usize> = (0..jobs.len()).filter(|&i| results[i].is_none()).collect();
    if !todo.is_empty() {
        let computed = merge_all(repo, todo.iter().map(|&i| ids(&jobs[i])).collect())?;
        for (i, files) in todo.into_iter().zip(computed) {
            results[i] = Some(files);
        }
        let fresh: BTreeMap<String, Vec<String>> = jobs
            .iter()
            .zip(&results)
            .map(|(job, files)| (key(ids(job)), files.clone().unwrap_or_default()))
            .collect();
        // Only speed depends on the cache, so a failed write is ignored.
        let _ = write_cache(&cache_path, &fresh);
    }
    for (job, files) in jobs.iter().zip(results) {
        let files = files.unwrap_or_default();
        if files.is_empty() {
            continue;
        }
        forecast.pairs.push(Pair {
            left: job
                .0
                .map_or_else(|| "base".to_owned(), |l| sides[l].agent.name.clone()),
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

/// The conflicting files of each merge, computed on every core. One side
/// already containing the other cannot conflict, so such pairs cost only a
/// merge-base walk.
fn merge_all(
    repo: &gix::Repository,
    merges: Vec<(ObjectId, ObjectId)>,
) -> Result<Vec<Vec<String>>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(merges.len())
        .max(1);
    let shared = repo.clone().into_sync();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<Vec<String>>>>> =
        std::sync::Mutex::new((0..merges.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut mem = shared.to_thread_local().with_object_memory();
                // Trees are read again and again across the pairs.
                mem.object_cache_size_if_unset(64 << 20);
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(ours, theirs)) = merges.get(i) else {
                        break;
                    };
                    let result = conflicting_files(&mem, ours, theirs);
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

fn conflicting_files(
    mem: &gix::Repository,
    ours: ObjectId,
    theirs: ObjectId,
) -> Result<Vec<String>> {
    if ours == theirs {
        return Ok(Vec::new());
    }
    let merge_base = mem
        .merge_base(ours, theirs)
        .git("finding a merge base")?
        .map(|id| id.detach());
    if merge_base == Some(ours) || merge_base == Some(theirs) {
        return Ok(Vec::new());
    }
    let options: gix::merge::commit::Options = mem
        .tree_merge_options()
        .git("reading merge options")?
        .into();
    let outcome = mem
        .merge_commits(
            ours,
            theirs,
            Default::default(),
            options.with_allow_missing_merge_base(true),
        )
        .git("merging in memory")?;
    let how = gix::merge::tree::TreatAsUnresolved::git();
    if !outcome.tree_merge.has_unresolved_conflicts(how) {
        return Ok(Vec::new());
    }
    Ok(crate::land::conflict_files(
        &outcome.tree_merge.conflicts,
        how,
    ))
}

fn cache_file(repo: &gix::Repository) -> PathBuf {
    repo.common_dir()
        .join("git-agent")
        .join("conflicts-cache.json")
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    merges: BTreeMap<String, Vec<String>>,
}

fn read_cache(path: &Path) -> HashMap<String, Vec<String>> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<CacheFile>(&text).ok())
        .filter(|c| c.version == 1)
        .map(|c| c.merges.into_iter().collect())
        .unwrap_or_default()
}

fn write_cache(path: &Path, merges: &BTreeMap<String, Vec<String>>) -> std::io::Result<()> {
    let dir = path.parent().expect("cache file has a parent");
    std::fs::create_dir_all(dir)?;
    let body = serde_json::to_string(&CacheFile {
        version: 1,
        merges: merges.clone(),
    })
    .expect("serialises");
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(body.as_bytes())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
#[derive(Debug, Serialize)]
pub struct ScopeOverlap {
    pub left: String,
    pub right: String,
    pub files: usize,
    pub examples: Vec<String>,
}

/// Files each agent's branch changes since it left its base.
fn changed_files(repo: &gix::Repository, tip: ObjectId, base_tip: ObjectId) -> Result<Vec<String>> {
    let Some(fork) = repo
        .merge_base(base_tip, tip)
        .git("finding a merge base")?
        .map(|id| id.detach())
    else {
        return Ok(Vec::new());
    };
    let tree = |id: ObjectId| -> Result<ObjectId> {
        Ok(repo
            .find_commit(id)
            .git("reading a commit")?
            .tree_id()
            .git("reading a tree")?
            .detach())
    };
    let mut changes = Vec::new();
    changes::diff_trees(
        repo,
        Some(tree(fork)?),
        Some(tree(tip)?),
        "".into(),
        &mut changes,
    )?;
    Ok(changes.into_iter().map(|c| c.path).collect())
}

/// Files changed by more than one agent.
pub fn shared_changes(repo: &gix::Repository, agents: &[Agent]) -> Result<Vec<Shared>> {
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut policy_base = None;
    for agent in agents {
        let (Some(base_tip), Ok(tip)) = (
            repo::branch_tip(repo, &agent.base)?,
            crate::land::branch_tip(repo, agent),
        ) else {
            continue;
        };
        policy_base.get_or_insert_with(|| agent.base.clone());
        for path in changed_files(repo, tip, base_tip)? {
            by_path.entry(path).or_default().push(agent.name.clone());
        }
    }
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
    protected
        .extend(Pattern::new(&format!("/{}", crate::manifest::MANIFEST_FILE), ignore_case).ok());
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

/// Pairs of agents whose scopes share files of their base's tree. `only`
/// limits it to pairs involving that agent (for `add`'s warning).
pub fn scope_overlaps(
    repo: &gix::Repository,
    agents: &[Agent],
    only: Option<&str>,
) -> Result<Vec<ScopeOverlap>> {
    let mut by_base: BTreeMap<&str, Vec<&Agent>> = BTreeMap::new();
    for agent in agents {
        by_base.entry(agent.base.as_str()).or_default().push(agent);
    }
    let mut overlaps = Vec::new();
    for (base, group) in by_base {
        if group.len() < 2 {
            continue;
        }
        let Some(base_tip) = repo::branch_tip(repo, base)? else {
            continue;
        };
        let mut scopes = Vec::new();
        for agent in &group {
            let subject = crate::scope_cmd::resolve_subject(repo, Some(&agent.name), None)?;
            if let Some(subject) = subject {
                scopes.push((agent.name.as_str(), subject.scope(repo)?));
            }
        }
        let files = tree_files(repo, base_tip)?;
        let mut shared: BTreeMap<(usize, usize), (usize, Vec<String>)> = BTreeMap::new();
        let mut allowed = Vec::with_capacity(scopes.len());
        for path in &files {
            allowed.clear();
            allowed.extend(
                scopes
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, scope))| scope.decide(path).allowed)
                    .map(|(i, _)| i),
            );
            for (x, &a) in allowed.iter().enumerate() {
                for &b in &allowed[x + 1..] {
                    if only.is_some_and(|o| scopes[a].0 != o && scopes[b].0 != o) {
                        continue;
                    }
                    let entry = shared.entry((a, b)).or_default();
                    entry.0 += 1;
                    if entry.1.len() < 3 {
                        entry.1.push(path.clone());
                    }
                }
            }
        }
        for ((a, b), (count, examples)) in shared {
            overlaps.push(ScopeOverlap {
                left: scopes[a].0.to_owned(),
                right: scopes[b].0.to_owned(),
                files: count,
                examples,
            });
        }
    }
    Ok(overlaps)
}

/// Every file path in the tree of `commit`.
fn tree_files(repo: &gix::Repository, commit: ObjectId) -> Result<Vec<String>> {
    let tree = repo
        .find_commit(commit)
        .git("reading a commit")?
        .tree()
        .git("reading a tree")?;
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut recorder)
        .git("listing the base's files")?;
    Ok(recorder
        .records
        .into_iter()
        .filter(|e| !e.mode.is_tree())
        .map(|e| e.filepath.to_string())
        .collect())
}

/// A landing order that puts the agents with the fewest conflicts first.
pub fn landing_order(forecast: &Forecast) -> Vec<String> {
    let mut order = forecast.agents.clone();
    let files = |name: &str| -> usize {
        forecast
            .pairs
            .iter()
            .filter(|p| p.left == name || p.right == name)
            .map(|p| p.files.len())
            .sum()
    };
    order.sort_by_key(|name| (forecast.count(name), files(name), name.clone()));
    order
}

#[derive(Serialize)]
struct Json<'a> {
    version: u32,
    pairs: &'a [Pair],
    order: &'a [String],
    shared_files: &'a [Shared],
    scope_overlaps: &'a [ScopeOverlap],
    problems: &'a [String],
}

pub fn run(args: ConflictsArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let here = repo::open(&cwd)?;
    let repo = repo::control(&here)?.unwrap_or(here);
    let agents: Vec<Agent> = repo::registry(&repo).load()?.into_values().collect();
    let forecast = forecast(&repo, &agents)?;
    let order = landing_order(&forecast);
    let shared = shared_changes(&repo, &agents)?;
    let overlaps = scope_overlaps(&repo, &agents, None)?;
    let outcome = if forecast.pairs.is_empty() {
        Outcome::Done
    } else {
        Outcome::Refused
    };
    if args.json {
        let text = serde_json::to_string_pretty(&Json {
            version: 1,
            pairs: &forecast.pairs,
            order: &order,
            shared_files: &shared,
            scope_overlaps: &overlaps,
            problems: &forecast.problems,
        })
        .expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
        return Ok(outcome);
    }
    render(io, &forecast, &order, &shared, &overlaps).map_err(Error::io("writing"))?;
    Ok(outcome)
}

fn render(
    io: &mut Io,
    forecast: &Forecast,
    order: &[String],
    shared: &[Shared],
    overlaps: &[ScopeOverlap],
) -> std::io::Result<()> {
    let out = &mut io.out;
    if forecast.agents.is_empty() {
        writeln!(out, "no agents to compare")?;
    } else {
        let cell = |left: &str, right: &str| -> String {
            if left == right {
                return "-".into();
            }
            forecast
                .pairs
                .iter()
                .find(|p| {
                    (p.left == left && p.right == right) || (p.left == right && p.right == left)
                })
                .map_or_else(|| "·".into(), |p| p.files.len().to_string())
        };
        let mut header = vec![String::new(), "base".to_owned()];
        header.extend(forecast.agents.iter().cloned());
        let mut table = vec![header];
        for name in &forecast.agents {
            let mut row = vec![name.clone(), cell("base", name)];
            row.extend(forecast.agents.iter().map(|other| cell(name, other)));
            table.push(row);
        }
        writeln!(out, "conflicting files if merged (· none):")?;
        let widths: Vec<usize> = (0..table[0].len())
            .map(|c| {
                table
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &table {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(text, w)| format!("{text:<w$}"))
                .collect();
            writeln!(out, "  {}", line.join("  ").trim_end())?;
        }
    }
    if !forecast.pairs.is_empty() {
        writeln!(out)?;
        writeln!(out, "conflicts:")?;
        for pair in &forecast.pairs {
            let left = if pair.left == "base" {
                "its base".to_owned()
            } else {
                pair.left.clone()
            };
            writeln!(out, "  {} × {left}: {}", pair.right, pair.files.join(", "))?;
        }
    }
    if !shared.is_empty() {
        writeln!(out)?;
        writeln!(out, "files changed by more than one agent:")?;
        for s in shared {
            let mark = match (s.hot, s.protected) {
                (true, true) => "  [hot, protected]",
                (true, false) => "  [hot]",
                (false, true) => "  [protected]",
                (false, false) => "",
            };
            writeln!(out, "  {}: {}{mark}", s.path, s.agents.join(", "))?;
        }
    }
    if !overlaps.is_empty() {
        writeln!(out)?;
        writeln!(out, "scopes that overlap on the base's files:")?;
        for o in overlaps {
            writeln!(
                out,
                "  {} and {}: {} file{}, e.g. {}",
                o.left,
                o.right,
                o.files,
                if o.files == 1 { "" } else { "s" },
                o.examples.join(", ")
            )?;
        }
    }
    if !forecast.agents.is_empty() {
        writeln!(out)?;
        writeln!(out, "landing order: {}", order.join(", "))?;
        let position = |name: &str| order.iter().position(|n| n == name).unwrap_or(usize::MAX);
        for pair in forecast.pairs.iter().filter(|p| p.left != "base") {
            let (first, second) = if position(&pair.left) <= position(&pair.right) {
                (&pair.left, &pair.right)
            } else {
                (&pair.right, &pair.left)
            };
            writeln!(
                out,
                "  {first} before {second}: land {first}, then `git agent sync {second}` once and resolve {}",
                pair.files.join(", ")
            )?;
        }
    }
    for problem in &forecast.problems {
        writeln!(io.err, "warning: left out {problem}")?;
    }
    Ok(())
}
