#!/usr/bin/env bash
# Benchmark the agent lifecycle against git doing the same job, on the
# 100,000-file repository from ../shared/bench/make-big-repo:
#   1. `git agent add` against `git worktree add -b`;
#   2. `git agent rm --force` of a clean agent against `git worktree remove`;
#   3. `git agent list` with 10 agents, each with 100 modified files, against
#      `git status --porcelain` in each of their worktrees one after another.
# usage: bench/lifecycle.sh [WORKDIR [add] [rm] [list]]
# WORKDIR is kept and reruns reuse its repository; naming parts runs only
# those (the summary reads every part's JSON found in WORKDIR).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
shift || true
parts=${*:-add rm list}
want() { [[ " $parts " == *" $1 "* ]]; }

cleanup_git='git worktree remove --force '"$work"'/wt-git >/dev/null 2>&1; git branch -D bench-git >/dev/null 2>&1; true'
cleanup_agent='git-agent-rm bench-add --force >/dev/null 2>&1; true'
if want add; then
hyperfine --runs 5 --export-json "$work/add.json" \
  --prepare "$cleanup_git" -n 'git worktree add -b' "git worktree add -q -b bench-git $work/wt-git main" \
  --prepare "$cleanup_agent" -n 'git agent add' "git-agent-add bench-add --scope drivers/ --path $work/wt-agent"
eval "$cleanup_git"; eval "$cleanup_agent"
fi

if want rm; then
hyperfine --runs 5 --export-json "$work/rm.json" \
  --prepare "$cleanup_git; git worktree add -q -b bench-git $work/wt-git main" \
  -n 'git worktree remove' "git worktree remove $work/wt-git" \
  --prepare "$cleanup_agent; git-agent-add bench-add --scope drivers/ --path $work/wt-agent >/dev/null 2>&1" \
  -n 'git agent rm --force' "git-agent-rm bench-add --force"
eval "$cleanup_git"; eval "$cleanup_agent"
fi

if want list; then
# Ten agents, each with 100 modified (unstaged) files.
for i in $(seq 0 9); do
  d="$work/big.agents/list$i"
  if [ ! -d "$d" ]; then
    git-agent-add "list$i" --scope "drivers/" >/dev/null 2>&1
    # awk picks the 100 files itself: cutting git's output short with head
    # would make git fail on the closed pipe.
    (cd "$d" && git ls-files | awk -v k="$i" 'NR % 1000 == k + 1 && n < 100 { print; n++ }' | while read -r f; do echo "// list $i" >> "$f"; done)
  fi
done
# Every registered agent, as list shows them all (the other benchmarks in
# WORKDIR leave agents of their own).
mapfile -t dirs < <(git-agent-list --json | python3 -c 'import json,sys; [print(a["path"]) for a in json.load(sys.stdin)["agents"]]')
seq_status="for d in ${dirs[*]}; do git -C \$d status --porcelain >/dev/null; done"
hyperfine --warmup 2 --runs 10 --export-json "$work/list.json" \
  --prepare true -n 'git status --porcelain in each worktree, one after another' "$seq_status" \
  --prepare true -n 'git agent list' 'git-agent list' \
  --prepare 'rm -f .git/worktrees/*/git-agent-dircache' \
  -n 'git agent list, directory cache emptied first' 'git-agent-list'
fi

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
import os
for name in ["add", "rm", "list"]:
    if not os.path.exists(f"{work}/{name}.json"):
        continue
    results = json.load(open(f"{work}/{name}.json"))["results"]
    git = results[0]
    for ours in results[1:]:
        print(f"{name}: {git['command']}: median {git['median']*1000:.1f} ms; {ours['command']}: median {ours['median']*1000:.1f} ms; ratio {ours['median']/git['median']:.2f}x")
PY
