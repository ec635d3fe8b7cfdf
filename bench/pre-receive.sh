#!/usr/bin/env bash
# Benchmark the server's pre-receive gate on a 200-commit push against
# `git log --name-only` over the same commits, on a bare copy of the
# 100,000-file repository from ../shared/bench/make-big-repo.
#
# The bare repository has main, with a policy naming the standing agent
# `range` (scope `**`), and the objects of the 200-commit branch
# bench/scope-check.sh writes, but no ref to them: as git's pre-receive
# sees a push of a new branch, whose commits no ref reaches yet.
# usage: bench/pre-receive.sh [WORKDIR]   (WORKDIR is kept; reruns reuse it;
# run bench/scope-check.sh on it first, which makes the branch)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

tip=$(git rev-parse --verify agent/range) || {
  echo "run bench/scope-check.sh $work first: it makes the 200-commit branch" >&2
  exit 2
}
bare="$work/big.git"
if [ ! -d "$bare" ]; then
  git clone -q --bare --single-branch --branch main "$repo" "$bare"
  # The policy, committed on the bare main through a temporary index.
  blob=$(printf 'version: 1\nagents:\n  range: { scope: ["**"] }\n' | git -C "$bare" hash-object -w --stdin)
  export GIT_INDEX_FILE="$work/bare-index"
  git -C "$bare" read-tree main
  git -C "$bare" update-index --add --cacheinfo "100644,$blob,.git-agent.yaml"
  tree=$(git -C "$bare" write-tree)
  unset GIT_INDEX_FILE
  rm -f "$work/bare-index"
  commit=$(git -C "$bare" commit-tree "$tree" -p main -m "bench: policy")
  git -C "$bare" update-ref refs/heads/main "$commit"
  # The branch's objects, and no ref to them.
  git -C "$bare" fetch -q "$repo" agent/range
  (cd "$bare" && git-agent hooks install --server >/dev/null)
fi
cd "$bare"
zero=0000000000000000000000000000000000000000
echo "$zero $tip refs/heads/agent/range" > "$work/pre-receive-input"
echo "push: $(git rev-list --count "$tip" --not --all) new commits"

# Both through the shell, which feeds the hook its input as git would.
hyperfine --warmup 3 --runs 30 --export-json "$work/pre-receive.json" \
  -n 'git log --name-only (the new commits)' "git log --name-only $tip --not --all >/dev/null" \
  -n 'git-agent hooks pre-receive' "git-agent hooks pre-receive < $work/pre-receive-input"

python3 - "$work" <<'PY'
import json, sys
git, ours = json.load(open(f"{sys.argv[1]}/pre-receive.json"))["results"]
print(f"pre-receive: git log median {git['median']*1000:.1f} ms, git-agent median {ours['median']*1000:.1f} ms, ratio {ours['median']/git['median']:.2f}x")
PY
