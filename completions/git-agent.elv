
use builtin;
use str;

set edit:completion:arg-completer[git-agent] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'git-agent'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'git-agent'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Write a commented starter .git-agent.yaml and install the pre-commit gate'
            cand add 'Create an agent: branch agent/NAME from the base, its own worktree, and its scope'
            cand list 'List the agents: branch, path, ahead/behind, uncommitted work, scope, lease'
            cand ls 'List the agents: branch, path, ahead/behind, uncommitted work, scope, lease'
            cand scope 'Show or edit an agent''s scope, or check changes against it (the gate)'
            cand exec 'Run a command in an agent''s directory, holding its single-writer lease'
            cand brief 'Print what an agent should be told at the start of its session: its task, scope, protected paths and the rules it works by'
            cand guard 'Write an agent''s scope into the permission files of Claude Code, Codex, Cursor and Gemini in its worktree, replacing what git-agent wrote there before'
            cand conflicts 'Forecast conflicts: every agent merged in memory with its base and with every other agent; files several agents change; overlapping scopes; a landing order. Exits 1 when any conflict is predicted'
            cand land 'Integrate an agent''s branch into its base: every commit re-checked against the scope, the merge forecast in memory, the policy''s checks run on the merged result, then the base moved atomically. Several agents (or --all) land as a train: each gated as alone, merged in memory in order, the checks run once (a failure bisected), the base moved once'
            cand unland 'Take an agent''s latest landing back off its base, keeping its work'
            cand sync 'Bring the base''s new commits into an agent''s branch, in its worktree'
            cand rm 'Remove an agent: its worktree, branch and registry entry. Refuses when work would be lost; --force archives that work first'
            cand restore 'Bring back an agent removed with `rm --force`, from its archive'
            cand doctor 'Find and repair drift: worktrees moved or deleted by hand, registry entries without a branch, agent branches without an entry, stale leases, and an `add` that crashed half-way'
            cand audit 'Check the base''s history against its policy: each first-parent commit is landed (its receipt verifies), direct (no receipt, no sign of an agent) or suspicious; so is a move of the base in the reflog not made by land. Exits 1 when anything is suspicious'
            cand hooks 'Install, remove or inspect the pre-commit gate'
            cand demo 'Build a sandbox repository with three agents and walk through the whole flow, narrating each step: the gate, landing, conflicts, safe removal'
            cand install-extras 'Install man pages and shell completions where man and the shells look'
        }
        &'git-agent;init'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --base 'The branch agents start from and land into [default: the current branch]'
            cand --force 'Overwrite an existing .git-agent.yaml in the working tree'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;add'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --scope 'A path pattern (.gitignore syntax) the agent may change; repeatable'
            cand --area 'A named scope from the policy''s `areas`; repeatable'
            cand --base 'The branch to start from and land into [default: the policy''s defaults.base]'
            cand --path 'Where to put the worktree [default: the policy''s defaults.worktrees, or ../<repo>.agents/NAME]'
            cand --task 'What the agent is asked to do, shown by `git agent list -l`'
            cand --role 'writer commits its own work; a proposer''s work lands only with --accept'
            cand --guardrails 'The agent tools whose permission files get the scope in the new worktree: none, or a comma-separated list of claude, codex, cursor, gemini [default: all]'
            cand --clone 'Make a local clone that borrows this repository''s objects (never copies them) instead of a worktree: for tools that cannot handle worktrees, and sandboxes that may not write this repository''s .git'
            cand --sparse 'Check out only the scope and the policy''s `context:` patterns, with git''s sparse-checkout (cone mode and a sparse index when every pattern is a directory) [default: the policy''s defaults.sparse]'
            cand --no-sparse 'Check out every file, whatever the policy''s defaults.sparse says'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;list'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand -l 'Also show each agent''s scope and task'
            cand --long 'Also show each agent''s scope and task'
            cand --json 'Print JSON instead of a table'
            cand --names 'Print only the agents'' names, one per line, without computing any status (for scripts and shell completion)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;ls'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand -l 'Also show each agent''s scope and task'
            cand --long 'Also show each agent''s scope and task'
            cand --json 'Print JSON instead of a table'
            cand --names 'Print only the agents'' names, one per line, without computing any status (for scripts and shell completion)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;scope'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand set 'Replace the agent''s own patterns'
            cand add 'Add patterns to the agent''s scope'
            cand rm 'Remove patterns from the agent''s scope'
            cand check 'The gate: exit 1 and name every changed path outside the scope'
        }
        &'git-agent;scope;set'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;scope;add'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;scope;rm'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;scope;check'= {
            cand --range 'Check every commit in A..B, each against its first parent'
            cand --paths 'Check the given paths'
            cand --agent 'The agent, registered or standing in the committed manifest [default: the agent of the current worktree, or for --range, the agent that owns the range''s end branch]'
            cand --agent-from-branch 'The agent that owns BRANCH (`branches:` of a standing agent, or agent/NAME); with no owner there is nothing to check. For CI, where HEAD is not the branch'
            cand --format 'How to report: text, json, github (workflow-command annotations) or gitlab (code-quality JSON)'
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --staged 'Check the staged changes (index against HEAD). The default'
            cand --json 'Print JSON instead of text (as --format json)'
            cand --hook 'Run as the pre-commit hook: allow everything outside agent worktrees'
            cand --claude-hook 'Run as Claude Code''s PreToolUse hook: read its JSON on stdin, exit 2 with the refusal on stderr when the edited path is outside the scope, 0 and silent when inside'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;exec'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --sandbox 'Let CMD and its children write only in the agent''s scope, its git directory, the policy''s `sandbox.writable`, temporary directories and --writable directories (Linux, Landlock). `strict` (the default) refuses to run where the kernel cannot confine CMD; `best-effort` runs it unconfined with a warning. The policy''s `defaults.sandbox: true` makes `strict` the default'
            cand --writable 'With the sandbox, also let CMD write below DIR (repeatable), e.g. the agent''s own state directory'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;brief'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --json 'Print {"version": 1, "agent", "task", "scope", "protected", "rules", "check", ...} instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;guard'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --guardrails 'Which tools: none, or a comma-separated list of claude, codex, cursor, gemini [default: those written before, else all]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;conflicts'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --json 'Print {"version": 1, "pairs": [...], ...} (see README)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;land'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --order 'The order a train merges its agents in: the conflict forecast''s (fewest conflicts first) or the order given'
            cand --strategy 'How to integrate [default: the policy''s defaults.strategy, else merge]'
            cand --all 'Land every agent with something to land, as one train'
            cand --keep-going 'When a train''s checks fail, land the largest passing subset it can prove (taking out each agent that breaks them), not only the largest passing prefix'
            cand --no-checks 'Do not run the policy''s checks; the receipt says they were skipped'
            cand -n 'Report what would happen, and change nothing'
            cand --dry-run 'Report what would happen, and change nothing'
            cand --accept 'Land a proposer agent''s work, after its diff stat is shown'
            cand --remove 'Remove the agent after landing, as `git agent rm` would'
            cand --json 'Print JSON instead of text: what happened, or with --dry-run what would happen (see README)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;unland'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --hard 'Move the base back to before the landing instead of reverting it; only while the landing is still the base''s tip'
            cand --no-checks 'Do not run the policy''s checks on the revert; its receipt says they were skipped'
            cand -n 'Report what would happen, and change nothing'
            cand --dry-run 'Report what would happen, and change nothing'
            cand --json 'Print JSON instead of text (see README)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;sync'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --rebase 'Rebase the agent''s commits onto the base (the default)'
            cand --merge 'Merge the base into the agent''s branch instead of rebasing'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;rm'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --force 'Remove even with unlanded commits or uncommitted or untracked files, after archiving them under refs/agent-archive/NAME/'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;restore'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --archive 'The archive to restore [default: the newest refs/agent-archive/NAME/*]'
            cand --path 'Where to put the worktree [default: where it was]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;doctor'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --fix 'Repair what was found'
            cand --reseal 'Accept what unsealed and tampered agents'' entries and gates are now, and seal them: after checking them, or after re-creating the seal key. Refused from an agent''s context'
            cand --json 'Print JSON instead of text: each problem, its fix, and with --fix whether it was repaired'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;audit'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --since 'Only the commits after REV (a commit, branch or tag it reaches)'
            cand --base 'The branch to audit [default: the policy''s defaults.base]'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;hooks'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Install the pre-commit gate and the ref guard (reference-transaction hook) where git looks for hooks (core.hooksPath honoured)'
            cand uninstall 'Remove git-agent''s blocks from the pre-commit and reference-transaction hooks, leaving the rest'
            cand pre-receive 'Run as a shared repository''s pre-receive hook (reads `OLD NEW REF` lines)'
            cand status 'Say whether the gate is installed, and where'
            cand ref-guard 'The ref guard, as git''s reference-transaction hook runs it (the updates come on stdin, one `<old> <new> <ref>` a line)'
        }
        &'git-agent;hooks;install'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --server 'The pre-receive hook of a shared (bare) repository instead: every pushed commit is checked against the scope of the agent that owns its branch'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;hooks;uninstall'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --server 'The pre-receive hook of a shared (bare) repository instead: every pushed commit is checked against the scope of the agent that owns its branch'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;hooks;pre-receive'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;hooks;status'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;hooks;ref-guard'= {
            cand -C 'Run as if started in <PATH> instead of the current directory'
            cand --color 'When to colour the output [default: git''s color.ui, else auto]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'git-agent;demo'= {
            cand --keep 'Build the sandbox in DIR (which must not exist or be empty) and keep it'
            cand --color 'When to colour the output [default: auto]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'git-agent;install-extras'= {
            cand --prefix 'Install under DIR: DIR/share/man/man1, DIR/share/bash-completion/completions, DIR/share/zsh/site-functions and DIR/share/fish/vendor_completions.d [default: the directory above the one holding git-agent, e.g. ~/.cargo]'
            cand --project-files 'Write the project''s committed man/ and completions/ under DIR instead (the generator behind the drift test)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
