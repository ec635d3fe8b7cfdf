//! Guardrails: an agent's scope compiled into the permission files of the
//! coding agents people run (Claude Code, Codex, Cursor, Gemini), written
//! into its worktree so that the agent is right the first time. The gate,
//! the sandbox and `land` stay the guarantee; these are the first line.
//!
//! What we wrote is recorded in the worktree's git directory
//! (`git-agent-guardrails.json`), so that a rewrite removes exactly our
//! entries from a settings file a person also edits. The files never show
//! in `git status`: each directory we write into gets a `.gitignore` naming
//! our files and itself, which git and gix both honour in that worktree only.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// The agent tools we write guardrails for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    /// Claude Code: `.claude/settings.local.json` (permissions and a PreToolUse hook).
    Claude,
    /// Codex CLI: a permission profile in `.codex/config.toml`.
    Codex,
    /// Cursor CLI: `Write(...)` rules in `.cursor/cli.json`.
    Cursor,
    /// Gemini CLI: a policy in `.gemini/policies/git-agent.toml`.
    Gemini,
}

/// Every tool, the default of `add`.
pub const ALL: [Tool; 4] = [Tool::Claude, Tool::Codex, Tool::Cursor, Tool::Gemini];

/// The Claude Code tools that write files: the hook's matcher.
pub const CLAUDE_EDIT_TOOLS: &str = "Edit|MultiEdit|Write|NotebookEdit";

const RECORD: &str = "git-agent-guardrails.json";
const MARK_BEGIN: &str = "# >>> git-agent guardrails (rewritten by `git agent guard`)";
const MARK_END: &str = "# <<< git-agent guardrails";
const PROFILE: &str = "git-agent";

/// What the guardrails say: the agent's scope patterns in order (`!` for
/// exclusions) and the policy's protected paths.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub scope: Vec<String>,
    pub protected: Vec<String>,
}

/// What we wrote last time, to replace exactly that.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    tools: Vec<Tool>,
    #[serde(default)]
    claude: Entries,
    #[serde(default)]
    cursor: Entries,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
struct Entries {
    allow: Vec<String>,
    deny: Vec<String>,
}

/// One scope pattern taken apart: where it is rooted and what it names.
struct Glob {
    /// `src/**`, `**/*.md`: relative to the worktree root, no leading `/`.
    paths: Vec<String>,
    negated: bool,
}

/// The globs (relative to the root, `**` for any depth) one .gitignore
/// pattern names: a pattern without a slash matches at any depth, a
/// directory pattern everything below it, and a plain name either a file
/// or a directory.
fn globs(pattern: &str) -> Glob {
    let negated = pattern.starts_with('!');
    let body = pattern.trim_start_matches('!');
    let (body, dir) = match body.strip_suffix('/') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let rooted = if body.contains('/') {
        body.trim_start_matches('/').to_owned()
    } else {
        format!("**/{body}")
    };
    let rooted = rooted
        .strip_prefix("**/**")
        .map_or(rooted.clone(), |r| format!("**{r}"));
    let paths = if dir || rooted.ends_with("/**") {
        vec![if dir { format!("{rooted}/**") } else { rooted }]
    } else {
        vec![rooted.clone(), format!("{rooted}/**")]
    };
    Glob { paths, negated }
}

/// The allowed and denied globs: the scope's own patterns, then its
/// exclusions and the protected paths (the manifest always among them).
fn allow_deny(rules: &Rules) -> (Vec<String>, Vec<String>) {
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for p in &rules.scope {
        let g = globs(p);
        if g.negated {
            deny.extend(g.paths);
        } else {
            allow.extend(g.paths);
        }
    }
    let manifest = format!("/{}", crate::policy::manifest::MANIFEST_FILE);
    for p in std::iter::once(&manifest).chain(&rules.protected) {
        let g = globs(p);
        if !g.negated {
            deny.extend(g.paths);
        }
    }
    dedup(&mut allow);
    dedup(&mut deny);
    (allow, deny)
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

/// The command the Claude Code hook runs: this program, by its full path
/// when known, so that the hook works without git-agent on PATH.
pub fn hook_command() -> String {
    let exe = std::env::current_exe()
        .ok()
        .filter(|p| p.file_stem().is_some_and(|s| s == "git-agent"))
        .map(|p| crate::ops::gate::shell_quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "git-agent".to_owned());
    format!("{exe} scope check --claude-hook")
}

/// Write the guardrails of `tools` into the worktree at `worktree` whose git
/// directory is `git_dir`, replacing what we wrote there before. Every
/// settings file is read and checked before any is written, so a file that
/// is not valid leaves everything unchanged. Returns the files written.
pub fn write(
    worktree: &Path,
    git_dir: &Path,
    rules: &Rules,
    tools: &[Tool],
) -> Result<Vec<PathBuf>> {
    let old = read_record(git_dir)?;
    let (allow, deny) = allow_deny(rules);
    let mut plan: Vec<(PathBuf, String)> = Vec::new();
    let mut record = Record {
        tools: tools.to_vec(),
        ..Record::default()
    };
    for tool in tools {
        match tool {
            Tool::Claude => {
                let ours = Entries {
                    allow: allow.iter().map(|g| format!("Edit(/{g})")).collect(),
                    deny: deny.iter().map(|g| format!("Edit(/{g})")).collect(),
                };
                let path = worktree.join(".claude/settings.local.json");
                plan.push((path.clone(), claude_settings(&path, &old.claude, &ours)?));
                record.claude = ours;
            }
            Tool::Cursor => {
                let ours = Entries {
                    allow: allow.iter().map(|g| format!("Write({g})")).collect(),
                    deny: deny.iter().map(|g| format!("Write({g})")).collect(),
                };
                let path = worktree.join(".cursor/cli.json");
                plan.push((path.clone(), cursor_settings(&path, &old.cursor, &ours)?));
                record.cursor = ours;
            }
            Tool::Codex => {
                let path = worktree.join(".codex/config.toml");
                plan.push((path.clone(), codex_config(&path, &allow, &deny)?));
            }
            Tool::Gemini => {
                let path = worktree.join(".gemini/policies/git-agent.toml");
                plan.push((path, gemini_policy(worktree, &allow, &deny)));
            }
        }
    }
    for tool in old.tools.iter().filter(|t| !tools.contains(t)) {
        remove_ours(worktree, *tool, &old)?;
    }
    let mut written = Vec::new();
    for (path, text) in plan {
        write_file(&path, &text)?;
        exclude(&path)?;
        written.push(path);
    }
    let text = serde_json::to_string_pretty(&record).expect("serialises");
    write_file(&git_dir.join(RECORD), &text)?;
    Ok(written)
}

/// The tools written last time in the worktree whose git directory is
/// `git_dir`; none when `add` was told `--guardrails none`.
pub fn written_tools(git_dir: &Path) -> Result<Vec<Tool>> {
    Ok(read_record(git_dir)?.tools)
}

fn read_record(git_dir: &Path) -> Result<Record> {
    let path = git_dir.join(RECORD);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(serde_json::from_str(&text).unwrap_or_default()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
        Err(e) => Err(Error::io(format!("reading {}", path.display()))(e)),
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    }
    std::fs::write(path, text).map_err(Error::io(format!("writing {}", path.display())))
}

/// A JSON settings file as an object: none yet is an empty one; one that is
/// not a JSON object is refused, naming the file, and left unchanged.
fn json_object(path: &Path) -> Result<serde_json::Map<String, Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
    };
    if text.trim().is_empty() {
        return Ok(Default::default());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(not_json(path, "it is JSON, but not an object")),
        Err(e) => Err(not_json(path, &e.to_string())),
    }
}

fn not_json(path: &Path, why: &str) -> Error {
    Error::usage(
        format!(
            "{} is not a JSON settings object ({why}); it was left unchanged",
            path.display()
        ),
        "fix or remove the file, then run `git agent guard NAME` (or choose other tools with --guardrails)",
    )
}

/// `map[key]` as an array of strings, with `old` taken out and `new` added.
fn replace_entries(
    map: &mut serde_json::Map<String, Value>,
    key: &str,
    old: &[String],
    new: &[String],
) {
    let list = map.entry(key).or_insert_with(|| json!([]));
    if !list.is_array() {
        // A person's non-list value is theirs; ours go nowhere rather than over it.
        return;
    }
    let items = list.as_array_mut().expect("checked");
    items.retain(|v| !v.as_str().is_some_and(|s| old.iter().any(|o| o == s)));
    for n in new {
        if !items.iter().any(|v| v.as_str() == Some(n)) {
            items.push(Value::String(n.clone()));
        }
    }
}

fn permissions<'a>(
    map: &'a mut serde_json::Map<String, Value>,
    path: &Path,
) -> Result<&'a mut serde_json::Map<String, Value>> {
    map.entry("permissions")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| not_json(path, "its `permissions` is not an object"))
}

fn claude_settings(path: &Path, old: &Entries, ours: &Entries) -> Result<String> {
    let mut map = json_object(path)?;
    let perms = permissions(&mut map, path)?;
    replace_entries(perms, "allow", &old.allow, &ours.allow);
    replace_entries(perms, "deny", &old.deny, &ours.deny);
    let hooks = map
        .entry("hooks")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| not_json(path, "its `hooks` is not an object"))?;
    let pre = hooks.entry("PreToolUse").or_insert_with(|| json!([]));
    let pre = pre
        .as_array_mut()
        .ok_or_else(|| not_json(path, "its `hooks.PreToolUse` is not a list"))?;
    pre.retain(|entry| !is_our_hook(entry));
    pre.push(json!({
        "matcher": CLAUDE_EDIT_TOOLS,
        "hooks": [{"type": "command", "command": hook_command()}]
    }));
    Ok(serde_json::to_string_pretty(&Value::Object(map)).expect("serialises") + "\n")
}

/// Our PreToolUse entry: the one whose command is our hook.
fn is_our_hook(entry: &Value) -> bool {
    entry["hooks"].as_array().is_some_and(|hooks| {
        hooks.iter().any(|h| {
            h["command"]
                .as_str()
                .is_some_and(|c| c.ends_with("scope check --claude-hook"))
        })
    })
}

fn cursor_settings(path: &Path, old: &Entries, ours: &Entries) -> Result<String> {
    let mut map = json_object(path)?;
    let perms = permissions(&mut map, path)?;
    replace_entries(perms, "allow", &old.allow, &ours.allow);
    replace_entries(perms, "deny", &old.deny, &ours.deny);
    Ok(serde_json::to_string_pretty(&Value::Object(map)).expect("serialises") + "\n")
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).expect("serialises")
}

/// `.codex/config.toml` with our profile: the worktree readable, the scope
/// writable, the protected paths read-only. A person's file keeps its
/// content; our two marked blocks (the profile's selection, which must come
/// before any table, and the profile) are replaced. A `default_permissions`
/// of their own wins over ours.
fn codex_config(path: &Path, allow: &[String], deny: &[String]) -> Result<String> {
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
    };
    let theirs = strip_marked(&existing);
    let selects_own = theirs
        .lines()
        .any(|l| l.trim_start().starts_with("default_permissions"));
    let mut out = String::new();
    if !selects_own {
        out.push_str(&format!(
            "{MARK_BEGIN}\ndefault_permissions = {}\n{MARK_END}\n",
            toml_str(PROFILE)
        ));
    }
    out.push_str(&theirs);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "{MARK_BEGIN}\n[permissions.{PROFILE}.filesystem.\":workspace_roots\"]\n\".\" = \"read\"\n"
    ));
    for g in allow {
        out.push_str(&format!("{} = \"write\"\n", toml_str(g)));
    }
    for g in deny {
        out.push_str(&format!("{} = \"read\"\n", toml_str(g)));
    }
    out.push_str(MARK_END);
    out.push('\n');
    Ok(out)
}

/// `text` without our marked blocks.
fn strip_marked(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line == MARK_BEGIN {
            inside = true;
        } else if line == MARK_END {
            inside = false;
        } else if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A regular expression for one glob, matched inside the JSON of a tool's
/// arguments, where the path is a string value.
fn glob_regex(glob: &str) -> String {
    let mut re = String::new();
    let mut rest = glob;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("**/") {
            re.push_str("(?:[^\"]*/)?");
            rest = r;
        } else if let Some(r) = rest.strip_prefix("**") {
            re.push_str("[^\"]*");
            rest = r;
        } else {
            let c = rest.chars().next().expect("not empty");
            match c {
                '*' => re.push_str("[^/\"]*"),
                '?' => re.push_str("[^/\"]"),
                c if "\\.+()|{}[]^$".contains(c) => {
                    re.push('\\');
                    re.push(c);
                }
                c => re.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    re
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if "\\.+*?()|{}[]^$".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Gemini CLI's write tools.
const GEMINI_WRITE_TOOLS: &[&str] = &["write_file", "replace"];

/// `.gemini/policies/git-agent.toml`: deny the write tools on any path
/// outside the scope (one rule, a negative look-ahead over the scope), and
/// on the protected paths. Paths may come absolute or relative to the root.
fn gemini_policy(worktree: &Path, allow: &[String], deny: &[String]) -> String {
    let root = regex_escape(&format!("{}/", worktree.display()));
    let path_re = |globs: &[String]| {
        let alts: Vec<String> = globs.iter().map(|g| glob_regex(g)).collect();
        format!(
            "\"file_path\":\"(?:{root})?(?:{})\"",
            if alts.is_empty() {
                "(?!)".to_owned()
            } else {
                alts.join("|")
            }
        )
    };
    let tools: Vec<String> = GEMINI_WRITE_TOOLS.iter().map(|t| toml_str(t)).collect();
    let tools = tools.join(", ");
    let outside = format!(
        "\"file_path\":\"(?!(?:{root})?(?:{})\")",
        if allow.is_empty() {
            "(?!)".to_owned()
        } else {
            allow
                .iter()
                .map(|g| glob_regex(g))
                .collect::<Vec<_>>()
                .join("|")
        }
    );
    format!(
        "{MARK_BEGIN}\n\
         [[rule]]\ntoolName = [{tools}]\nargsPattern = {}\ndecision = \"deny\"\npriority = 900\n\
         denyMessage = {}\n\n\
         [[rule]]\ntoolName = [{tools}]\nargsPattern = {}\ndecision = \"deny\"\npriority = 900\n\
         denyMessage = {}\n{MARK_END}\n",
        toml_str(&outside),
        toml_str(
            "outside this agent's git-agent scope; check a path with `git agent scope check --paths P`"
        ),
        toml_str(&path_re(deny)),
        toml_str("a protected path of the git-agent policy"),
    )
}

/// Keep `path` out of `git status`: a `.gitignore` beside it naming it and
/// itself. Ours is recognised by its first line; a `.gitignore` of a person
/// (or a tracked one) there gets our lines appended only when missing.
fn exclude(path: &Path) -> Result<()> {
    let dir = path.parent().expect("a file in a directory");
    let name = path.file_name().expect("a file").to_string_lossy();
    let ignore = dir.join(".gitignore");
    let existing = std::fs::read_to_string(&ignore).unwrap_or_default();
    let entry = format!("/{name}");
    if existing.lines().any(|l| l == entry) {
        return Ok(());
    }
    let mut text = if existing.is_empty() {
        "# written by git-agent: its guardrails stay out of git\n/.gitignore\n".to_owned()
    } else {
        existing
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&entry);
    text.push('\n');
    write_file(&ignore, &text)
}

/// Take our entries out of the files of `tool`, which is no longer chosen.
fn remove_ours(worktree: &Path, tool: Tool, old: &Record) -> Result<()> {
    let none = Entries::default();
    let (path, text) = match tool {
        Tool::Claude => {
            let path = worktree.join(".claude/settings.local.json");
            let mut map = json_object(&path)?;
            let perms = permissions(&mut map, &path)?;
            replace_entries(perms, "allow", &old.claude.allow, &none.allow);
            replace_entries(perms, "deny", &old.claude.deny, &none.deny);
            if let Some(pre) = map["hooks"]["PreToolUse"].as_array_mut() {
                pre.retain(|e| !is_our_hook(e));
            }
            (
                path,
                serde_json::to_string_pretty(&Value::Object(map)).expect("serialises"),
            )
        }
        Tool::Cursor => {
            let path = worktree.join(".cursor/cli.json");
            let mut map = json_object(&path)?;
            let perms = permissions(&mut map, &path)?;
            replace_entries(perms, "allow", &old.cursor.allow, &none.allow);
            replace_entries(perms, "deny", &old.cursor.deny, &none.deny);
            (
                path,
                serde_json::to_string_pretty(&Value::Object(map)).expect("serialises"),
            )
        }
        Tool::Codex => {
            let path = worktree.join(".codex/config.toml");
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            (path, strip_marked(&text))
        }
        Tool::Gemini => {
            let path = worktree.join(".gemini/policies/git-agent.toml");
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io(format!("removing {}", path.display()))(e))
                }
                _ => Ok(()),
            };
        }
    };
    if path.exists() {
        write_file(&path, &text)?;
    }
    Ok(())
}

/// The rules of registered agent `name`, with the agent.
pub fn rules_of(
    repo: &gix::Repository,
    name: &str,
) -> Result<(Rules, crate::state::registry::Agent)> {
    let Some(subject) = crate::ops::gate::resolve_subject(repo, Some(name), None)? else {
        return Err(Error::usage(
            format!("no agent '{name}'"),
            "see `git agent list`",
        ));
    };
    let Some(agent) = subject.registered.clone() else {
        return Err(Error::usage(
            format!("'{name}' is a standing agent of the policy, with no worktree of its own"),
            "guardrails go into a worktree: create it with `git agent add NAME`",
        ));
    };
    let rules = Rules {
        scope: subject.patterns.iter().map(|(p, _)| p.clone()).collect(),
        protected: subject.manifest.protected.clone(),
    };
    Ok((rules, agent))
}

/// The git directory of the worktree (or clone) at `path`.
pub fn git_dir_of(path: &Path) -> Result<PathBuf> {
    let repo = gix::open(path).map_err(|e| {
        Error::usage(
            format!("{} is not a git worktree ({e})", path.display()),
            "run `git agent doctor` to repair the agent",
        )
    })?;
    Ok(repo.git_dir().to_owned())
}

/// Write agent `name`'s guardrails for `tools` and its brief into its
/// directory `path`, as `add` does; `restore` and `doctor --fix`, which
/// make the directory anew, write the default ones ([`ALL`]).
pub fn provide(repo: &gix::Repository, name: &str, path: &Path, tools: &[Tool]) -> Result<()> {
    let (rules, _) = rules_of(repo, name)?;
    let git_dir = git_dir_of(path)?;
    write(path, &git_dir, &rules, tools)?;
    crate::ops::brief::write(repo, name, path)?;
    Ok(())
}

/// Whether the agent directory at `path` never had its guardrails
/// written: its git directory holds no record of them, not even of
/// `--guardrails none` (an `add` stopped before it wrote them, or a
/// directory made anew by an older version).
pub fn never_written(path: &Path) -> bool {
    git_dir_of(path).is_ok_and(|dir| !dir.join(RECORD).exists())
}

/// Rewrite agent `name`'s guardrails (and brief) after its scope changed, for the tools
/// it has them for (none when it was added with `--guardrails none`).
pub fn refresh(repo: &gix::Repository, name: &str) -> Result<Vec<PathBuf>> {
    let (rules, agent) = rules_of(repo, name)?;
    let git_dir = git_dir_of(&agent.path)?;
    // The brief names the scope too.
    if crate::ops::brief::path_of(&agent.path).is_some() {
        crate::ops::brief::write(repo, name, &agent.path)?;
    }
    let tools = written_tools(&git_dir)?;
    if tools.is_empty() {
        return Ok(Vec::new());
    }
    write(&agent.path, &git_dir, &rules, &tools)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_become_rooted_globs() {
        assert_eq!(globs("src/").paths, vec!["**/src/**"]);
        assert_eq!(globs("src/gen/").paths, vec!["src/gen/**"]);
        assert_eq!(globs("/src/**").paths, vec!["src/**"]);
        assert_eq!(globs("*.md").paths, vec!["**/*.md", "**/*.md/**"]);
        assert_eq!(
            globs("docs/a.txt").paths,
            vec!["docs/a.txt", "docs/a.txt/**"]
        );
        assert!(globs("!src/gen/").negated);
    }

    #[test]
    fn glob_regexes_stay_inside_one_component() {
        assert_eq!(glob_regex("src/**"), "src/[^\"]*");
        assert_eq!(glob_regex("**/*.md"), "(?:[^\"]*/)?[^/\"]*\\.md");
    }
}
