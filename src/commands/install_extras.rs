//! Man pages and shell completions, generated from the clap definitions in
//! [`crate::cli`]: committed under `man/` and `completions/` (a test fails
//! when they drift), and installed by `git agent install-extras`.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command, Parser, ValueHint};

use crate::Io;
use crate::cli::AGENT;
use crate::error::{Error, Outcome, Result};

/// Install man pages and shell completions where man and the shells look.
#[derive(Debug, Parser)]
#[command(
    name = "git-agent-install-extras",
    bin_name = "git agent install-extras",
    version
)]
pub struct InstallExtrasArgs {
    /// Install under DIR: DIR/share/man/man1, DIR/share/bash-completion/completions,
    /// DIR/share/zsh/site-functions and DIR/share/fish/vendor_completions.d
    /// [default: the directory above the one holding git-agent, e.g. ~/.cargo].
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Write the project's committed man/ and completions/ under DIR instead
    /// (the generator behind the drift test).
    #[arg(long, value_name = "DIR", hide = true, conflicts_with = "prefix")]
    pub project_files: Option<PathBuf>,
}

/// A generated file: its name and its bytes.
pub struct Generated {
    pub name: String,
    pub body: Vec<u8>,
}

/// `git-agent.1` and one `git-agent-<command>.1` per built-in command.
pub fn man_pages() -> Result<Vec<Generated>> {
    let mut pages = vec![man_page(crate::cli::git_agent())?];
    for (_, command) in crate::cli::builtins() {
        pages.push(man_page(command)?);
    }
    Ok(pages)
}

fn man_page(command: Command) -> Result<Generated> {
    let name = format!("{}.1", command.get_name());
    let mut body = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut body)
        .map_err(Error::io("rendering a man page"))?;
    Ok(Generated { name, body })
}

/// The completion scripts for bash, zsh, fish, elvish and PowerShell.
pub fn completions() -> Vec<Generated> {
    use clap_complete::Shell;
    let generate = |shell: Shell| {
        let mut body = Vec::new();
        let mut command = crate::cli::git_agent();
        if matches!(shell, Shell::Zsh | Shell::Fish) {
            command = mark_agent_args(command);
        }
        clap_complete::generate(shell, &mut command, "git-agent", &mut body);
        body
    };
    vec![
        Generated {
            name: "git-agent.bash".into(),
            body: bash().into_bytes(),
        },
        Generated {
            name: "_git-agent".into(),
            body: zsh(generate(Shell::Zsh)).into_bytes(),
        },
        Generated {
            name: "git-agent.fish".into(),
            body: String::from_utf8_lossy(&generate(Shell::Fish))
                .replace(
                    "(__fish_print_hostnames)",
                    "(git agent list --names 2>/dev/null)",
                )
                .into_bytes(),
        },
        Generated {
            name: "git-agent.elv".into(),
            body: generate(Shell::Elvish),
        },
        Generated {
            name: "_git-agent.ps1".into(),
            body: generate(Shell::PowerShell),
        },
    ]
}

/// What a value in some position completes to.
#[derive(Clone, PartialEq)]
enum Kind {
    Agent,
    Branch,
    Values(Vec<String>),
    File,
    Dir,
    Anything,
}

impl Kind {
    fn of(arg: &Arg) -> Kind {
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_owned())
            .collect();
        let named = arg
            .get_value_names()
            .is_some_and(|names| names.iter().any(|n| n.as_str() == AGENT));
        if named {
            Kind::Agent
        } else if arg
            .get_value_names()
            .is_some_and(|n| n.iter().any(|n| matches!(n.as_str(), "BRANCH" | "REF")))
        {
            Kind::Branch
        } else if !values.is_empty() {
            Kind::Values(values)
        } else if arg.get_value_hint() == ValueHint::DirPath
            || arg
                .get_value_names()
                .is_some_and(|n| n.iter().any(|n| matches!(n.as_str(), "DIR" | "PATH")))
        {
            Kind::Dir
        } else if arg.get_value_hint() == ValueHint::FilePath {
            Kind::File
        } else {
            Kind::Anything
        }
    }

    fn bash(&self) -> String {
        match self {
            Kind::Agent => "agent".into(),
            Kind::Branch => "branch".into(),
            Kind::Values(v) => format!("values:{}", v.join(" ")),
            Kind::File => "file".into(),
            Kind::Dir => "dir".into(),
            Kind::Anything => "any".into(),
        }
    }
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

/// Every command path ("", "land", "scope check", ...) with its command.
fn command_paths(command: &Command, path: String, out: &mut Vec<(String, Command)>) {
    out.push((path.clone(), command.clone()));
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let sub_path = if path.is_empty() {
            sub.get_name().to_owned()
        } else {
            format!("{path} {}", sub.get_name())
        };
        command_paths(sub, sub_path, out);
    }
}

/// A bash completion, by hand rather than clap_complete's, so that
/// `git agent <TAB>` works through git's own completion (which calls
/// `_git_agent`) and agent names complete from the live registry.
fn bash() -> String {
    let mut top = crate::cli::git_agent();
    top.build();
    let mut paths = Vec::new();
    command_paths(&top, String::new(), &mut paths);

    let mut subcommands = String::new();
    let mut options = String::new();
    let mut values = String::new();
    let mut positionals = String::new();
    for (path, command) in &paths {
        let subs: Vec<&str> = command
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .flat_map(|s| std::iter::once(s.get_name()).chain(s.get_visible_aliases()))
            .collect();
        if !subs.is_empty() {
            subcommands.push_str(&format!("\t\"{path}\") echo \"{}\" ;;\n", subs.join(" ")));
        }
        let mut flags = Vec::new();
        for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
            let names: Vec<String> = arg
                .get_long_and_visible_aliases()
                .unwrap_or_default()
                .iter()
                .map(|l| format!("--{l}"))
                .chain(
                    arg.get_short_and_visible_aliases()
                        .unwrap_or_default()
                        .iter()
                        .map(|s| format!("-{s}")),
                )
                .collect();
            if names.is_empty() {
                continue;
            }
            flags.extend(names.iter().cloned());
            if takes_value(arg) {
                let cases: Vec<String> = names.iter().map(|n| format!("\"{path}|{n}\"")).collect();
                values.push_str(&format!(
                    "\t{}) echo \"{}\" ;;\n",
                    cases.join("|"),
                    Kind::of(arg).bash()
                ));
            }
        }
        if !flags.is_empty() {
            options.push_str(&format!("\t\"{path}\") echo \"{}\" ;;\n", flags.join(" ")));
        }
        for (i, arg) in command.get_positionals().enumerate() {
            if arg.is_last_set() {
                continue;
            }
            let kind = Kind::of(arg);
            if kind == Kind::Anything {
                continue;
            }
            // A list (`land A B C…`) takes every position from its own on;
            // it is the last positional, so the earlier patterns match first.
            let position = match arg.get_action() {
                clap::ArgAction::Append => "*".to_owned(),
                _ => i.to_string(),
            };
            positionals.push_str(&format!(
                "\t\"{path}|\"{position}) echo \"{}\" ;;\n",
                kind.bash()
            ));
        }
    }
    let aliases: String = crate::cli::ALIASES
        .iter()
        .map(|(alias, command)| format!("\t{alias}) word={command} ;;\n"))
        .collect();
    BASH_TEMPLATE
        .replace("@SUBCOMMANDS@", &subcommands)
        .replace("@OPTIONS@", &options)
        .replace("@VALUES@", &values)
        .replace("@POSITIONALS@", &positionals)
        .replace("@ALIASES@", &aliases)
}

const BASH_TEMPLATE: &str = r#"# bash completion for git-agent. Generated from git-agent's clap definitions
# (`git agent install-extras` installs it); do not edit.
#
# `git agent <TAB>` goes through git's own completion, which calls
# _git_agent (bash-completion loads this file as `git-agent` on demand);
# `git-agent <TAB>` is completed by the same function.

# The subcommands of a command path ("" is git agent itself).
__git_agent_subcommands ()
{
	case "$1" in
@SUBCOMMANDS@	esac
}

# The options of a command path.
__git_agent_options ()
{
	case "$1" in
@OPTIONS@	esac
}

# What the value of option $2 of command path $1 completes to; nothing
# when the option takes no value.
__git_agent_value_kind ()
{
	case "$1|$2" in
@VALUES@	esac
}

# What positional argument $2 (from 0) of command path $1 completes to.
__git_agent_positional_kind ()
{
	case "$1|$2" in
@POSITIONALS@	esac
}

__git_agent_names ()
{
	if declare -F __git >/dev/null; then
		__git agent list --names 2>/dev/null
	else
		git agent list --names 2>/dev/null
	fi
}

__git_agent_reply ()
{
	local IFS=$' \t\n'
	COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

__git_agent_complete_kind ()
{
	case "$1" in
	agent) __git_agent_reply "$(__git_agent_names)" ;;
	branch) declare -F __git_heads >/dev/null && __git_agent_reply "$(__git_heads)" ;;
	values:*) __git_agent_reply "${1#values:}" ;;
	file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
	dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
	*) COMPREPLY=() ;;
	esac
}

# Uses git's completion variables: words, cword, cur, and __git_cmd_idx,
# the index of "agent" in words.
_git_agent ()
{
	local i=$(( ${__git_cmd_idx:-1} + 1 )) path="" npos=0 word kind
	while [ $i -lt $cword ]; do
		word="${words[i]}"
		case "$word" in
		--)
			# Everything after `--` belongs to another program.
			COMPREPLY=()
			return
			;;
		--*=*) ;;
		-*)
			kind=$(__git_agent_value_kind "$path" "$word")
			if [ -n "$kind" ]; then
				i=$((i + 1))
				if [ $i -eq $cword ]; then
					__git_agent_complete_kind "$kind"
					return
				fi
			fi
			;;
		*)
			case "$word" in
@ALIASES@			esac
			if [ $npos -eq 0 ] && [[ " $(__git_agent_subcommands "$path") " == *" $word "* ]]; then
				path="${path:+$path }$word"
			else
				npos=$((npos + 1))
			fi
			;;
		esac
		i=$((i + 1))
	done
	case "$cur" in
	--*=*)
		local option="${cur%%=*}"
		kind=$(__git_agent_value_kind "$path" "$option")
		cur="${cur#*=}"
		__git_agent_complete_kind "$kind"
		return
		;;
	-*)
		__git_agent_reply "$(__git_agent_options "$path")"
		return
		;;
	esac
	local subcommands
	subcommands=$(__git_agent_subcommands "$path")
	kind=$(__git_agent_positional_kind "$path" $npos)
	if [ -n "$subcommands" ] && [ $npos -eq 0 ]; then
		local names=""
		[ "$kind" = agent ] && names=$(__git_agent_names)
		__git_agent_reply "$subcommands $names"
		return
	fi
	__git_agent_complete_kind "$kind"
}

# `git-agent ...` typed directly.
__git_agent_direct ()
{
	local cur="${COMP_WORDS[COMP_CWORD]}" cword=$COMP_CWORD __git_cmd_idx=0
	local -a words=("${COMP_WORDS[@]}")
	_git_agent
}
complete -F __git_agent_direct git-agent
"#;

/// Arguments naming an agent get a value hint no other argument uses,
/// so the zsh and fish scripts can be pointed at the live agent names
/// afterwards.
fn mark_agent_args(command: Command) -> Command {
    command
        .mut_args(|arg| {
            let names_agent = arg
                .get_value_names()
                .is_some_and(|n| n.iter().any(|n| n.as_str() == AGENT));
            if names_agent {
                arg.value_hint(ValueHint::Hostname)
            } else {
                arg
            }
        })
        .mut_subcommands(mark_agent_args)
}

/// clap_complete's zsh script, with agent names completed from the live
/// registry where an argument names an agent. Loaded as `_git-agent`, it
/// also serves `git agent <TAB>` through zsh's `_git`.
fn zsh(generated: Vec<u8>) -> String {
    let mut out = String::from_utf8_lossy(&generated).replace(":_hosts'", ":_git_agent_names'");
    let helper = "\n(( $+functions[_git_agent_names] )) ||\n_git_agent_names() {\n    local -a names\n    names=(${(f)\"$(git agent list --names 2>/dev/null)\"})\n    _describe -t agents 'agent' names\n}\n";
    match out.rfind("\nif [ \"$funcstack[1]\"") {
        Some(at) => out.insert_str(at, helper),
        None => out.push_str(helper),
    }
    out
}

/// Where each generated file goes under an installation prefix.
fn install_plan(prefix: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let share = prefix.join("share");
    let mut plan = Vec::new();
    for page in man_pages()? {
        plan.push((share.join("man/man1").join(&page.name), page.body));
    }
    for script in completions() {
        let target = match script.name.as_str() {
            // bash-completion loads `git-agent` when git's completion asks for it.
            "git-agent.bash" => share.join("bash-completion/completions/git-agent"),
            "_git-agent" => share.join("zsh/site-functions/_git-agent"),
            "git-agent.fish" => share.join("fish/vendor_completions.d/git-agent.fish"),
            _ => continue,
        };
        plan.push((target, script.body));
    }
    Ok(plan)
}

/// The project's own `man/` and `completions/`, under `root`.
pub fn project_files(root: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    for page in man_pages()? {
        files.push((root.join("man").join(&page.name), page.body));
    }
    for script in completions() {
        files.push((root.join("completions").join(&script.name), script.body));
    }
    Ok(files)
}

fn write_all(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    for (path, body) in files {
        let dir = path.parent().expect("generated files live in a directory");
        std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        std::fs::write(path, body).map_err(Error::io(format!("writing {}", path.display())))?;
    }
    Ok(())
}

/// The directory above the one holding this program: `~/.cargo` for
/// `~/.cargo/bin/git-agent-install-extras`. man finds `share/man` there by
/// itself for every directory on PATH.
fn default_prefix() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(Error::io("finding this program"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .ok_or_else(|| {
            Error::usage(
                format!("cannot tell an installation prefix from {}", exe.display()),
                "give one with --prefix DIR",
            )
        })
}

pub fn run(args: InstallExtrasArgs, io: &mut Io) -> Result<Outcome> {
    if let Some(root) = &args.project_files {
        let files = project_files(root)?;
        write_all(&files)?;
        writeln!(
            io.out,
            "wrote {} files under {}",
            files.len(),
            root.display()
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    let prefix = match args.prefix {
        Some(p) => std::path::absolute(&p).map_err(Error::io("resolving --prefix"))?,
        None => default_prefix()?,
    };
    let plan = install_plan(&prefix)?;
    write_all(&plan)?;
    let share = prefix.join("share");
    let text = format!(
        "installed {} man pages in {}\n\
         installed completions:\n  bash: {}\n  zsh:  {}\n  fish: {}\n\n\
         man finds the pages when {} is on PATH; otherwise add {} to MANPATH.\n\
         zsh needs {} in fpath (before compinit); bash and fish find theirs when {} is one of their data directories.\n",
        plan.len() - 3,
        share.join("man/man1").display(),
        share
            .join("bash-completion/completions/git-agent")
            .display(),
        share.join("zsh/site-functions/_git-agent").display(),
        share
            .join("fish/vendor_completions.d/git-agent.fish")
            .display(),
        prefix.join("bin").display(),
        share.join("man").display(),
        share.join("zsh/site-functions").display(),
        share.display(),
    );
    write!(io.out, "{text}").map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}
