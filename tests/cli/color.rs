//! Colour: `--color`, git's `color.ui` (config and `git -c`), `NO_COLOR`,
//! and `auto` on a real terminal.

use std::path::Path;

use crate::support::*;

const ESC: &str = "\x1b[";

/// An agent whose worktree has an out-of-scope path staged.
fn refused_commit_setup() -> Env {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    let dir = env.agent_dir("billing");
    write_in(&dir, "src/api/routes.rs", "fn routes() { 1 }\n");
    write_in(&dir, "src/billing/invoice.rs", "fn total() { 1 }\n");
    env.git_in(&dir, &["add", "-A"]);
    env
}

/// Escapes made visible, so a snapshot shows exactly where colour goes.
fn visible(text: &str) -> String {
    text.replace('\x1b', "␛")
}

#[test]
fn the_flag_decides_first() {
    let env = Env::new();
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    let plain = env.ok(env.agent("list", &[]));
    assert!(
        !plain.stdout.contains(ESC),
        "NO_COLOR and no terminal: {plain:?}"
    );
    let always = env.ok(env.agent("list", &["--color", "always"]));
    assert!(always.stdout.contains("\x1b[1mbilling\x1b[m"), "{always:?}");
    assert_eq!(
        always
            .stdout
            .replace("\x1b[1m", "")
            .replace("\x1b[32m", "")
            .replace("\x1b[m", ""),
        plain.stdout,
        "colour changes nothing but colour"
    );
    let always = env.ok(env.agent("list", &["--color=always"]));
    assert!(always.stdout.contains(ESC));
    // --color never beats color.ui=always, from the config and from git -c.
    env.git(&["config", "color.ui", "always"]);
    let never = env.ok(env.agent("list", &["--color", "never"]));
    assert!(!never.stdout.contains(ESC), "{never:?}");
    env.git(&["config", "--unset", "color.ui"]);
    let never = env.ok(env.git_run(
        &env.repo(),
        &["-c", "color.ui=always", "agent", "list", "--color", "never"],
    ));
    assert!(!never.stdout.contains(ESC), "{never:?}");
    // A bad value is bad input, with the choices named.
    let bad = env.agent("list", &["--color", "sometimes"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("always"), "{bad:?}");
}

#[test]
fn color_ui_counts_from_the_config_and_from_git_dash_c() {
    let env = Env::new();
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    // The test environment sets NO_COLOR; color.ui=always overrides it,
    // as no-color.org asks of configuration.
    let via_c = env.ok(env.git_run(&env.repo(), &["-c", "color.ui=always", "agent", "list"]));
    assert!(via_c.stdout.contains(ESC), "{via_c:?}");
    env.git(&["config", "color.ui", "always"]);
    let via_config = env.ok(env.agent("list", &[]));
    assert!(via_config.stdout.contains(ESC), "{via_config:?}");
    // git -c beats the config file, as in git.
    let off = env.ok(env.git_run(&env.repo(), &["-c", "color.ui=false", "agent", "list"]));
    assert!(!off.stdout.contains(ESC), "{off:?}");
    // auto: not a terminal here, so no colour.
    env.git(&["config", "color.ui", "auto"]);
    let auto = env.ok(env.agent("list", &[]));
    assert!(!auto.stdout.contains(ESC), "{auto:?}");
}

#[test]
fn the_gate_colours_its_refusal_when_git_would() {
    let env = refused_commit_setup();
    let dir = env.agent_dir("billing");
    let plain = env.git_run(&dir, &["commit", "-q", "-m", "x"]);
    assert_eq!(plain.code, 1, "{plain:?}");
    assert!(!plain.stderr.contains(ESC), "{plain:?}");
    let coloured = env.git_run(&dir, &["-c", "color.ui=always", "commit", "-q", "-m", "x"]);
    assert_eq!(coloured.code, 1, "{coloured:?}");
    insta::assert_snapshot!(visible(&coloured.stderr), @r"
    git-agent: ␛[31mcommit refused␛[m: 1 staged path is outside the scope of agent '␛[1mbilling␛[m'
      ␛[31msrc/api/routes.rs␛[m  ␛[2mno pattern of the scope matches␛[m

    To leave them out of this commit, unstage them:
      ␛[36mgit restore --staged -- src/api/routes.rs␛[m
    If agent 'billing' should change them, the person orchestrating the agents (not the agent) widens its scope from outside its worktree:
      ␛[36mgit agent scope add billing /src/api/routes.rs␛[m
    Scope of 'billing': src/billing/
    ");
    let stripped = coloured
        .stderr
        .split(ESC)
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                &part[part.find('m').unwrap() + 1..]
            }
        })
        .collect::<String>();
    assert_eq!(stripped, plain.stderr, "colour changes nothing but colour");
}

#[test]
fn errors_follow_the_same_rules() {
    let env = Env::new();
    let plain = env.agent("rm", &["nosuch"]);
    assert_eq!(plain.code, 2);
    assert!(!plain.stderr.contains(ESC), "{plain:?}");
    let coloured = env.agent("rm", &["nosuch", "--color", "always"]);
    assert_eq!(coloured.code, 2);
    assert!(coloured.stderr.contains(ESC), "{coloured:?}");
    assert!(
        coloured.stderr.contains("unknown agent 'nosuch'"),
        "{coloured:?}"
    );
    env.git(&["config", "color.ui", "always"]);
    let coloured = env.agent("rm", &["nosuch"]);
    assert!(coloured.stderr.contains(ESC), "{coloured:?}");
}

/// Run `git-agent-list` on a pseudo-terminal (util-linux `script`), with
/// `vars` set and NO_COLOR unset unless `vars` sets it.
fn list_on_a_terminal(env: &Env, script: &Path, vars: &[(&str, &str)]) -> String {
    let mut cmd = env.command(script, &env.repo());
    cmd.args(["-qec", "git-agent-list", "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let run = Run::from_output(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("billing"), "{run:?}");
    run.stdout
}

#[test]
fn auto_colours_a_terminal_unless_no_color_or_a_dumb_terminal() {
    let Some(script) = require_tool("script") else {
        return;
    };
    let env = Env::new();
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    assert!(list_on_a_terminal(&env, &script, &[]).contains(ESC));
    assert!(!list_on_a_terminal(&env, &script, &[("NO_COLOR", "1")]).contains(ESC));
    // An empty NO_COLOR does not count.
    assert!(list_on_a_terminal(&env, &script, &[("NO_COLOR", "")]).contains(ESC));
    assert!(!list_on_a_terminal(&env, &script, &[("TERM", "dumb")]).contains(ESC));
    env.git(&["config", "color.ui", "never"]);
    assert!(!list_on_a_terminal(&env, &script, &[]).contains(ESC));
}

/// `text` without its ANSI colour sequences.
fn strip(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(ESC) {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        rest = &after[after.find('m').unwrap() + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_reporting_command_colours_only_when_asked_and_changes_nothing_else() {
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    env.ok(env.agent("add", &["api", "--scope", "src/api/"]));
    let billing = env.agent_dir("billing");
    // billing: a landable commit, plus one out of scope made with --no-verify.
    write_in(&billing, "src/billing/invoice.rs", "fn total() { 1 }\n");
    env.git_in(&billing, &["commit", "-qam", "Totals"]);
    let api = env.agent_dir("api");
    write_in(&api, "src/billing/invoice.rs", "fn total() { 2 }\n");
    env.git_in(&api, &["commit", "-qam", "Sneak", "--no-verify"]);
    write_in(&api, "src/api/routes.rs", "fn routes() { 3 }\n");
    for (cmd, args, code) in [
        ("list", &[][..], 0),
        ("conflicts", &[][..], 1),
        ("scope", &["billing"][..], 0),
        ("land", &["billing", "--dry-run"][..], 0),
        ("land", &["api", "--dry-run"][..], 1),
        ("rm", &["api"][..], 1),
        ("sync", &["api"][..], 1),
        ("doctor", &[][..], 0),
        ("hooks", &["status"][..], 0),
    ] {
        let never = env.agent(cmd, &[args, &["--color", "never"]].concat());
        let always = env.agent(cmd, &[args, &["--color", "always"]].concat());
        assert_eq!(never.code, code, "{cmd} {args:?}: {never:?}");
        assert_eq!(always.code, code, "{cmd} {args:?}: {always:?}");
        assert!(
            !never.stdout.contains(ESC) && !never.stderr.contains(ESC),
            "{cmd} {args:?}: {never:?}"
        );
        assert!(
            always.stdout.contains(ESC) || always.stderr.contains(ESC),
            "{cmd} {args:?} is not coloured: {always:?}"
        );
        assert_eq!(strip(&always.stdout), never.stdout, "{cmd} {args:?}");
        assert_eq!(strip(&always.stderr), never.stderr, "{cmd} {args:?}");
    }
}
