# bash completion for git-agent. Generated from git-agent's clap definitions
# (`git agent install-extras` installs it); do not edit.
#
# `git agent <TAB>` goes through git's own completion, which calls
# _git_agent (bash-completion loads this file as `git-agent` on demand);
# `git-agent <TAB>` is completed by the same function.

# The subcommands of a command path ("" is git agent itself).
__git_agent_subcommands ()
{
	case "$1" in
	"") echo "init add list ls scope exec brief guard conflicts land unland sync rm restore doctor audit hooks demo install-extras" ;;
	"scope") echo "set add rm check" ;;
	"hooks") echo "install uninstall status" ;;
	esac
}

# The options of a command path.
__git_agent_options ()
{
	case "$1" in
	"") echo "--help -h --version -V" ;;
	"init") echo "-C --color --base --force --help -h --version -V" ;;
	"add") echo "-C --color --scope --area --base --path --task --role --clone --sparse --no-sparse --guardrails --help -h --version -V" ;;
	"list") echo "-C --color --long -l --json --names --help -h --version -V" ;;
	"scope") echo "-C --color --json --help -h --version -V" ;;
	"scope set") echo "-C --color --help -h" ;;
	"scope add") echo "-C --color --help -h" ;;
	"scope rm") echo "-C --color --help -h" ;;
	"scope check") echo "--staged --range --paths --agent --agent-from-branch --json --format --claude-hook -C --color --help -h" ;;
	"exec") echo "-C --color --sandbox --writable --help -h --version -V" ;;
	"brief") echo "-C --color --json --help -h --version -V" ;;
	"guard") echo "-C --color --guardrails --help -h --version -V" ;;
	"conflicts") echo "-C --color --json --help -h --version -V" ;;
	"land") echo "-C --color --all --order --keep-going --strategy --no-checks --dry-run -n --accept --remove --json --help -h --version -V" ;;
	"unland") echo "-C --color --hard --no-checks --dry-run -n --json --help -h --version -V" ;;
	"sync") echo "-C --color --rebase --merge --json --help -h --version -V" ;;
	"rm") echo "-C --color --force --json --help -h --version -V" ;;
	"restore") echo "-C --color --archive --path --help -h --version -V" ;;
	"doctor") echo "-C --color --fix --reseal --json --help -h --version -V" ;;
	"audit") echo "-C --color --since --base --json --help -h --version -V" ;;
	"hooks") echo "-C --color --help -h --version -V" ;;
	"hooks install") echo "--server -C --color --help -h" ;;
	"hooks uninstall") echo "--server -C --color --help -h" ;;
	"hooks pre-receive") echo "-C --color --help -h" ;;
	"hooks status") echo "--json -C --color --help -h" ;;
	"hooks ref-guard") echo "-C --color --help -h" ;;
	"demo") echo "--keep --color --help -h --version -V" ;;
	"install-extras") echo "--prefix --help -h --version -V" ;;
	esac
}

# What the value of option $2 of command path $1 completes to; nothing
# when the option takes no value.
__git_agent_value_kind ()
{
	case "$1|$2" in
	"init|-C") echo "dir" ;;
	"init|--color") echo "values:auto always never" ;;
	"init|--base") echo "branch" ;;
	"add|-C") echo "dir" ;;
	"add|--color") echo "values:auto always never" ;;
	"add|--scope") echo "any" ;;
	"add|--area") echo "any" ;;
	"add|--base") echo "branch" ;;
	"add|--path") echo "dir" ;;
	"add|--task") echo "any" ;;
	"add|--role") echo "values:writer proposer" ;;
	"add|--guardrails") echo "values:none claude codex cursor gemini" ;;
	"list|-C") echo "dir" ;;
	"list|--color") echo "values:auto always never" ;;
	"scope|-C") echo "dir" ;;
	"scope|--color") echo "values:auto always never" ;;
	"scope set|-C") echo "dir" ;;
	"scope set|--color") echo "values:auto always never" ;;
	"scope add|-C") echo "dir" ;;
	"scope add|--color") echo "values:auto always never" ;;
	"scope rm|-C") echo "dir" ;;
	"scope rm|--color") echo "values:auto always never" ;;
	"scope check|--range") echo "any" ;;
	"scope check|--paths") echo "any" ;;
	"scope check|--agent") echo "agent" ;;
	"scope check|--agent-from-branch") echo "branch" ;;
	"scope check|--format") echo "values:text json github gitlab" ;;
	"scope check|-C") echo "dir" ;;
	"scope check|--color") echo "values:auto always never" ;;
	"exec|-C") echo "dir" ;;
	"exec|--color") echo "values:auto always never" ;;
	"exec|--sandbox") echo "values:strict best-effort" ;;
	"exec|--writable") echo "dir" ;;
	"brief|-C") echo "dir" ;;
	"brief|--color") echo "values:auto always never" ;;
	"guard|-C") echo "dir" ;;
	"guard|--color") echo "values:auto always never" ;;
	"guard|--guardrails") echo "values:none claude codex cursor gemini" ;;
	"conflicts|-C") echo "dir" ;;
	"conflicts|--color") echo "values:auto always never" ;;
	"land|-C") echo "dir" ;;
	"land|--color") echo "values:auto always never" ;;
	"land|--order") echo "values:forecast given" ;;
	"land|--strategy") echo "values:merge squash rebase ff" ;;
	"unland|-C") echo "dir" ;;
	"unland|--color") echo "values:auto always never" ;;
	"sync|-C") echo "dir" ;;
	"sync|--color") echo "values:auto always never" ;;
	"rm|-C") echo "dir" ;;
	"rm|--color") echo "values:auto always never" ;;
	"restore|-C") echo "dir" ;;
	"restore|--color") echo "values:auto always never" ;;
	"restore|--archive") echo "branch" ;;
	"restore|--path") echo "dir" ;;
	"doctor|-C") echo "dir" ;;
	"doctor|--color") echo "values:auto always never" ;;
	"audit|-C") echo "dir" ;;
	"audit|--color") echo "values:auto always never" ;;
	"audit|--since") echo "any" ;;
	"audit|--base") echo "branch" ;;
	"hooks|-C") echo "dir" ;;
	"hooks|--color") echo "values:auto always never" ;;
	"hooks install|-C") echo "dir" ;;
	"hooks install|--color") echo "values:auto always never" ;;
	"hooks uninstall|-C") echo "dir" ;;
	"hooks uninstall|--color") echo "values:auto always never" ;;
	"hooks pre-receive|-C") echo "dir" ;;
	"hooks pre-receive|--color") echo "values:auto always never" ;;
	"hooks status|-C") echo "dir" ;;
	"hooks status|--color") echo "values:auto always never" ;;
	"hooks ref-guard|-C") echo "dir" ;;
	"hooks ref-guard|--color") echo "values:auto always never" ;;
	"demo|--keep") echo "dir" ;;
	"demo|--color") echo "values:auto always never" ;;
	"install-extras|--prefix") echo "dir" ;;
	esac
}

# What positional argument $2 (from 0) of command path $1 completes to.
__git_agent_positional_kind ()
{
	case "$1|$2" in
	"scope|"0) echo "agent" ;;
	"scope set|"0) echo "agent" ;;
	"scope add|"0) echo "agent" ;;
	"scope rm|"0) echo "agent" ;;
	"exec|"0) echo "agent" ;;
	"brief|"0) echo "agent" ;;
	"guard|"0) echo "agent" ;;
	"land|"*) echo "agent" ;;
	"unland|"0) echo "agent" ;;
	"sync|"0) echo "agent" ;;
	"rm|"0) echo "agent" ;;
	"restore|"0) echo "agent" ;;
	esac
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
	ls) word=list ;;
			esac
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
