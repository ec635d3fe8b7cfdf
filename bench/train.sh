#!/usr/bin/env bash
# Benchmark landing trains on the 100,000-file repository from
# ../shared/bench/make-big-repo:
#   checks:   20 agents with disjoint changes and a check that sleeps 2 s:
#             `git agent land --all` against twenty `git agent land NAME`s.
#   branches: 200 agents' branches with disjoint changes, --no-checks:
#             `git agent land --all` against 200 `git merge --no-ff`s of the
#             same branches, in a copy of the repository of its own.
# usage: bench/train.sh [WORKDIR] [checks] [branches]
#        (WORKDIR is kept and reruns reuse it; give the train a WORKDIR of
#        its own, since `--all` lands every agent there; ~11 GB of disk for
#        the twenty worktrees; both parts by default)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
parts=("${@:2}")
[ ${#parts[@]} -gt 0 ] || parts=(checks branches)

# Twenty real agents (worktrees of 100,000 files), on a base of their own
# whose policy has the check; the base is not checked out anywhere.
checks() {
  cd "$repo"
  if ! git rev-parse -q --verify refs/heads/train-base >/dev/null; then
    commits train-base 'policy' .git-agent.yaml $'version: 1\nchecks: ["sleep 2"]\n' |
      git fast-import --quiet
  fi
  names=()
  for i in $(seq -w 0 19); do
    name="train$i"
    names+=("$name")
    dir="$work/big.agents/$name"
    if [ ! -d "$dir" ]; then
      git-agent-add "$name" --base train-base --scope "tools/train$i/" >/dev/null 2>&1
      mkdir -p "$dir/tools/train$i"
      echo "train $i" > "$dir/tools/train$i/change.txt"
      git -C "$dir" add "tools/train$i"
      git -C "$dir" commit -q --no-verify -m "train $i"
    fi
  done
  orig=$(git rev-parse train-base)
  reset="git update-ref refs/heads/train-base $orig"
  # The base's checks worktree is made by the first landing; make it now.
  git-agent land "${names[0]}" >/dev/null 2>&1
  eval "$reset"
  sequential="for n in ${names[*]}; do git-agent land \$n >/dev/null 2>&1 || exit 1; done"
  hyperfine --runs 3 --export-json "$work/train-checks.json" \
    --prepare "$reset" -n '20 x git agent land NAME' "$sequential" \
    --prepare "$reset" -n 'git agent land --all' "git-agent land --all"
  eval "$reset"
  summary
  eval "$reset"
  ratio train-checks
}

# 200 agents registered without worktrees (checking out 100,000 files 200
# times would take hours): their branches made with fast-import, their
# registry entries written and sealed with `doctor --reseal`. With no
# directory there is nothing uncommitted to look for, as for a clone that
# is gone; every other step of the gate runs.
branches() {
  many="$work/many"
  if [ ! -d "$many" ]; then
    git clone -q --shared "$repo" "$many"
    cd "$many"
    git-agent hooks install >/dev/null
    for i in $(seq -w 0 199); do
      commits "agent/b$i" "branch $i" "tools/b$i/change.txt" "$i"$'\n'
    done | git fast-import --quiet
    python3 - "$many" <<'PY'
import json, os, sys
many = sys.argv[1]
path = os.path.join(many, ".git/git-agent/agents.json")
agents = {}
for i in range(200):
    name = f"b{i:03d}"
    agents[name] = dict(name=name, branch=f"agent/{name}", path=f"{many}.agents/{name}",
                        base="main", scope=[f"tools/{name}/"], areas=[], task=None,
                        role="writer", mode="worktree", state="ready", created=1700200000,
                        port=40000 + i)
os.makedirs(os.path.dirname(path), exist_ok=True)
json.dump({"version": 1, "agents": agents}, open(path, "w"), indent=2)
PY
    git-agent doctor --reseal >/dev/null || true
  fi
  cd "$many"
  orig=$(git rev-parse main)
  reset="git reset -q --hard $orig"
  merges="for i in \$(seq -w 0 199); do git merge -q --no-ff --no-edit agent/b\$i || exit 1; done"
  hyperfine --runs 3 --export-json "$work/train-branches.json" \
    --prepare "$reset" -n '200 x git merge --no-ff' "$merges" \
    --prepare "$reset" -n 'git agent land --all --no-checks' "git-agent land --all --no-checks"
  eval "$reset"
  summary --no-checks
  eval "$reset"
  ratio train-branches
}

# A fast-import commit on refs/heads/$1 from main: message $2, adding
# file $3 with content $4.
commits() {
  printf 'commit refs/heads/%s\ncommitter Bench <bench@example.com> 1700100000 +0000\ndata %d\n%s\nfrom refs/heads/main\nM 100644 inline %s\ndata %d\n%s\n' \
    "$1" "${#2}" "$2" "$3" "${#4}" "$4"
}

# One more train, to show that every agent landed and how often the checks
# ran.
summary() {
  git-agent land --all --json "$@" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
agents, runs = r["agents"], r["check_runs"]
landed = sum(c["verdict"] == "landed" for c in agents)
print(f"train: {landed} of {len(agents)} agents landed, checks ran {runs} time(s)")'
}

ratio() {
  python3 - "$work/$1.json" "$1" <<'PY'
import json, sys
base, ours = json.load(open(sys.argv[1]))["results"]
print(f"{sys.argv[2]}: {base['command']} median {base['median']:.2f} s, "
      f"{ours['command']} median {ours['median']:.2f} s, ratio {ours['median']/base['median']:.3f}x")
PY
}

for part in "${parts[@]}"; do
  "$part"
done
