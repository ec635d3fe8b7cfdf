
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'git-agent' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'git-agent'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'git-agent' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter .git-agent.yaml and install the pre-commit gate')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Create an agent: branch agent/NAME from the base, its own worktree, and its scope')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the agents: branch, path, ahead/behind, uncommitted work, scope, lease')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the agents: branch, path, ahead/behind, uncommitted work, scope, lease')
            [CompletionResult]::new('scope', 'scope', [CompletionResultType]::ParameterValue, 'Show or edit an agent''s scope, or check changes against it (the gate)')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command in an agent''s directory, holding its single-writer lease')
            [CompletionResult]::new('brief', 'brief', [CompletionResultType]::ParameterValue, 'Print what an agent should be told at the start of its session: its task, scope, protected paths and the rules it works by')
            [CompletionResult]::new('guard', 'guard', [CompletionResultType]::ParameterValue, 'Write an agent''s scope into the permission files of Claude Code, Codex, Cursor and Gemini in its worktree, replacing what git-agent wrote there before')
            [CompletionResult]::new('conflicts', 'conflicts', [CompletionResultType]::ParameterValue, 'Forecast conflicts: every agent merged in memory with its base and with every other agent; files several agents change; overlapping scopes; a landing order. Exits 1 when any conflict is predicted')
            [CompletionResult]::new('land', 'land', [CompletionResultType]::ParameterValue, 'Integrate an agent''s branch into its base: every commit re-checked against the scope, the merge forecast in memory, the policy''s checks run on the merged result, then the base moved atomically. Several agents (or --all) land as a train: each gated as alone, merged in memory in order, the checks run once (a failure bisected), the base moved once')
            [CompletionResult]::new('unland', 'unland', [CompletionResultType]::ParameterValue, 'Take an agent''s latest landing back off its base, keeping its work')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Bring the base''s new commits into an agent''s branch, in its worktree')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an agent: its worktree, branch and registry entry. Refuses when work would be lost; --force archives that work first')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Bring back an agent removed with `rm --force`, from its archive')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Find and repair drift: worktrees moved or deleted by hand, registry entries without a branch, agent branches without an entry, stale leases, and an `add` that crashed half-way')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Check the base''s history against its policy: each first-parent commit is landed (its receipt verifies), direct (no receipt, no sign of an agent) or suspicious; so is a move of the base in the reflog not made by land. Exits 1 when anything is suspicious')
            [CompletionResult]::new('hooks', 'hooks', [CompletionResultType]::ParameterValue, 'Install, remove or inspect the pre-commit gate')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Build a sandbox repository with three agents and walk through the whole flow, narrating each step: the gate, landing, conflicts, safe removal')
            [CompletionResult]::new('install-extras', 'install-extras', [CompletionResultType]::ParameterValue, 'Install man pages and shell completions where man and the shells look')
            break
        }
        'git-agent;init' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'The branch agents start from and land into [default: the current branch]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing .git-agent.yaml in the working tree')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;add' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'A path pattern (.gitignore syntax) the agent may change; repeatable')
            [CompletionResult]::new('--area', '--area', [CompletionResultType]::ParameterName, 'A named scope from the policy''s `areas`; repeatable')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'The branch to start from and land into [default: the policy''s defaults.base]')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Where to put the worktree [default: the policy''s defaults.worktrees, or ../<repo>.agents/NAME]')
            [CompletionResult]::new('--task', '--task', [CompletionResultType]::ParameterName, 'What the agent is asked to do, shown by `git agent list -l`')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'writer commits its own work; a proposer''s work lands only with --accept')
            [CompletionResult]::new('--guardrails', '--guardrails', [CompletionResultType]::ParameterName, 'The agent tools whose permission files get the scope in the new worktree: none, or a comma-separated list of claude, codex, cursor, gemini [default: all]')
            [CompletionResult]::new('--clone', '--clone', [CompletionResultType]::ParameterName, 'Make a local clone that borrows this repository''s objects (never copies them) instead of a worktree: for tools that cannot handle worktrees, and sandboxes that may not write this repository''s .git')
            [CompletionResult]::new('--sparse', '--sparse', [CompletionResultType]::ParameterName, 'Check out only the scope and the policy''s `context:` patterns, with git''s sparse-checkout (cone mode and a sparse index when every pattern is a directory) [default: the policy''s defaults.sparse]')
            [CompletionResult]::new('--no-sparse', '--no-sparse', [CompletionResultType]::ParameterName, 'Check out every file, whatever the policy''s defaults.sparse says')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;list' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Also show each agent''s scope and task')
            [CompletionResult]::new('--long', '--long', [CompletionResultType]::ParameterName, 'Also show each agent''s scope and task')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--names', '--names', [CompletionResultType]::ParameterName, 'Print only the agents'' names, one per line, without computing any status (for scripts and shell completion)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;ls' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Also show each agent''s scope and task')
            [CompletionResult]::new('--long', '--long', [CompletionResultType]::ParameterName, 'Also show each agent''s scope and task')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('--names', '--names', [CompletionResultType]::ParameterName, 'Print only the agents'' names, one per line, without computing any status (for scripts and shell completion)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;scope' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Replace the agent''s own patterns')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add patterns to the agent''s scope')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove patterns from the agent''s scope')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'The gate: exit 1 and name every changed path outside the scope')
            break
        }
        'git-agent;scope;set' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;scope;add' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;scope;rm' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;scope;check' {
            [CompletionResult]::new('--range', '--range', [CompletionResultType]::ParameterName, 'Check every commit in A..B, each against its first parent')
            [CompletionResult]::new('--paths', '--paths', [CompletionResultType]::ParameterName, 'Check the given paths')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'The agent, registered or standing in the committed manifest [default: the agent of the current worktree, or for --range, the agent that owns the range''s end branch]')
            [CompletionResult]::new('--agent-from-branch', '--agent-from-branch', [CompletionResultType]::ParameterName, 'The agent that owns BRANCH (`branches:` of a standing agent, or agent/NAME); with no owner there is nothing to check. For CI, where HEAD is not the branch')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to report: text, json, github (workflow-command annotations) or gitlab (code-quality JSON)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--staged', '--staged', [CompletionResultType]::ParameterName, 'Check the staged changes (index against HEAD). The default')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text (as --format json)')
            [CompletionResult]::new('--hook', '--hook', [CompletionResultType]::ParameterName, 'Run as the pre-commit hook: allow everything outside agent worktrees')
            [CompletionResult]::new('--claude-hook', '--claude-hook', [CompletionResultType]::ParameterName, 'Run as Claude Code''s PreToolUse hook: read its JSON on stdin, exit 2 with the refusal on stderr when the edited path is outside the scope, 0 and silent when inside')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;exec' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--sandbox', '--sandbox', [CompletionResultType]::ParameterName, 'Let CMD and its children write only in the agent''s scope, its git directory, the policy''s `sandbox.writable`, temporary directories and --writable directories (Linux, Landlock). `strict` (the default) refuses to run where the kernel cannot confine CMD; `best-effort` runs it unconfined with a warning. The policy''s `defaults.sandbox: true` makes `strict` the default')
            [CompletionResult]::new('--writable', '--writable', [CompletionResultType]::ParameterName, 'With the sandbox, also let CMD write below DIR (repeatable), e.g. the agent''s own state directory')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;brief' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print {"version": 1, "agent", "task", "scope", "protected", "rules", "check", ...} instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;guard' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--guardrails', '--guardrails', [CompletionResultType]::ParameterName, 'Which tools: none, or a comma-separated list of claude, codex, cursor, gemini [default: those written before, else all]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;conflicts' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print {"version": 1, "pairs": [...], ...} (see README)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;land' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--order', '--order', [CompletionResultType]::ParameterName, 'The order a train merges its agents in: the conflict forecast''s (fewest conflicts first) or the order given')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'How to integrate [default: the policy''s defaults.strategy, else merge]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Land every agent with something to land, as one train')
            [CompletionResult]::new('--keep-going', '--keep-going', [CompletionResultType]::ParameterName, 'When a train''s checks fail, land the largest passing subset it can prove (taking out each agent that breaks them), not only the largest passing prefix')
            [CompletionResult]::new('--no-checks', '--no-checks', [CompletionResultType]::ParameterName, 'Do not run the policy''s checks; the receipt says they were skipped')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Report what would happen, and change nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Report what would happen, and change nothing')
            [CompletionResult]::new('--accept', '--accept', [CompletionResultType]::ParameterName, 'Land a proposer agent''s work, after its diff stat is shown')
            [CompletionResult]::new('--remove', '--remove', [CompletionResultType]::ParameterName, 'Remove the agent after landing, as `git agent rm` would')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text: what happened, or with --dry-run what would happen (see README)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;unland' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--hard', '--hard', [CompletionResultType]::ParameterName, 'Move the base back to before the landing instead of reverting it; only while the landing is still the base''s tip')
            [CompletionResult]::new('--no-checks', '--no-checks', [CompletionResultType]::ParameterName, 'Do not run the policy''s checks on the revert; its receipt says they were skipped')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Report what would happen, and change nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Report what would happen, and change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text (see README)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;sync' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--rebase', '--rebase', [CompletionResultType]::ParameterName, 'Rebase the agent''s commits onto the base (the default)')
            [CompletionResult]::new('--merge', '--merge', [CompletionResultType]::ParameterName, 'Merge the base into the agent''s branch instead of rebasing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;rm' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Remove even with unlanded commits or uncommitted or untracked files, after archiving them under refs/agent-archive/NAME/')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;restore' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'The archive to restore [default: the newest refs/agent-archive/NAME/*]')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Where to put the worktree [default: where it was]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;doctor' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--fix', '--fix', [CompletionResultType]::ParameterName, 'Repair what was found')
            [CompletionResult]::new('--reseal', '--reseal', [CompletionResultType]::ParameterName, 'Accept what unsealed and tampered agents'' entries and gates are now, and seal them: after checking them, or after re-creating the seal key. Refused from an agent''s context')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text: each problem, its fix, and with --fix whether it was repaired')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;audit' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only the commits after REV (a commit, branch or tag it reaches)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'The branch to audit [default: the policy''s defaults.base]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;hooks' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the pre-commit gate and the ref guard (reference-transaction hook) where git looks for hooks (core.hooksPath honoured)')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove git-agent''s blocks from the pre-commit and reference-transaction hooks, leaving the rest')
            [CompletionResult]::new('pre-receive', 'pre-receive', [CompletionResultType]::ParameterValue, 'Run as a shared repository''s pre-receive hook (reads `OLD NEW REF` lines)')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether the gate is installed, and where')
            [CompletionResult]::new('ref-guard', 'ref-guard', [CompletionResultType]::ParameterValue, 'The ref guard, as git''s reference-transaction hook runs it (the updates come on stdin, one `<old> <new> <ref>` a line)')
            break
        }
        'git-agent;hooks;install' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The pre-receive hook of a shared (bare) repository instead: every pushed commit is checked against the scope of the agent that owns its branch')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;hooks;uninstall' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The pre-receive hook of a shared (bare) repository instead: every pushed commit is checked against the scope of the agent that owns its branch')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;hooks;pre-receive' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;hooks;status' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;hooks;ref-guard' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in <PATH> instead of the current directory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: git''s color.ui, else auto]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'git-agent;demo' {
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Build the sandbox in DIR (which must not exist or be empty) and keep it')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output [default: auto]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'git-agent;install-extras' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Install under DIR: DIR/share/man/man1, DIR/share/bash-completion/completions, DIR/share/zsh/site-functions and DIR/share/fish/vendor_completions.d [default: the directory above the one holding git-agent, e.g. ~/.cargo]')
            [CompletionResult]::new('--project-files', '--project-files', [CompletionResultType]::ParameterName, 'Write the project''s committed man/ and completions/ under DIR instead (the generator behind the drift test)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
