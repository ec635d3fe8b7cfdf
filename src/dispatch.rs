//! `git agent <command>`: a built-in command runs in this process (see
//! [`crate::engine`]); any other name runs `git-agent-<command>`, found next
//! to this executable first and then on PATH, so a third party can ship
//! `git-agent-foo` as with git and cargo.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::Io;
use crate::error::{Error, Result};
use crate::policy::manifest::nearest;

/// The built-in commands and the first line of what each does.
pub fn builtins() -> Vec<(&'static str, String)> {
    crate::cli::builtins()
        .into_iter()
        .map(|(name, command)| {
            let about = command
                .get_about()
                .map(|a| a.to_string())
                .unwrap_or_default();
            (name, about)
        })
        .collect()
}

const PREFIX: &str = "git-agent-";

use crate::cli::ALIASES;

/// Where to run `command` from: next to `own_dir` first, then PATH.
pub fn find_command(command: &str, own_dir: Option<&Path>) -> Option<PathBuf> {
    let program = format!("{PREFIX}{command}{}", std::env::consts::EXE_SUFFIX);
    if let Some(dir) = own_dir {
        let candidate = dir.join(&program);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    which::which(&program).ok()
}

/// Every `git-agent-*` command available: the built-ins and those found
/// next to us or on PATH, with where each lives.
pub fn available_commands(own_dir: Option<&Path>) -> BTreeMap<String, Option<PathBuf>> {
    let mut found: BTreeMap<String, Option<PathBuf>> = builtins()
        .into_iter()
        .map(|(n, _)| (n.to_string(), None))
        .collect();
    let mut dirs: Vec<PathBuf> = own_dir.map(Path::to_owned).into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(name) = file_name.strip_prefix(PREFIX) else {
                continue;
            };
            let name = name
                .strip_suffix(std::env::consts::EXE_SUFFIX)
                .unwrap_or(name);
            if name.is_empty() || !is_executable(&entry.path()) {
                continue;
            }
            found
                .entry(name.to_owned())
                .or_insert_with(|| Some(entry.path()));
        }
    }
    found
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn own_dir() -> Option<PathBuf> {
    std::env::current_exe().ok()?.parent().map(Path::to_owned)
}

/// The usage text `git agent` alone prints.
pub fn usage(own_dir: Option<&Path>) -> String {
    let mut text = String::from(
        "usage: git agent <command> [<args>]\n\nParallel AI coding agents on one repository: each in its own worktree, each held to its scope.\n\nCommands:\n",
    );
    let builtins = builtins();
    for (name, about) in &builtins {
        text.push_str(&format!("  {name:<15} {about}\n"));
    }
    let others: Vec<(String, PathBuf)> = available_commands(own_dir)
        .into_iter()
        .filter_map(|(n, p)| {
            p.filter(|_| !builtins.iter().any(|(b, _)| *b == n))
                .map(|p| (n, p))
        })
        .collect();
    if !others.is_empty() {
        text.push_str("\nOther git-agent commands found:\n");
        for (name, path) in others {
            text.push_str(&format!("  {name:<15} {}\n", path.display()));
        }
    }
    text.push_str("\n`git agent <command> --help` explains a command.\n");
    text
}

/// The options every command takes, given before the command's name
/// (`git agent -C ../shop --color never list`, as with `git -C`): split off
/// to be handed to the command, which parses them as its own.
fn leading_options(args: &[OsString]) -> Result<(Vec<OsString>, &[OsString])> {
    let mut options = Vec::new();
    let mut rest = args;
    while let Some(first) = rest.first().and_then(|a| a.to_str()) {
        let takes_value = first == "-C" || first == "--color";
        if takes_value {
            let Some(value) = rest.get(1) else {
                return Err(Error::usage(
                    format!("{first} needs a value"),
                    "for example: git agent -C ../shop list, git agent --color never list",
                ));
            };
            options.extend([rest[0].clone(), value.clone()]);
            rest = &rest[2..];
        } else if first.starts_with("--color=") || (first.starts_with("-C") && first.len() > 2) {
            options.push(rest[0].clone());
            rest = &rest[1..];
        } else {
            break;
        }
    }
    Ok((options, rest))
}

/// Run `git agent ARGS...`: a built-in command exits this process when it
/// is done; otherwise returns the exit code.
pub fn run(args: Vec<OsString>, io: &mut Io) -> Result<i32> {
    let own = own_dir();
    let (options, args) = leading_options(&args)?;
    let Some(first) = args.first().map(|a| a.to_string_lossy().into_owned()) else {
        if !options.is_empty() {
            return Err(Error::usage(
                "no command given after the options",
                "name a command after them, e.g. git agent -C ../shop list; `git agent` lists the commands",
            ));
        }
        write!(io.out, "{}", usage(own.as_deref())).map_err(Error::io("writing"))?;
        return Ok(0);
    };
    match first.as_str() {
        "-h" | "--help" | "help" => {
            write!(io.out, "{}", usage(own.as_deref())).map_err(Error::io("writing"))?;
            return Ok(0);
        }
        "-V" | "--version" => {
            writeln!(io.out, "git-agent {}", env!("CARGO_PKG_VERSION"))
                .map_err(Error::io("writing"))?;
            return Ok(0);
        }
        _ => {}
    }
    let command = ALIASES
        .iter()
        .find(|(a, _)| *a == first)
        .map_or(first.as_str(), |(_, c)| c);
    if let Some(main) = crate::engine::builtin(command) {
        let argv = std::iter::once(OsString::from(format!("{PREFIX}{command}")))
            .chain(options)
            .chain(args[1..].iter().cloned());
        main(argv.collect());
    }
    let Some(program) = find_command(command, own.as_deref()) else {
        let known = available_commands(own.as_deref());
        let help = match nearest(&first, known.keys().map(String::as_str)) {
            Some(near) => {
                format!("did you mean `git agent {near}`? `git agent` lists the commands")
            }
            None => "`git agent` lists the commands".to_owned(),
        };
        return Err(Error::usage(
            format!("'{first}' is not a git agent command"),
            help,
        ));
    };
    let mut cmd = std::process::Command::new(&program);
    cmd.args(&options).args(&args[1..]);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Replace this process, so signals and the exit code are the command's own.
        let e = cmd.exec();
        Err(Error::io(format!("running {}", program.display()))(e))
    }
    #[cfg(not(unix))]
    {
        let status = cmd
            .status()
            .map_err(Error::io(format!("running {}", program.display())))?;
        Ok(status.code().unwrap_or(1))
    }
}
