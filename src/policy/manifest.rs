//! `.git-agent.yaml`: the team's policy, parsed with serde-saphyr and
//! reported in place (line, column, and a label under the offending text).
//!
//! The policy is always read from the base branch's committed tree (see
//! [`crate::git::repo::load_policy`]), never from a working copy, so an agent
//! cannot widen its own rights by editing the file.

use std::collections::BTreeMap;

use miette::{NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, MessageFormatter, Spanned};

use crate::error::{Error, ManifestError, Result};
use crate::policy::branches::{BranchPattern, overlap};
use crate::policy::pattern::Pattern;

pub const MANIFEST_FILE: &str = ".git-agent.yaml";

/// The largest manifest read, in bytes. A real policy is a few kilobytes;
/// the cap bounds the parser's time and memory on hostile input (see
/// RELIABILITY.md), since the base's committed tree is the only input.
pub const MAX_MANIFEST_BYTES: usize = 256 * 1024;
/// The deepest nesting of lists and maps: a real manifest nests four deep.
pub const MAX_DEPTH: usize = 32;
/// The most alias uses (`*name`). Each use copies its anchor's value, so the
/// copies are bounded by this times [`MAX_MANIFEST_BYTES`].
pub const MAX_ALIASES: usize = 64;
/// The most YAML events replayed by all alias uses together.
pub const MAX_REPLAYED_EVENTS: usize = 10_000;
/// The most nodes (scalars, lists, maps) in the manifest.
pub const MAX_NODES: usize = 20_000;

/// The parser's budget: every limit above, enforced while parsing.
fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ALIASES,
            max_nodes: MAX_NODES,
            max_events: 4 * MAX_NODES,
            max_documents: 1,
            max_total_scalar_bytes: MAX_MANIFEST_BYTES,
            max_recorded_anchor_bytes: MAX_MANIFEST_BYTES,
            max_merge_keys: MAX_ALIASES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
            max_replay_stack_depth: MAX_DEPTH,
        },
    }
}

/// The refusal of a manifest of `size` bytes, before reading it.
pub fn oversized(size: u64, origin: &str) -> Error {
    Error::Manifest(Box::new(ManifestError {
        message: format!(
            "{origin}:1:1: the manifest is {size} bytes, more than the limit of {MAX_MANIFEST_BYTES}"
        ),
        help: Some(
            "a policy is a few kilobytes; list directories rather than files, and share patterns through `areas:`".into(),
        ),
        source_code: NamedSource::new(origin, String::new()),
        span: None,
        label: "here".into(),
        line: 1,
        column: 1,
    }))
}

/// How `land` integrates a branch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    #[default]
    Merge,
    Squash,
    Rebase,
    Ff,
}

/// A writer commits its own work; a proposer's work lands only with `--accept`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Writer,
    Proposer,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Writer => "writer",
            Role::Proposer => "proposer",
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Defaults {
    pub base: Option<String>,
    pub worktrees: Option<String>,
    pub strategy: Strategy,
    /// `git agent exec` runs every command under the write sandbox.
    pub sandbox: bool,
    /// `git agent add` makes sparse worktrees, as with `--sparse`.
    pub sparse: bool,
}

/// The policy's `sandbox:` section: what `exec --sandbox` also lets a
/// command write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sandbox {
    /// Directories relative to the worktree (`target/`, `node_modules/`),
    /// checked to stay inside it.
    pub writable: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandingAgent {
    pub scope: Vec<String>,
    pub role: Role,
    /// Branches it owns besides `agent/NAME` (e.g. `copilot/*`).
    pub branches: Vec<String>,
}

/// What the shared remote's pre-receive hook enforces on the base.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Server {
    /// A push that moves the base must be a fast-forward of landings whose
    /// receipts verify, or come from one of `humans`.
    pub require_receipts: bool,
    pub humans: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub max_files_per_commit: Option<u64>,
}

/// A validated policy. An absent manifest is the empty policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Manifest {
    pub defaults: Defaults,
    pub protected: Vec<String>,
    pub areas: BTreeMap<String, Vec<String>>,
    pub agents: BTreeMap<String, StandingAgent>,
    pub copy: Vec<String>,
    /// Files every sparse worktree checks out besides the scope: what an
    /// agent must read but not change (`Cargo.toml`, a shared library).
    pub context: Vec<String>,
    pub setup: Vec<String>,
    pub checks: Vec<String>,
    /// `checks_sandbox: false`: the checks run unconfined. By default they
    /// run in the write sandbox where the kernel has one.
    pub checks_unsandboxed: bool,
    pub hot: Vec<String>,
    pub limits: Limits,
    pub sandbox: Sandbox,
    pub server: Server,
}

// The raw shapes mirror the YAML and keep locations for later checks.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: Spanned<u64>,
    #[serde(default)]
    defaults: Option<RawDefaults>,
    #[serde(default)]
    protected: Vec<Spanned<String>>,
    #[serde(default)]
    areas: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(default)]
    agents: BTreeMap<String, RawAgent>,
    #[serde(default)]
    copy: Vec<Spanned<String>>,
    #[serde(default)]
    context: Vec<Spanned<String>>,
    #[serde(default)]
    setup: Vec<String>,
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    checks_sandbox: Option<bool>,
    #[serde(default)]
    hot: Vec<Spanned<String>>,
    #[serde(default)]
    limits: Option<RawLimits>,
    #[serde(default)]
    sandbox: Option<RawSandbox>,
    server: Option<RawServer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default)]
    require_receipts: Option<Spanned<bool>>,
    #[serde(default)]
    humans: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    base: Option<String>,
    worktrees: Option<String>,
    #[serde(default)]
    strategy: Strategy,
    #[serde(default)]
    sandbox: bool,
    #[serde(default)]
    sparse: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSandbox {
    #[serde(default)]
    writable: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    scope: Vec<Spanned<String>>,
    #[serde(default)]
    role: Role,
    #[serde(default)]
    branches: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_files_per_commit: Option<u64>,
}

/// The manifest's text and where it came from, for diagnostics that point
/// into it.
struct Source<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Source<'_> {
    /// A diagnostic at `loc`.
    fn at(&self, loc: &Location, message: String, label: &str, help: Option<String>) -> Error {
        Error::Manifest(Box::new(diagnostic(
            self.text,
            self.origin,
            Some(loc),
            message,
            label,
            help,
        )))
    }

    /// The patterns of `list`, each checked to be valid.
    fn patterns(&self, list: &[Spanned<String>]) -> Result<Vec<String>> {
        list.iter()
            .map(|p| match Pattern::new(&p.value, false) {
                Ok(_) => Ok(p.value.clone()),
                Err(why) => Err(self.at(
                    &p.referenced,
                    format!("bad pattern '{}': {why}", p.value),
                    "this pattern",
                    Some("patterns use .gitignore syntax, e.g. 'src/billing/', '*.md' or '!src/gen/'".into()),
                )),
            })
            .collect()
    }

    /// The `context:` patterns: valid, and none an exclusion, since they
    /// only add files to a sparse checkout.
    fn context(&self, list: &[Spanned<String>]) -> Result<Vec<String>> {
        if let Some(p) = list.iter().find(|p| p.value.starts_with('!')) {
            return Err(self.at(
                &p.referenced,
                format!("bad context pattern '{}': context patterns add files to sparse worktrees, and a '!' pattern would take some away", p.value),
                "this pattern",
                Some("list only what agents must read, e.g. '/Cargo.toml' or 'libs/shared/'; to keep a path out of agents' hands, add it to `protected:`".into()),
            ));
        }
        self.patterns(list)
    }

    fn copy_entries(&self, list: &[Spanned<String>]) -> Result<Vec<String>> {
        list.iter()
            .map(|entry| match copy_entry_problem(&entry.value) {
                None => Ok(entry.value.clone()),
                Some(why) => Err(self.at(
                    &entry.referenced,
                    format!("bad copy entry '{}': {why}", entry.value),
                    "this entry",
                    Some(
                        "name a file or directory of the main worktree by its path relative to the worktree's root, e.g. '.env' or 'config/local/'"
                            .into(),
                    ),
                )),
            })
            .collect()
    }

    /// The standing agents, their names and patterns checked.
    fn agents(&self, raw: &BTreeMap<String, RawAgent>) -> Result<BTreeMap<String, StandingAgent>> {
        let mut agents = BTreeMap::new();
        for (name, agent) in raw {
            if let Err(why) = crate::policy::names::validate_name(name) {
                return Err(self.invalid_name(name, &why));
            }
            agents.insert(
                name.clone(),
                StandingAgent {
                    scope: self.patterns(&agent.scope)?,
                    role: agent.role,
                    branches: agent.branches.iter().map(|b| b.value.clone()).collect(),
                },
            );
        }
        Ok(agents)
    }

    fn invalid_name(&self, name: &str, why: &dyn std::fmt::Display) -> Error {
        let (text, origin) = (self.text, self.origin);
        // Keys carry no location; point at the key's first occurrence.
        let offset = text.find(&format!("{name}:")).unwrap_or(0);
        let mut d = diagnostic(
            text,
            origin,
            None,
            format!("invalid agent name '{name}': {why}"),
            "this name",
            Some("use letters, digits, '-', '_' and '.', starting with a letter or digit".into()),
        );
        let line = text[..offset].matches('\n').count() + 1;
        let column = offset - text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
        d.message = format!("{origin}:{line}:{column}: invalid agent name '{name}': {why}");
        d.span = Some(SourceSpan::new(offset.into(), name.len()));
        d.line = line;
        d.column = column;
        Error::Manifest(Box::new(d))
    }

    /// The sandbox's writable directories, each inside the worktree.
    fn writable<'b>(
        &self,
        entries: impl Iterator<Item = &'b Spanned<String>>,
    ) -> Result<Vec<String>> {
        let mut writable = Vec::new();
        for entry in entries {
            if let Err(why) = inside_worktree(&entry.value) {
                return Err(self.at(
                    &entry.referenced,
                    format!("sandbox writable entry '{}' {why}", entry.value),
                    "this entry",
                    Some("name a directory relative to the worktree, without `..`, e.g. 'target/'; give other directories with `exec --writable DIR`".into()),
                ));
            }
            writable.push(entry.value.clone());
        }
        Ok(writable)
    }
}

impl Manifest {
    /// Parse and validate `text`; `origin` names where it came from in
    /// messages (e.g. `.git-agent.yaml on main`).
    pub fn parse(text: &str, origin: &str) -> Result<Manifest> {
        if text.trim().is_empty() {
            return Ok(Manifest::default());
        }
        if text.len() > MAX_MANIFEST_BYTES {
            return Err(oversized(text.len() as u64, origin));
        }
        let raw: Raw = serde_saphyr::from_str_with_options(text, parse_options())
            .map_err(|e| from_yaml_error(&e, text, origin))?;
        let src = Source { text, origin };
        if raw.version.value != 1 {
            return Err(src.at(
                &raw.version.referenced,
                format!("unsupported manifest version {}", raw.version.value),
                "this version",
                Some("this git-agent reads `version: 1`; write that, or upgrade git-agent".into()),
            ));
        }
        let copy = src.copy_entries(&raw.copy)?;
        let mut areas = BTreeMap::new();
        for (name, patterns) in &raw.areas {
            areas.insert(name.clone(), src.patterns(patterns)?);
        }
        let agents = src.agents(&raw.agents)?;
        check_branches(&raw.agents, text, origin)?;
        let server = check_server(raw.server, text, origin)?;
        let defaults = raw
            .defaults
            .map(|d| Defaults {
                base: d.base,
                worktrees: d.worktrees,
                strategy: d.strategy,
                sandbox: d.sandbox,
                sparse: d.sparse,
            })
            .unwrap_or_default();
        let writable = src.writable(raw.sandbox.iter().flat_map(|s| &s.writable))?;
        Ok(Manifest {
            defaults,
            protected: src.patterns(&raw.protected)?,
            areas,
            agents,
            copy,
            context: src.context(&raw.context)?,
            setup: raw.setup,
            checks: raw.checks,
            checks_unsandboxed: raw.checks_sandbox == Some(false),
            hot: src.patterns(&raw.hot)?,
            limits: Limits {
                max_files_per_commit: raw.limits.and_then(|l| l.max_files_per_commit),
            },
            sandbox: Sandbox { writable },
            server,
        })
    }

    /// The agent that owns short branch name `branch`: the standing agent
    /// one of whose `branches:` patterns matches it, else NAME for
    /// `agent/NAME` (registered or standing). The one answer `scope check
    /// --range`, CI and the pre-receive hook all use.
    pub fn branch_owner(&self, branch: &str) -> Option<String> {
        let branch = branch.strip_prefix("refs/heads/").unwrap_or(branch);
        let by_pattern = self.agents.iter().find(|(_, a)| {
            a.branches
                .iter()
                .filter_map(|p| BranchPattern::new(p).ok())
                .any(|p| p.matches(branch))
        });
        match by_pattern {
            Some((name, _)) => Some(name.clone()),
            None => branch
                .strip_prefix("agent/")
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        }
    }
}

fn located(
    text: &str,
    origin: &str,
    loc: &Location,
    message: String,
    label: &str,
    help: Option<String>,
) -> Error {
    Error::Manifest(Box::new(diagnostic(
        text,
        origin,
        Some(loc),
        message,
        label,
        help,
    )))
}

/// Every `branches:` pattern is a valid branch pattern, and no branch
/// name is matched by two agents: by two patterns, or by a pattern and
/// another standing agent's own `agent/NAME`.
fn check_branches(agents: &BTreeMap<String, RawAgent>, text: &str, origin: &str) -> Result<()> {
    let mut seen: Vec<(&str, BranchPattern, Option<&Location>)> = agents
        .keys()
        .filter_map(|n| {
            Some((
                n.as_str(),
                BranchPattern::new(&format!("agent/{n}")).ok()?,
                None,
            ))
        })
        .collect();
    for (name, agent) in agents {
        for p in &agent.branches {
            let pattern = BranchPattern::new(&p.value).map_err(|why| {
                located(
                    text,
                    origin,
                    &p.referenced,
                    format!("bad branch pattern '{}': {why}", p.value),
                    "this pattern",
                    Some("a branch pattern is a short branch name where `*` matches within one part, `**` across parts and `?` one character, e.g. 'copilot/*'".into()),
                )
            })?;
            let clash = seen
                .iter()
                .filter(|(other, _, _)| *other != name.as_str())
                .find_map(|(other, q, at)| overlap(&pattern, q).map(|w| (*other, q, *at, w)));
            if let Some((other, q, at, example)) = clash {
                let whose = match at {
                    Some(_) => format!("'{}' of agent '{other}'", q.as_str()),
                    None => format!("agent '{other}''s own branch '{}'", q.as_str()),
                };
                return Err(located(
                    text,
                    origin,
                    &p.referenced,
                    format!(
                        "branch pattern '{}' of agent '{name}' overlaps {whose}: both match branch '{example}'",
                        p.value
                    ),
                    "overlapping pattern",
                    Some("a branch belongs to one agent at most; narrow one of the patterns so that no branch name matches both".into()),
                ));
            }
            seen.push((name.as_str(), pattern, Some(&p.referenced)));
        }
    }
    Ok(())
}

/// `server:`; `require_receipts` needs the humans who may still push to
/// the base directly (an empty list says: nobody).
fn check_server(raw: Option<RawServer>, text: &str, origin: &str) -> Result<Server> {
    let Some(raw) = raw else {
        return Ok(Server::default());
    };
    let require = raw.require_receipts.as_ref().is_some_and(|r| r.value);
    if let (Some(flag), true, None) = (&raw.require_receipts, require, &raw.humans) {
        return Err(located(
            text,
            origin,
            &flag.referenced,
            "server.require_receipts is on, but server.humans is missing".into(),
            "needs server.humans",
            Some("list who may still push to the base directly, e.g. `server: { require_receipts: true, humans: [alice] }`; write `humans: []` if nobody may".into()),
        ));
    }
    Ok(Server {
        require_receipts: require,
        humans: raw.humans.unwrap_or_default(),
    })
}

/// Why `entry` does not name a path inside the worktree, if it does not.
fn inside_worktree(entry: &str) -> std::result::Result<(), &'static str> {
    use std::path::Component;
    let path = std::path::Path::new(entry);
    if entry.trim().is_empty() {
        return Err("is empty");
    }
    if path.has_root() || entry.starts_with('~') {
        return Err("is absolute: it would be outside the worktree");
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err("contains `..`: it could reach outside the worktree");
    }
    Ok(())
}

/// Why a `copy:` entry could reach outside the worktrees, if it could: it
/// is joined to the main worktree's root to read and to the new worktree's
/// root to write.
fn copy_entry_problem(entry: &str) -> Option<&'static str> {
    use std::path::Component;
    let path = std::path::Path::new(entry);
    let rooted = entry.starts_with(['/', '\\'])
        || path.has_root()
        || path.components().any(|c| matches!(c, Component::Prefix(_)));
    if rooted {
        return Some("it is an absolute path");
    }
    if entry.split(['/', '\\']).any(|part| part == "..") {
        return Some("it climbs out of the worktree with '..'");
    }
    None
}

fn from_yaml_error(err: &serde_saphyr::Error, text: &str, origin: &str) -> Error {
    let mut inner = err;
    while let serde_saphyr::Error::WithSnippet { error, .. }
    | serde_saphyr::Error::AliasError { error, .. } = inner
    {
        inner = error;
    }
    let message = match inner {
        serde_saphyr::Error::Budget { breach, .. } => over_budget(breach),
        _ => serde_saphyr::DefaultMessageFormatter
            .format_message(inner)
            .into_owned(),
    };
    let (label, help) = match inner {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let help = match nearest(field, expected.iter().copied()) {
                Some(near) => format!(
                    "did you mean `{near}`? Known keys here: {}",
                    expected.join(", ")
                ),
                None => format!("known keys here: {}", expected.join(", ")),
            };
            ("unknown key", Some(help))
        }
        serde_saphyr::Error::DuplicateMappingKey { .. } => (
            "duplicate key",
            Some("each key may appear once; merge the two entries into one".to_owned()),
        ),
        serde_saphyr::Error::SerdeMissingField { field, .. } if *field == "version" => (
            "here",
            Some("start the manifest with `version: 1`".to_owned()),
        ),
        serde_saphyr::Error::Budget { .. }
        | serde_saphyr::Error::AliasReplayLimitExceeded { .. }
        | serde_saphyr::Error::AliasExpansionLimitExceeded { .. }
        | serde_saphyr::Error::AliasReplayStackDepthExceeded { .. } => (
            "over the limit",
            Some(format!(
                "the manifest is limited to {MAX_DEPTH} levels of nesting, {MAX_ALIASES} aliases, {MAX_REPLAYED_EVENTS} events copied by aliases and {MAX_NODES} values; write the lists out plainly"
            )),
        ),
        _ => ("here", None),
    };
    let location = inner.location().or_else(|| err.location());
    Error::Manifest(Box::new(diagnostic(
        text,
        origin,
        location.as_ref(),
        message,
        label,
        help,
    )))
}

/// What `breach` means, in the manifest's terms.
fn over_budget(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let what = match breach {
        B::Depth { .. } => format!("it nests deeper than {MAX_DEPTH} levels"),
        B::Aliases { .. } | B::Anchors { .. } | B::MergeKeys { .. } => {
            format!("it uses more than {MAX_ALIASES} aliases, anchors or merge keys")
        }
        B::ScalarBytes { .. } => {
            format!("its text, counting what aliases copy, is over {MAX_MANIFEST_BYTES} bytes")
        }
        B::Nodes { .. } | B::Events { .. } => format!("it holds more than {MAX_NODES} values"),
        B::Documents { .. } => "it holds more than one YAML document".to_owned(),
        other => format!("{other:?}"),
    };
    format!("the manifest is too large to read: {what}")
}

/// The known word closest to `word`, if it is plausibly a typo of it.
pub fn nearest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(word, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn diagnostic(
    text: &str,
    origin: &str,
    location: Option<&Location>,
    message: String,
    label: &str,
    help: Option<String>,
) -> ManifestError {
    let (line, column) = location
        .filter(|l| l.line() > 0)
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((0, 0));
    let span = location.filter(|l| l.line() > 0).map(|l| {
        let offset = l
            .span()
            .byte_offset()
            .map(|o| o as usize)
            .unwrap_or_else(|| byte_offset_of(text, line, column));
        let len = l
            .span()
            .byte_len()
            .map(|n| n as usize)
            .filter(|&n| n > 0)
            .unwrap_or_else(|| {
                // Underline the word that starts here.
                text[offset.min(text.len())..]
                    .find(|c: char| c.is_whitespace() || c == ':' || c == ',' || c == ']')
                    .unwrap_or(0)
                    .max(1)
            });
        SourceSpan::new(offset.min(text.len()).into(), len)
    });
    let message = if line > 0 {
        format!("{origin}:{line}:{column}: {message}")
    } else {
        format!("{origin}: {message}")
    };
    ManifestError {
        message,
        help,
        source_code: NamedSource::new(origin, text.to_owned()),
        span,
        label: label.to_owned(),
        line,
        column,
    }
}

fn byte_offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = &text[line_start..];
    line_start
        + line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map(|(i, _)| i)
            .unwrap_or(0)
}

/// The commented starter manifest `git agent init` writes.
pub const STARTER: &str = r#"# .git-agent.yaml: how AI coding agents may work on this repository.
# git-agent reads this file from the base branch's committed tree, never from
# a working copy: commit a change to it on the base before it takes effect.
version: 1

defaults:
  # The branch agents start from and land into.
  base: BASE
  # Where `git agent add NAME` puts each agent's worktree ({repo}, {name}).
  worktrees: ../{repo}.agents/{name}
  # How `git agent land` integrates: merge | squash | rebase | ff
  strategy: merge
  # Run every `git agent exec` as `exec --sandbox` (writes confined to the
  # agent's scope; Linux with Landlock only).
  # sandbox: true
  # Make every agent's worktree sparse: only its scope and `context` are
  # checked out (as `git agent add --sparse`).
  # sparse: true

# Paths no agent may change, whatever its scope (.gitignore syntax).
# .git-agent.yaml itself is always protected.
protected: []
#  - .github/
#  - Cargo.lock

# Named scopes for `git agent add NAME --area AREA`. Patterns use .gitignore
# syntax; the last matching pattern wins and `!` always excludes.
areas: {}
#  billing: [src/billing/, tests/billing/, "!src/billing/secrets/"]

# Standing agents, known without `git agent add` (CI and bare repositories
# check them with `git agent scope check --agent NAME --range A..B`).
agents: {}
#  docs-bot: { scope: ["*.md", docs/], role: proposer }

# What sparse worktrees (`git agent add --sparse`, or `sparse: true` under
# defaults) check out besides the agent's scope: files agents must read but
# not change. A list of directories (`libs/shared/`) or root files
# (`/Cargo.toml`) keeps git's fast cone mode.
context: []
#  - /Cargo.toml
#  - libs/shared/

# Untracked files copied into each new worktree.
copy: []
# Commands run in each new worktree.
setup: []
# Commands that must pass on the merged result before `git agent land`.
checks: []

limits: {}
#  max_files_per_commit: 200

# What `git agent exec --sandbox` also lets a command write, relative to the
# worktree (build output, installed packages).
# sandbox:
#   writable: [target/, node_modules/]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_parses() {
        let m = Manifest::parse(&STARTER.replace("BASE", "main"), "starter").unwrap();
        assert_eq!(m.defaults.base.as_deref(), Some("main"));
        assert_eq!(
            m.defaults.worktrees.as_deref(),
            Some("../{repo}.agents/{name}")
        );
    }

    #[test]
    fn spec_example_parses() {
        let text = r#"version: 1
defaults:
  base: main
  worktrees: ../{repo}.agents/{name}
  strategy: merge
protected:
  - .github/
  - Cargo.lock
areas:
  billing: [src/billing/, tests/billing/, "!src/billing/secrets/"]
agents:
  docs-bot: { scope: ["*.md", docs/], role: proposer }
copy: [.env, .env.local]
setup: ["npm ci"]
checks: ["cargo test"]
limits: { max_files_per_commit: 200 }
"#;
        let m = Manifest::parse(text, "x").unwrap();
        assert_eq!(m.areas["billing"].len(), 3);
        assert_eq!(m.agents["docs-bot"].role, Role::Proposer);
        assert_eq!(m.limits.max_files_per_commit, Some(200));
    }
}

#[cfg(test)]
mod error_tests {
    use super::*;

    fn err(text: &str) -> ManifestError {
        match Manifest::parse(text, ".git-agent.yaml") {
            Err(Error::Manifest(m)) => *m,
            other => panic!("expected a manifest error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_key_suggests_nearest() {
        let e = err("version: 1\nprotcted: [a/]\n");
        assert_eq!((e.line, e.column), (2, 1), "{e:?}");
        assert!(
            e.help
                .as_deref()
                .unwrap()
                .contains("did you mean `protected`"),
            "{:?}",
            e.help
        );
        let e = err("version: 1\ndefaults:\n  bsae: main\n");
        assert_eq!((e.line, e.column), (3, 3), "{e:?}");
        assert!(e.help.as_deref().unwrap().contains("`base`"));
    }

    #[test]
    fn duplicate_key_is_an_error() {
        let e = err("version: 1\nareas:\n  a: [x/]\n  a: [y/]\n");
        assert_eq!(e.line, 4, "{e:?}");
        assert!(e.message.contains("duplicate"), "{}", e.message);
    }

    #[test]
    fn bad_glob_is_shown_in_place() {
        let e = err("version: 1\nprotected: [ok/, \"src/[ab\"]\n");
        assert_eq!((e.line, e.column), (2, 18), "{e:?}");
        assert!(e.message.contains("unclosed '['"), "{}", e.message);
    }

    #[test]
    fn wrong_version_is_an_error() {
        let e = err("version: 2\n");
        assert_eq!((e.line, e.column), (1, 10), "{e:?}");
        assert!(e.message.contains("unsupported manifest version 2"));
        let e = err("protected: []\n");
        assert!(e.message.contains("version"), "{}", e.message);
    }

    #[test]
    fn sandbox_keys_parse() {
        let m = Manifest::parse(
            "version: 1\ndefaults: { sandbox: true }\nsandbox:\n  writable: [target/, ./node_modules]\n",
            "x",
        )
        .unwrap();
        assert!(m.defaults.sandbox);
        assert_eq!(m.sandbox.writable, ["target/", "./node_modules"]);
        assert!(
            !Manifest::parse("version: 1\n", "x")
                .unwrap()
                .defaults
                .sandbox
        );
    }

    #[test]
    fn sandbox_writable_outside_the_worktree_is_shown_in_place() {
        let e = err("version: 1\nsandbox:\n  writable: [target/, /etc]\n");
        assert_eq!((e.line, e.column), (3, 23), "{e:?}");
        assert!(e.message.contains("'/etc' is absolute"), "{}", e.message);
        let e = err("version: 1\nsandbox:\n  writable:\n    - build/../../x\n");
        assert_eq!((e.line, e.column), (4, 7), "{e:?}");
        assert!(e.message.contains("`..`"), "{}", e.message);
        let e = err("version: 1\ndefaults: { sandbox: maybe }\n");
        assert_eq!(e.line, 2, "{e:?}");
    }

    #[test]
    fn context_and_sparse_parse() {
        let m = Manifest::parse(
            "version: 1\ndefaults: { sparse: true }\ncontext: [/Cargo.toml, libs/shared/, \"*.proto\"]\n",
            "x",
        )
        .unwrap();
        assert!(m.defaults.sparse);
        assert_eq!(m.context, ["/Cargo.toml", "libs/shared/", "*.proto"]);
        let m = Manifest::parse("version: 1\n", "x").unwrap();
        assert!(!m.defaults.sparse);
        assert!(m.context.is_empty());
    }

    #[test]
    fn bad_context_pattern_is_shown_in_place() {
        let e = err("version: 1\ncontext:\n  - Cargo.toml\n  - \"libs/[ab\"\n");
        assert_eq!((e.line, e.column), (4, 5), "{e:?}");
        assert!(e.message.contains("unclosed '['"), "{}", e.message);
        let e = err("version: 1\ncontext: [libs/, \"!libs/big/\"]\n");
        assert_eq!((e.line, e.column), (2, 18), "{e:?}");
        assert!(e.message.contains("bad context pattern"), "{}", e.message);
        let e = err("version: 1\ncontext: Cargo.toml\n");
        assert_eq!(e.line, 2, "{e:?}");
        let e = err("version: 1\ndefaults: { sparse: often }\n");
        assert_eq!(e.line, 2, "{e:?}");
    }

    #[test]
    fn bad_agent_name_points_at_key() {
        let e = err("version: 1\nagents:\n  -bad: { scope: [x/] }\n");
        assert_eq!((e.line, e.column), (3, 3), "{e:?}");
    }

    #[test]
    fn overlapping_branch_patterns_are_located() {
        let e = err(
            "version: 1\nagents:\n  copilot: { branches: [\"copilot/*\"], scope: [a/] }\n  codex: { branches: [\"codex/*\", \"*/fix-1\"], scope: [b/] }\n",
        );
        // Agents are read in name order: codex's patterns are known when
        // copilot's is read.
        assert_eq!((e.line, e.column), (3, 25), "{e:?}");
        assert!(
            e.message.contains("overlaps '*/fix-1' of agent 'codex'"),
            "{}",
            e.message
        );
        assert!(e.message.contains("'copilot/fix-1'"), "{}", e.message);
        let e = err(
            "version: 1\nagents:\n  a: { branches: [\"x/*\"], scope: [a/] }\n  b: { branches: [\"x/*\"], scope: [b/] }\n",
        );
        assert!(e.line == 3 || e.line == 4, "{e:?}");
        // A pattern that takes another standing agent's own branch.
        let e = err(
            "version: 1\nagents:\n  docs: { scope: [a/] }\n  bot: { branches: [\"agent/*\"], scope: [b/] }\n",
        );
        assert!(
            e.message.contains("agent 'docs''s own branch 'agent/docs'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn bad_branch_pattern_is_located() {
        let e = err("version: 1\nagents:\n  a: { branches: [\"refs/heads/x\"], scope: [a/] }\n");
        assert_eq!((e.line, e.column), (3, 19), "{e:?}");
    }

    #[test]
    fn branch_owner_prefers_patterns_then_agent_name() {
        let m = Manifest::parse(
            "version: 1\nagents:\n  copilot: { branches: [\"copilot/*\"], scope: [a/] }\n",
            "x",
        )
        .unwrap();
        assert_eq!(m.branch_owner("copilot/fix").as_deref(), Some("copilot"));
        assert_eq!(
            m.branch_owner("refs/heads/copilot/fix").as_deref(),
            Some("copilot")
        );
        assert_eq!(m.branch_owner("agent/billing").as_deref(), Some("billing"));
        assert_eq!(m.branch_owner("feature/x"), None);
        assert_eq!(m.branch_owner("agent/"), None);
    }

    #[test]
    fn require_receipts_needs_humans() {
        let e = err("version: 1\nserver:\n  require_receipts: true\n");
        assert_eq!((e.line, e.column), (3, 21), "{e:?}");
        assert!(
            e.message.contains("server.humans is missing"),
            "{}",
            e.message
        );
        let m = Manifest::parse(
            "version: 1\nserver: { require_receipts: true, humans: [alice] }\n",
            "x",
        )
        .unwrap();
        assert!(m.server.require_receipts);
        assert_eq!(m.server.humans, ["alice"]);
    }
}
