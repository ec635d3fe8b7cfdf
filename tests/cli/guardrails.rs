//! Guardrails: the scope in the permission files of Claude Code, Codex,
//! Cursor and Gemini, and the Claude Code hook (issue 19).

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::support::*;

fn env_with_agent() -> Env {
    let env = Env::with_policy("version: 1\nprotected: [src/secret/]\n");
    env.ok(env.agent("add", &["fe", "--scope", "src/", "--scope", "!src/gen/"]));
    env
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Pipe `json` into the Claude Code hook, started in `dir`.
fn hook(env: &Env, dir: &Path, json: &str) -> Run {
    let mut child = env
        .command(bin("git-agent"), dir)
        .args(["scope", "check", "--claude-hook"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    Run::from_output(child.wait_with_output().unwrap())
}

/// A PreToolUse input as Claude Code sends it.
fn pre_tool_use(cwd: &Path, tool: &str, input: serde_json::Value) -> String {
    serde_json::json!({
        "session_id": "abc123",
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": input,
    })
    .to_string()
}

#[test]
fn claude_settings_have_the_documented_shape() {
    let env = env_with_agent();
    let settings = read_json(&env.agent_dir("fe").join(".claude/settings.local.json"));
    let allow = strings(&settings["permissions"]["allow"]);
    let deny = strings(&settings["permissions"]["deny"]);
    assert!(allow.contains(&"Edit(/**/src/**)".to_owned()), "{allow:?}");
    assert!(
        deny.contains(&"Edit(/src/secret/**)".to_owned()),
        "{deny:?}"
    );
    assert!(deny.contains(&"Edit(/src/gen/**)".to_owned()), "{deny:?}");
    assert!(
        deny.contains(&"Edit(/.git-agent.yaml)".to_owned()),
        "{deny:?}"
    );
    let pre = settings["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0]["matcher"], "Edit|MultiEdit|Write|NotebookEdit");
    assert_eq!(pre[0]["hooks"][0]["type"], "command");
    let command = pre[0]["hooks"][0]["command"].as_str().unwrap();
    assert!(command.ends_with("scope check --claude-hook"), "{command}");
}

#[test]
fn cursor_codex_and_gemini_files_have_the_documented_shape() {
    let env = env_with_agent();
    let dir = env.agent_dir("fe");
    let cursor = read_json(&dir.join(".cursor/cli.json"));
    assert!(strings(&cursor["permissions"]["allow"]).contains(&"Write(**/src/**)".to_owned()));
    assert!(strings(&cursor["permissions"]["deny"]).contains(&"Write(src/secret/**)".to_owned()));

    // Codex: the selection is a top-level key, so it comes before any table.
    let codex = std::fs::read_to_string(dir.join(".codex/config.toml")).unwrap();
    let lines: Vec<&str> = codex.lines().collect();
    let select = lines
        .iter()
        .position(|l| *l == "default_permissions = \"git-agent\"")
        .expect(&codex);
    let table = lines
        .iter()
        .position(|l| *l == "[permissions.git-agent.filesystem.\":workspace_roots\"]")
        .expect(&codex);
    assert!(lines.iter().position(|l| l.starts_with('[')).unwrap() > select);
    assert_eq!(lines[table + 1], "\".\" = \"read\"", "{codex}");
    assert!(lines.contains(&"\"**/src/**\" = \"write\""), "{codex}");
    assert!(lines.contains(&"\"src/secret/**\" = \"read\""), "{codex}");

    let gemini = std::fs::read_to_string(dir.join(".gemini/policies/git-agent.toml")).unwrap();
    assert_eq!(gemini.matches("[[rule]]").count(), 2, "{gemini}");
    assert_eq!(
        gemini
            .matches("toolName = [\"write_file\", \"replace\"]")
            .count(),
        2
    );
    assert_eq!(gemini.matches("decision = \"deny\"").count(), 2);
    assert!(
        gemini.contains("argsPattern = \"\\\"file_path\\\":\\\"(?!"),
        "{gemini}"
    );
}

#[test]
fn guardrails_stay_out_of_status_list_and_rm() {
    let env = env_with_agent();
    let dir = env.agent_dir("fe");
    assert!(dir.join(".claude/settings.local.json").exists());
    let status = env.git_in(&dir, &["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(status, "");
    let list = json_of(&env.ok(env.agent("list", &["--json"])));
    assert_eq!(list["agents"][0]["untracked"], 0, "{list}");
    // Nothing to lose: rm needs no --force.
    env.ok(env.agent("rm", &["fe"]));
    assert!(!dir.exists());
}

#[test]
fn the_hook_allows_in_scope_silently_and_blocks_the_rest() {
    let env = env_with_agent();
    let dir = env.agent_dir("fe");
    let write = |path: &str| {
        pre_tool_use(
            &dir,
            "Write",
            serde_json::json!({"file_path": path, "content": "x"}),
        )
    };
    let inside = dir.join("src/new.rs").to_string_lossy().into_owned();
    let run = hook(&env, &dir, &write(&inside));
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );

    let outside = dir.join("docs/x.md").to_string_lossy().into_owned();
    let run = hook(&env, &dir, &write(&outside));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("outside the scope of agent 'fe'"),
        "{run:?}"
    );
    assert!(run.stderr.contains("docs/x.md"), "{run:?}");

    for bad in [
        dir.join("src/secret/key").to_string_lossy().into_owned(),
        dir.join("src/gen/out.rs").to_string_lossy().into_owned(),
        "/etc/passwd".to_owned(),
        "src/../../../repo/src/a.rs".to_owned(),
        dir.join("src/../.git-agent.yaml")
            .to_string_lossy()
            .into_owned(),
    ] {
        let run = hook(&env, &env.root, &write(&bad));
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(run.stderr.contains("refused"), "{bad}: {run:?}");
    }

    // A multi-edit with one path out of scope, a notebook out of scope.
    let multi = pre_tool_use(
        &dir,
        "MultiEdit",
        serde_json::json!({"file_path": inside, "edits": [
            {"old_string": "a", "new_string": "b"},
            {"file_path": outside, "old_string": "a", "new_string": "b"}]}),
    );
    assert_eq!(hook(&env, &dir, &multi).code, 2);
    let notebook = pre_tool_use(
        &dir,
        "NotebookEdit",
        serde_json::json!({"notebook_path": dir.join("nb.ipynb"), "new_source": "x"}),
    );
    assert_eq!(hook(&env, &dir, &notebook).code, 2);
    // Relative to the session's directory.
    let sub = dir.join("src");
    let rel = pre_tool_use(&sub, "Edit", serde_json::json!({"file_path": "lib.rs"}));
    assert_eq!(hook(&env, &env.root, &rel).code, 0);
}

#[test]
fn hook_input_that_is_not_the_hook_json_is_refused() {
    let env = env_with_agent();
    let dir = env.agent_dir("fe");
    for input in [
        "",
        "not json",
        "[]",
        "{\"cwd\": \"/\"}",
        &pre_tool_use(&dir, "Write", serde_json::json!({"content": "x"})),
        &pre_tool_use(&dir, "Write", serde_json::json!({"file_path": 7})),
        &serde_json::json!({"tool_input": {"file_path": "src/a.rs"}}).to_string(),
    ] {
        let run = hook(&env, &dir, input);
        assert_eq!(run.code, 2, "{input}: {run:?}");
        assert!(run.stderr.contains("--claude-hook expects"), "{run:?}");
    }
    // A directory that is no agent's worktree: refused, not allowed.
    let json = pre_tool_use(&env.repo(), "Write", serde_json::json!({"file_path": "a"}));
    let run = hook(&env, &env.repo(), &json);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no agent's worktree"), "{run:?}");
}

#[test]
fn guard_merges_keeps_a_persons_keys_and_replaces_ours() {
    let env = env_with_agent();
    let dir = env.agent_dir("fe");
    let path = dir.join(".claude/settings.local.json");
    let mut settings = read_json(&path);
    settings["model"] = "opus".into();
    settings["permissions"]["allow"]
        .as_array_mut()
        .unwrap()
        .push("Bash(cargo test:*)".into());
    std::fs::write(&path, settings.to_string()).unwrap();

    env.ok(env.agent("scope", &["set", "fe", "docs/"]));
    let after = read_json(&path);
    assert_eq!(after["model"], "opus");
    let allow = strings(&after["permissions"]["allow"]);
    assert!(
        allow.contains(&"Bash(cargo test:*)".to_owned()),
        "{allow:?}"
    );
    assert!(allow.contains(&"Edit(/**/docs/**)".to_owned()), "{allow:?}");
    assert!(!allow.contains(&"Edit(/**/src/**)".to_owned()), "{allow:?}");
    assert_eq!(after["hooks"]["PreToolUse"].as_array().unwrap().len(), 1);
    let codex = std::fs::read_to_string(dir.join(".codex/config.toml")).unwrap();
    assert!(codex.contains("\"**/docs/**\" = \"write\""), "{codex}");
    assert!(!codex.contains("\"**/src/**\""), "{codex}");
    assert_eq!(codex.matches("default_permissions").count(), 1, "{codex}");

    // guard again changes nothing.
    env.ok(env.agent("guard", &["fe"]));
    assert_eq!(read_json(&path), after);
    // Fewer tools: ours go from the others.
    env.ok(env.agent("guard", &["fe", "--guardrails", "claude"]));
    assert!(!dir.join(".gemini/policies/git-agent.toml").exists());
    let codex = std::fs::read_to_string(dir.join(".codex/config.toml")).unwrap();
    assert!(!codex.contains("git-agent"), "{codex}");
}

#[test]
fn settings_that_are_not_json_are_refused_and_left_alone() {
    let env = env_with_agent();
    let path = env.agent_dir("fe").join(".claude/settings.local.json");
    std::fs::write(&path, "{ not json").unwrap();
    let run = env.agent("guard", &["fe"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("settings.local.json"), "{run:?}");
    assert!(run.stderr.contains("not a JSON"), "{run:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
}

#[test]
fn guardrails_choice_at_add() {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["a", "--scope", "src/", "--guardrails", "none"]));
    assert!(!env.agent_dir("a").join(".claude").exists());
    assert!(!env.agent_dir("a").join(".codex").exists());
    env.ok(env.agent(
        "add",
        &["b", "--scope", "src/", "--guardrails", "claude,cursor"],
    ));
    assert!(
        env.agent_dir("b")
            .join(".claude/settings.local.json")
            .exists()
    );
    assert!(env.agent_dir("b").join(".cursor/cli.json").exists());
    assert!(!env.agent_dir("b").join(".codex").exists());

    let before = env.state();
    let run = env.agent(
        "add",
        &["c", "--scope", "src/", "--guardrails", "claude,vim"],
    );
    assert_bad_input(&env, &before, &run, &["vim"]);
    let run = env.agent(
        "add",
        &["c", "--scope", "src/", "--guardrails", "none,claude"],
    );
    assert_bad_input(&env, &before, &run, &["none"]);
}

#[test]
fn the_brief_tells_task_scope_rules_and_how_to_check() {
    let env = Env::with_policy("version: 1\nprotected: [Cargo.lock]\n");
    env.ok(env.agent(
        "add",
        &["fe", "--scope", "src/", "--task", "fix the parser"],
    ));
    let run = env.ok(env.agent("brief", &["fe"]));
    for needle in [
        "fix the parser",
        "- src/",
        "- Cargo.lock",
        "agent/fe",
        "Do not land",
        "git agent scope check --paths P",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {run:?}");
    }
    let json = json_of(&env.ok(env.agent("brief", &["fe", "--json"])));
    assert_eq!(json["task"], "fix the parser");
    assert_eq!(json["scope"][0], "src/");
    assert_eq!(json["check"], "git agent scope check --paths P");

    // add wrote it into the worktree's git directory; exec names it.
    let run = env.ok(env.agent(
        "exec",
        &["fe", "--", "sh", "-c", "cat \"$GIT_AGENT_BRIEF\""],
    ));
    assert!(run.stdout.contains("fix the parser"), "{run:?}");
    let dir = env.agent_dir("fe");
    assert_eq!(env.git_in(&dir, &["status", "--porcelain"]), "");
    // It follows the scope.
    env.ok(env.agent("scope", &["add", "fe", "docs/"]));
    let run = env.ok(env.agent(
        "exec",
        &["fe", "--", "sh", "-c", "cat \"$GIT_AGENT_BRIEF\""],
    ));
    assert!(run.stdout.contains("- docs/"), "{run:?}");
}

#[test]
fn a_scope_edit_with_broken_settings_saves_the_scope_and_warns() {
    let env = env_with_agent();
    let path = env.agent_dir("fe").join(".claude/settings.local.json");
    std::fs::write(&path, "{ not json").unwrap();
    let run = env.ok(env.agent("scope", &["add", "fe", "docs/"]));
    assert!(run.stderr.contains("not rewritten"), "{run:?}");
    assert!(run.stderr.contains("settings.local.json"), "{run:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
    let scope = env.ok(env.agent("scope", &["fe", "--json"]));
    assert!(scope.stdout.contains("docs/"), "{scope:?}");
}
