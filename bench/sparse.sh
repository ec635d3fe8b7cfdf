#!/usr/bin/env bash
# Benchmark sparse worktrees against git doing the full job, on the
# 100,000-file repository from ../shared/bench/make-big-repo:
#   1. `git agent add --sparse` with a scope of about 1% of the files (16
#      directories, about 1,000 files: cone mode with a sparse index), and
#      with the same files as globs (non-cone patterns, a full index),
#      against `git worktree add -b` of the whole tree;
#   2. `git agent list` over 10 such sparse agents, each with 10 modified
#      files, against `git status --porcelain` in 10 full worktrees, each
#      with 10 modified files, one after another.
# Targets: add at most 0.05x, list at most 0.1x.
# usage: bench/sparse.sh [WORKDIR [add] [list]]
# WORKDIR is kept and reruns reuse its repository; the 10 full worktrees
# (about 5 GB) are removed at the end.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
shift || true
parts=${*:-add list}
want() { [[ " $parts " == *" $1 "* ]]; }

# About 1% of the files: 16 of the 1,552 directories of the next level.
scope=()
for i in $(seq -w 0 15); do
  scope+=(--scope "drivers/m$i/")
done
# The same files as globs, quoted for the shell hyperfine runs.
globs="--scope 'drivers/m0?/' --scope 'drivers/m1[0-5]/'"
git ls-files drivers/ | awk -F/ '$2 < "m16"' | wc -l | xargs echo "files in the scope:"

cleanup_git='git worktree remove --force '"$work"'/wt-git >/dev/null 2>&1; git branch -D bench-git >/dev/null 2>&1; true'
cleanup_agent='git-agent-rm bench-sparse --force >/dev/null 2>&1; git-agent-rm bench-globs --force >/dev/null 2>&1; true'
if want add; then
hyperfine --runs 5 --export-json "$work/sparse-add.json" \
  --prepare "$cleanup_git" -n 'git worktree add -b' "git worktree add -q -b bench-git $work/wt-git main" \
  --prepare "$cleanup_agent" -n 'git agent add --sparse (16 directories: cone, sparse index)' \
  "git-agent-add bench-sparse --sparse ${scope[*]} --path $work/wt-sparse" \
  --prepare "$cleanup_agent" -n 'git agent add --sparse (2 globs: patterns, full index)' \
  "git-agent-add bench-globs --sparse $globs --path $work/wt-globs"
eval "$cleanup_git"; eval "$cleanup_agent"
fi

if want list; then
# Ten sparse agents and ten full worktrees, each with 10 modified files.
# awk picks the files itself: cutting git's output short with head would
# make git fail on the closed pipe.
modify() { (cd "$1" && git ls-files drivers/m00/ | awk 'NR <= 10' | while read -r f; do echo "// $2" >> "$f"; done); }
sparse_dirs=()
full_dirs=()
for i in $(seq 0 9); do
  d="$work/big.agents/sparse$i"
  if [ ! -d "$d" ]; then
    git-agent-add "sparse$i" --sparse "${scope[@]}" >/dev/null 2>&1
    modify "$d" "sparse $i"
  fi
  sparse_dirs+=("$d")
  f="$work/full$i"
  if [ ! -d "$f" ]; then
    git worktree add -q -b "bench-full$i" "$f" main
    modify "$f" "full $i"
  fi
  full_dirs+=("$f")
done
# list shows every registered agent: leave only the ten.
mapfile -t others < <(git-agent-list --json | python3 -c 'import json,sys; [print(a["name"]) for a in json.load(sys.stdin)["agents"] if not a["name"].startswith("sparse")]')
for o in "${others[@]}"; do git-agent-rm "$o" --force >/dev/null 2>&1 || true; done
seq_status="for d in ${full_dirs[*]}; do git -C \$d status --porcelain >/dev/null; done"
hyperfine --warmup 2 --runs 10 --export-json "$work/sparse-list.json" \
  -n 'git status --porcelain in 10 full worktrees, one after another' "$seq_status" \
  -n 'git agent list (10 sparse agents)' 'git-agent list'
for i in $(seq 0 9); do
  git worktree remove --force "$work/full$i" && git branch -D -q "bench-full$i"
done
fi

python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
for name in ["sparse-add", "sparse-list"]:
    if not os.path.exists(f"{work}/{name}.json"):
        continue
    results = json.load(open(f"{work}/{name}.json"))["results"]
    git = results[0]
    for ours in results[1:]:
        print(f"{name}: {git['command']}: median {git['median']*1000:.1f} ms; {ours['command']}: median {ours['median']*1000:.1f} ms; ratio {ours['median']/git['median']:.3f}x")
PY
