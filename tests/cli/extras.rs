//! Man pages and completions: the committed copies match the clap
//! definitions, `install-extras` puts them where man, git and the shells
//! find them, and bash completes `git agent` through git's own completion.

use std::path::{Path, PathBuf};

use crate::support::*;

const REGENERATE: &str = "cargo run --bin git-agent -- install-extras --project-files .";

#[test]
fn committed_man_pages_and_completions_match_the_clap_definitions() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files = git_agent::commands::install_extras::project_files(&root).unwrap();
    let mut stale = Vec::new();
    for (path, body) in &files {
        if std::fs::read(path).ok().as_deref() != Some(body.as_slice()) {
            stale.push(path.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    for dir in ["man", "completions"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if !files.iter().any(|(p, _)| *p == path) {
                stale.push(format!("{} (no longer generated)", path.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run `{REGENERATE}`"
    );
    // One page per command, each naming itself.
    let land = std::fs::read_to_string(root.join("man/git-agent-land.1")).unwrap();
    assert!(land.contains("git\\-agent\\-land"), "{land}");
    assert!(land.contains("\\-\\-strategy"), "{land}");
}

/// A prefix laid out as `cargo install --root PREFIX` and `install-extras
/// --prefix PREFIX` leave it: the programs in bin/, the extras in share/.
fn installed(env: &Env) -> PathBuf {
    let prefix = env.root.join("prefix");
    let run = env.ok(env.agent("install-extras", &["--prefix", prefix.to_str().unwrap()]));
    assert!(run.stdout.contains("installed 19 man pages"), "{run:?}");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    for entry in std::fs::read_dir(bin_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("git-agent") && !name.contains('.') && path.is_file() {
            std::os::unix::fs::symlink(&path, prefix.join("bin").join(&name)).unwrap();
        }
    }
    prefix
}

/// PATH with the prefix's bin/ first and nothing of the build directory.
fn path_with(prefix: &Path) -> std::ffi::OsString {
    let system = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(prefix.join("bin"))
        .chain(std::env::split_paths(&system).filter(|d| *d != bin_dir()));
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn install_extras_puts_man_pages_where_man_and_git_help_find_them() {
    let env = Env::new();
    let prefix = installed(&env);
    for file in [
        "share/man/man1/git-agent.1",
        "share/man/man1/git-agent-land.1",
        "share/bash-completion/completions/git-agent",
        "share/zsh/site-functions/_git-agent",
        "share/fish/vendor_completions.d/git-agent.fish",
    ] {
        assert!(prefix.join(file).is_file(), "{file} missing");
    }
    let run_with_prefix = |program: &str, args: &[&str]| {
        Run::from_output(
            env.command(program, &env.repo())
                .args(args)
                .env("PATH", path_with(&prefix))
                .env_remove("MANPATH")
                .env("MANPAGER", "cat")
                .env("PAGER", "cat")
                .env("MANWIDTH", "80")
                .output()
                .unwrap(),
        )
    };
    let run = run_with_prefix("git", &["agent", "land", "--help"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("Usage: git agent land [OPTIONS] [AGENT]..."),
        "{run:?}"
    );
    if require_tool("man").is_none() {
        return;
    }
    // man finds share/man beside every bin/ on PATH by itself.
    let run = run_with_prefix("man", &["-w", "git-agent-land"]);
    assert_eq!(
        run.stdout.trim(),
        prefix
            .join("share/man/man1/git-agent-land.1")
            .to_str()
            .unwrap(),
        "{run:?}"
    );
    // git turns `git agent --help` into `man git-agent`.
    let run = run_with_prefix("git", &["agent", "--help"]);
    assert_eq!(run.code, 0, "{run:?}");
    // man justifies lines, so compare with the spacing collapsed.
    let page = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        page.contains("git-agent - Parallel AI coding agents"),
        "{run:?}"
    );
    assert!(page.contains("git-agent-land(1)"), "{run:?}");
}

/// git's own bash completion script, as git packages install it, and bash
/// to run it (see [`require`]).
fn git_completion_script() -> Option<PathBuf> {
    require_tool("bash")?;
    let candidates = [
        PathBuf::from("/usr/share/bash-completion/completions/git"),
        PathBuf::from("/usr/local/share/bash-completion/completions/git"),
        PathBuf::from("/usr/share/git-core/contrib/completion/git-completion.bash"),
    ];
    require(
        "git's bash completion script (bash-completion)",
        candidates.into_iter().find(|p| p.is_file()),
    )
}

/// The candidates bash offers for `line` (the cursor at its end), with
/// git's completion loaded and git-agent's installed one sourced.
fn complete(env: &Env, prefix: &Path, git: &Path, line: &str) -> Vec<String> {
    let script = format!(
        r#"source "{git}"
source "{ours}"
line="$1"
read -ra COMP_WORDS <<< "$line"
[[ "$line" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="$line"
COMP_POINT=${{#line}}
{function}
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        git = git.display(),
        ours = prefix
            .join("share/bash-completion/completions/git-agent")
            .display(),
        function = if line.starts_with("git ") {
            "__git_wrap__git_main"
        } else {
            "__git_agent_direct"
        },
    );
    let run = Run::from_output(
        env.command("bash", &env.repo())
            .args(["--norc", "--noprofile", "-c", &script, "complete", line])
            .env("PATH", path_with(prefix))
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let mut words: Vec<String> = run.stdout.split_whitespace().map(str::to_owned).collect();
    words.sort();
    words
}

#[test]
fn bash_completes_commands_agent_names_and_options_through_gits_completion() {
    let Some(git) = git_completion_script() else {
        return;
    };
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    env.ok(env.agent("add", &["docs", "--scope", "docs/"]));
    let prefix = installed(&env);
    let commands = complete(&env, &prefix, &git, "git agent ");
    for command in [
        "add",
        "conflicts",
        "land",
        "list",
        "ls",
        "rm",
        "scope",
        "sync",
    ] {
        assert!(
            commands.contains(&command.to_owned()),
            "{command}: {commands:?}"
        );
    }
    assert_eq!(complete(&env, &prefix, &git, "git agent la"), ["land"]);
    assert_eq!(
        complete(&env, &prefix, &git, "git agent land "),
        ["billing", "docs"]
    );
    // A train: every further name completes too.
    assert_eq!(
        complete(&env, &prefix, &git, "git agent land billing d"),
        ["docs"]
    );
    assert_eq!(complete(&env, &prefix, &git, "git agent rm b"), ["billing"]);
    assert_eq!(
        complete(&env, &prefix, &git, "git agent land --strategy "),
        ["ff", "merge", "rebase", "squash"]
    );
    assert_eq!(
        complete(&env, &prefix, &git, "git agent land --st"),
        ["--strategy"]
    );
    assert_eq!(
        complete(&env, &prefix, &git, "git agent scope check --agent "),
        ["billing", "docs"]
    );
    assert_eq!(
        complete(&env, &prefix, &git, "git agent scope "),
        ["add", "billing", "check", "docs", "rm", "set"]
    );
    // A new agent's name is not one of the live ones.
    assert_eq!(
        complete(&env, &prefix, &git, "git agent add "),
        Vec::<String>::new()
    );
    // `git-agent` typed directly completes the same way.
    assert_eq!(
        complete(&env, &prefix, &git, "git-agent land "),
        ["billing", "docs"]
    );
}

/// What an interactive zsh (on a pseudo-terminal, zsh/zpty) shows after
/// typing `line` and TAB, with git's `_git` completing and git-agent's
/// installed `_git-agent` in fpath. Waits until every one of `expect`
/// appears, or ten seconds.
fn zsh_shows(env: &Env, zsh: &Path, prefix: &Path, line: &str, expect: &[&str]) -> (bool, String) {
    let script = r#"
zmodload zsh/zpty
zpty -b z zsh -f -i
out=
wait_for() {
  local chunk deadline=$(( SECONDS + 10 )) all
  while (( SECONDS < deadline )); do
    if zpty -rt z chunk; then out+=$chunk; else sleep 0.05; fi
    all=1
    for want in "$@"; do [[ $out == *$want* ]] || all=0; done
    (( all )) && return 0
  done
  return 1
}
zpty -w z "PS1='READY> '; fpath=($FPATH_DIR \$fpath); autoload -Uz compinit; compinit -u -d $DUMP"
wait_for 'READY> '
out=
zpty -w -n z "$LINE"$'\t'
wait_for "${@}"
rc=$?
zpty -d z
print -r -- "$out"
exit $rc
"#;
    let mut cmd = env.command(zsh, &env.repo());
    cmd.args(["-f", "-c", script, "zsh"])
        .args(expect)
        .env("PATH", path_with(prefix))
        .env("FPATH_DIR", prefix.join("share/zsh/site-functions"))
        .env("DUMP", env.root.join("zcompdump"))
        .env("LINE", line)
        .env("TERM", "xterm");
    let run = Run::from_output(cmd.output().unwrap());
    (run.code == 0, format!("{}{}", run.stdout, run.stderr))
}

#[test]
fn zsh_completes_git_agent_through_gits_own_completion() {
    let Some(zsh) = require_tool("zsh") else {
        return;
    };
    let env = Env::with_policy("version: 1\n");
    env.ok(env.agent("add", &["billing", "--scope", "src/billing/"]));
    env.ok(env.agent("add", &["docs", "--scope", "docs/"]));
    let prefix = installed(&env);
    for (line, expect) in [
        ("git agent con", &["conflicts"][..]),
        ("git agent land ", &["billing", "docs"][..]),
        ("git agent land --dr", &["--dry-run"][..]),
        (
            "git agent land --strategy ",
            &["merge", "squash", "rebase"][..],
        ),
    ] {
        let (found, shown) = zsh_shows(&env, &zsh, &prefix, line, expect);
        assert!(
            found,
            "{line:?} should show {expect:?}; zsh showed:\n{shown}"
        );
        // Falling back to file names would also "complete".
        assert!(!shown.contains("README.md"), "{line:?}: {shown}");
    }
}
