#!/usr/bin/env bash
# Benchmark the Claude Code hook, `git-agent scope check --claude-hook`, as
# Claude Code runs it before every edit: a PreToolUse JSON on stdin, once
# for a path in the scope (exit 0) and once for a path outside it (exit 2,
# the refusal rendered), in an agent worktree of the 100,000-file
# repository from ../shared/bench/make-big-repo. Target: at most 5 ms a call.
# usage: bench/claude-hook.sh [WORKDIR]   (WORKDIR is kept; reruns reuse it)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

if [ ! -d "$work/big.agents/hook" ]; then
  git-agent-add hook --scope 'drivers/' --scope '*.md' --guardrails claude >/dev/null
fi
dir="$work/big.agents/hook"
hook=$(command -v git-agent)
json() {
  printf '{"session_id":"s","transcript_path":"/tmp/t.jsonl","cwd":"%s","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"file_path":"%s/%s","content":"x"}}' "$dir" "$dir" "$1"
}
json drivers/new.c > "$work/hook-in.json"
json fs/new.c > "$work/hook-out.json"
"$hook" scope check --claude-hook < "$work/hook-in.json"
if "$hook" scope check --claude-hook < "$work/hook-out.json" 2>/dev/null; then
  echo "the out-of-scope call was allowed" >&2
  exit 1
fi
cd "$dir"
# hyperfine subtracts the shell's own start-up, so the redirection is free.
hyperfine --warmup 20 --runs 300 -i \
  --export-json "$work/claude-hook.json" \
  -n 'in scope (exit 0)' "$hook scope check --claude-hook < $work/hook-in.json" \
  -n 'outside (exit 2)' "$hook scope check --claude-hook < $work/hook-out.json 2>/dev/null"
