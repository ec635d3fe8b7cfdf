# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_git_agent_global_optspecs
    string join \n h/help V/version
end

function __fish_git_agent_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_git_agent_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_git_agent_using_subcommand
    set -l cmd (__fish_git_agent_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c git-agent -n "__fish_git_agent_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_needs_command" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "init" -d 'Write a commented starter .git-agent.yaml and install the pre-commit gate'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "add" -d 'Create an agent: branch agent/NAME from the base, its own worktree, and its scope'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "list" -d 'List the agents: branch, path, ahead/behind, uncommitted work, scope, lease'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "ls" -d 'List the agents: branch, path, ahead/behind, uncommitted work, scope, lease'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "scope" -d 'Show or edit an agent\'s scope, or check changes against it (the gate)'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "exec" -d 'Run a command in an agent\'s directory, holding its single-writer lease'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "brief" -d 'Print what an agent should be told at the start of its session: its task, scope, protected paths and the rules it works by'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "guard" -d 'Write an agent\'s scope into the permission files of Claude Code, Codex, Cursor and Gemini in its worktree, replacing what git-agent wrote there before'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "conflicts" -d 'Forecast conflicts: every agent merged in memory with its base and with every other agent; files several agents change; overlapping scopes; a landing order. Exits 1 when any conflict is predicted'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "land" -d 'Integrate an agent\'s branch into its base: every commit re-checked against the scope, the merge forecast in memory, the policy\'s checks run on the merged result, then the base moved atomically. Several agents (or --all) land as a train: each gated as alone, merged in memory in order, the checks run once (a failure bisected), the base moved once'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "unland" -d 'Take an agent\'s latest landing back off its base, keeping its work'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "sync" -d 'Bring the base\'s new commits into an agent\'s branch, in its worktree'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "rm" -d 'Remove an agent: its worktree, branch and registry entry. Refuses when work would be lost; --force archives that work first'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "restore" -d 'Bring back an agent removed with `rm --force`, from its archive'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "doctor" -d 'Find and repair drift: worktrees moved or deleted by hand, registry entries without a branch, agent branches without an entry, stale leases, and an `add` that crashed half-way'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "audit" -d 'Check the base\'s history against its policy: each first-parent commit is landed (its receipt verifies), direct (no receipt, no sign of an agent) or suspicious; so is a move of the base in the reflog not made by land. Exits 1 when anything is suspicious'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "hooks" -d 'Install, remove or inspect the pre-commit gate'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "demo" -d 'Build a sandbox repository with three agents and walk through the whole flow, narrating each step: the gate, landing, conflicts, safe removal'
complete -c git-agent -n "__fish_git_agent_needs_command" -f -a "install-extras" -d 'Install man pages and shell completions where man and the shells look'
complete -c git-agent -n "__fish_git_agent_using_subcommand init" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand init" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand init" -l base -d 'The branch agents start from and land into [default: the current branch]' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand init" -l force -d 'Overwrite an existing .git-agent.yaml in the working tree'
complete -c git-agent -n "__fish_git_agent_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand init" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l scope -d 'A path pattern (.gitignore syntax) the agent may change; repeatable' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l area -d 'A named scope from the policy\'s `areas`; repeatable' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l base -d 'The branch to start from and land into [default: the policy\'s defaults.base]' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l path -d 'Where to put the worktree [default: the policy\'s defaults.worktrees, or ../<repo>.agents/NAME]' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l task -d 'What the agent is asked to do, shown by `git agent list -l`' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l role -d 'writer commits its own work; a proposer\'s work lands only with --accept' -r -f -a "writer\t''
proposer\t''"
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l guardrails -d 'The agent tools whose permission files get the scope in the new worktree: none, or a comma-separated list of claude, codex, cursor, gemini [default: all]' -r -f -a "none\t'No guardrails (removes ours)'
claude\t''
codex\t''
cursor\t''
gemini\t''"
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l clone -d 'Make a local clone that borrows this repository\'s objects (never copies them) instead of a worktree: for tools that cannot handle worktrees, and sandboxes that may not write this repository\'s .git'
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l sparse -d 'Check out only the scope and the policy\'s `context:` patterns, with git\'s sparse-checkout (cone mode and a sparse index when every pattern is a directory) [default: the policy\'s defaults.sparse]'
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -l no-sparse -d 'Check out every file, whatever the policy\'s defaults.sparse says'
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand add" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand list" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand list" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand list" -s l -l long -d 'Also show each agent\'s scope and task'
complete -c git-agent -n "__fish_git_agent_using_subcommand list" -l json -d 'Print JSON instead of a table'
complete -c git-agent -n "__fish_git_agent_using_subcommand list" -l names -d 'Print only the agents\' names, one per line, without computing any status (for scripts and shell completion)'
complete -c git-agent -n "__fish_git_agent_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand list" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand ls" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand ls" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand ls" -s l -l long -d 'Also show each agent\'s scope and task'
complete -c git-agent -n "__fish_git_agent_using_subcommand ls" -l json -d 'Print JSON instead of a table'
complete -c git-agent -n "__fish_git_agent_using_subcommand ls" -l names -d 'Print only the agents\' names, one per line, without computing any status (for scripts and shell completion)'
complete -c git-agent -n "__fish_git_agent_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand ls" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -l json -d 'Print JSON instead of text'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -a "set" -d 'Replace the agent\'s own patterns'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -a "add" -d 'Add patterns to the agent\'s scope'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -a "rm" -d 'Remove patterns from the agent\'s scope'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and not __fish_seen_subcommand_from set add rm check" -a "check" -d 'The gate: exit 1 and name every changed path outside the scope'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from set" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from set" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from add" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from add" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from rm" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from rm" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l range -d 'Check every commit in A..B, each against its first parent' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l paths -d 'Check the given paths' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l agent -d 'The agent, registered or standing in the committed manifest [default: the agent of the current worktree, or for --range, the agent that owns the range\'s end branch]' -r -f -a "(git agent list --names 2>/dev/null)"
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l agent-from-branch -d 'The agent that owns BRANCH (`branches:` of a standing agent, or agent/NAME); with no owner there is nothing to check. For CI, where HEAD is not the branch' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l format -d 'How to report: text, json, github (workflow-command annotations) or gitlab (code-quality JSON)' -r -f -a "text\t''
json\t''
github\t'GitHub Actions workflow commands (`::error file=...::`), one per refused path'
gitlab\t'GitLab code-quality JSON, for `artifacts: reports: codequality`'"
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l staged -d 'Check the staged changes (index against HEAD). The default'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l json -d 'Print JSON instead of text (as --format json)'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l hook -d 'Run as the pre-commit hook: allow everything outside agent worktrees'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -l claude-hook -d 'Run as Claude Code\'s PreToolUse hook: read its JSON on stdin, exit 2 with the refusal on stderr when the edited path is outside the scope, 0 and silent when inside'
complete -c git-agent -n "__fish_git_agent_using_subcommand scope; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand exec" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand exec" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand exec" -l sandbox -d 'Let CMD and its children write only in the agent\'s scope, its git directory, the policy\'s `sandbox.writable`, temporary directories and --writable directories (Linux, Landlock). `strict` (the default) refuses to run where the kernel cannot confine CMD; `best-effort` runs it unconfined with a warning. The policy\'s `defaults.sandbox: true` makes `strict` the default' -r -f -a "strict\t'Refuse to run the command where the kernel cannot confine it'
best-effort\t'Run it anyway, unconfined, with a warning'"
complete -c git-agent -n "__fish_git_agent_using_subcommand exec" -l writable -d 'With the sandbox, also let CMD write below DIR (repeatable), e.g. the agent\'s own state directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand exec" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand brief" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand brief" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand brief" -l json -d 'Print {"version": 1, "agent", "task", "scope", "protected", "rules", "check", ...} instead of text'
complete -c git-agent -n "__fish_git_agent_using_subcommand brief" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand brief" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand guard" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand guard" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand guard" -l guardrails -d 'Which tools: none, or a comma-separated list of claude, codex, cursor, gemini [default: those written before, else all]' -r -f -a "none\t'No guardrails (removes ours)'
claude\t''
codex\t''
cursor\t''
gemini\t''"
complete -c git-agent -n "__fish_git_agent_using_subcommand guard" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand guard" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand conflicts" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand conflicts" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand conflicts" -l json -d 'Print {"version": 1, "pairs": [...], ...} (see README)'
complete -c git-agent -n "__fish_git_agent_using_subcommand conflicts" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand conflicts" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l order -d 'The order a train merges its agents in: the conflict forecast\'s (fewest conflicts first) or the order given' -r -f -a "forecast\t'The conflict forecast\'s landing order: fewest conflicts first'
given\t'The order the agents are named in'"
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l strategy -d 'How to integrate [default: the policy\'s defaults.strategy, else merge]' -r -f -a "merge\t'A merge commit, even when a fast-forward is possible'
squash\t'One new commit holding all of the branch\'s changes'
rebase\t'The branch\'s commits replayed on the base, then fast-forwarded'
ff\t'Only a fast-forward; refuses when the base has moved on'"
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l all -d 'Land every agent with something to land, as one train'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l keep-going -d 'When a train\'s checks fail, land the largest passing subset it can prove (taking out each agent that breaks them), not only the largest passing prefix'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l no-checks -d 'Do not run the policy\'s checks; the receipt says they were skipped'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -s n -l dry-run -d 'Report what would happen, and change nothing'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l accept -d 'Land a proposer agent\'s work, after its diff stat is shown'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l remove -d 'Remove the agent after landing, as `git agent rm` would'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -l json -d 'Print JSON instead of text: what happened, or with --dry-run what would happen (see README)'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand land" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand unland" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand unland" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand unland" -l hard -d 'Move the base back to before the landing instead of reverting it; only while the landing is still the base\'s tip'
complete -c git-agent -n "__fish_git_agent_using_subcommand unland" -l no-checks -d 'Do not run the policy\'s checks on the revert; its receipt says they were skipped'
complete -c git-agent -n "__fish_git_agent_using_subcommand unland" -s n -l dry-run -d 'Report what would happen, and change nothing'
complete -c git-agent -n "__fish_git_agent_using_subcommand unland" -l json -d 'Print JSON instead of text (see README)'
complete -c git-agent -n "__fish_git_agent_using_subcommand unland" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand unland" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand sync" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand sync" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand sync" -l rebase -d 'Rebase the agent\'s commits onto the base (the default)'
complete -c git-agent -n "__fish_git_agent_using_subcommand sync" -l merge -d 'Merge the base into the agent\'s branch instead of rebasing'
complete -c git-agent -n "__fish_git_agent_using_subcommand sync" -l json -d 'Print JSON instead of text'
complete -c git-agent -n "__fish_git_agent_using_subcommand sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand sync" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand rm" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand rm" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand rm" -l force -d 'Remove even with unlanded commits or uncommitted or untracked files, after archiving them under refs/agent-archive/NAME/'
complete -c git-agent -n "__fish_git_agent_using_subcommand rm" -l json -d 'Print JSON instead of text'
complete -c git-agent -n "__fish_git_agent_using_subcommand rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand rm" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand restore" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand restore" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand restore" -l archive -d 'The archive to restore [default: the newest refs/agent-archive/NAME/*]' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand restore" -l path -d 'Where to put the worktree [default: where it was]' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand restore" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand doctor" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand doctor" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand doctor" -l fix -d 'Repair what was found'
complete -c git-agent -n "__fish_git_agent_using_subcommand doctor" -l reseal -d 'Accept what unsealed and tampered agents\' entries and gates are now, and seal them: after checking them, or after re-creating the seal key. Refused from an agent\'s context'
complete -c git-agent -n "__fish_git_agent_using_subcommand doctor" -l json -d 'Print JSON instead of text: each problem, its fix, and with --fix whether it was repaired'
complete -c git-agent -n "__fish_git_agent_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand audit" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand audit" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand audit" -l since -d 'Only the commits after REV (a commit, branch or tag it reaches)' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand audit" -l base -d 'The branch to audit [default: the policy\'s defaults.base]' -r
complete -c git-agent -n "__fish_git_agent_using_subcommand audit" -l json -d 'Print JSON instead of text'
complete -c git-agent -n "__fish_git_agent_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand audit" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -f -a "install" -d 'Install the pre-commit gate and the ref guard (reference-transaction hook) where git looks for hooks (core.hooksPath honoured)'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -f -a "uninstall" -d 'Remove git-agent\'s blocks from the pre-commit and reference-transaction hooks, leaving the rest'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -f -a "pre-receive" -d 'Run as a shared repository\'s pre-receive hook (reads `OLD NEW REF` lines)'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -f -a "status" -d 'Say whether the gate is installed, and where'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and not __fish_seen_subcommand_from install uninstall pre-receive status ref-guard" -f -a "ref-guard" -d 'The ref guard, as git\'s reference-transaction hook runs it (the updates come on stdin, one `<old> <new> <ref>` a line)'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from install" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from install" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from install" -l server -d 'The pre-receive hook of a shared (bare) repository instead: every pushed commit is checked against the scope of the agent that owns its branch'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from uninstall" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from uninstall" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from uninstall" -l server -d 'The pre-receive hook of a shared (bare) repository instead: every pushed commit is checked against the scope of the agent that owns its branch'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from pre-receive" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from pre-receive" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from pre-receive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from status" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from status" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from status" -l json -d 'Print JSON instead of text'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from ref-guard" -s C -d 'Run as if started in <PATH> instead of the current directory' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from ref-guard" -l color -d 'When to colour the output [default: git\'s color.ui, else auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand hooks; and __fish_seen_subcommand_from ref-guard" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand demo" -l keep -d 'Build the sandbox in DIR (which must not exist or be empty) and keep it' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand demo" -l color -d 'When to colour the output [default: auto]' -r -f -a "auto\t'Colour when writing to a terminal (whatever color.ui and NO_COLOR say)'
always\t'Always colour'
never\t'Never colour'"
complete -c git-agent -n "__fish_git_agent_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-agent -n "__fish_git_agent_using_subcommand demo" -s V -l version -d 'Print version'
complete -c git-agent -n "__fish_git_agent_using_subcommand install-extras" -l prefix -d 'Install under DIR: DIR/share/man/man1, DIR/share/bash-completion/completions, DIR/share/zsh/site-functions and DIR/share/fish/vendor_completions.d [default: the directory above the one holding git-agent, e.g. ~/.cargo]' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand install-extras" -l project-files -d 'Write the project\'s committed man/ and completions/ under DIR instead (the generator behind the drift test)' -r -F
complete -c git-agent -n "__fish_git_agent_using_subcommand install-extras" -s h -l help -d 'Print help'
complete -c git-agent -n "__fish_git_agent_using_subcommand install-extras" -s V -l version -d 'Print version'
