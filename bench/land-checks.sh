#!/usr/bin/env bash
# Benchmark the checks of a landing on the 100,000-file repository from
# ../shared/bench/make-big-repo:
#   1. `git agent land` of a 20-file change with `checks: ["true"]` against
#      the same landing with `--no-checks`: the cost of getting the merged
#      result into the checks worktree;
#   2. a small Cargo workspace inside the repository (a library of some
#      thousand functions and a program using it) with
#      `checks: ["cd tools/hello && cargo build --offline"]`: the second
#      landing's checks against the first's (the JSON's `checks.seconds`),
#      the first starting from no build output.
# usage: bench/land-checks.sh [WORKDIR [true] [cargo]]
# WORKDIR is kept and reruns reuse its repository; it must not be shared
# with the other bench scripts, since this one commits policies on main.
set -euo pipefail
# Cargo and rustup live in the real HOME, which common.sh replaces.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
shift || true
parts=${*:-true cargo}
want() { [[ " $parts " == *" $1 "* ]]; }

git-agent-hooks install >/dev/null
commit_policy() {
  printf '%s\n' "$1" > .git-agent.yaml
  git add .git-agent.yaml
  git diff --cached --quiet || git commit -q --no-verify -m "bench: policy" .git-agent.yaml
}

if want true; then
  commit_policy 'version: 1
checks: ["true"]'
  agent_dir="$work/big.agents/checked"
  if [ ! -d "$agent_dir" ]; then
    git-agent-add checked --scope drivers/ >/dev/null 2>&1
  fi
  (
    cd "$agent_dir"
    git reset -q --hard main
    git ls-files drivers | awk 'NR % 50 == 0 && n < 20 { print; n++ }' | while read -r f; do
      echo "// checked landing" >> "$f"
    done
    git commit -q --no-verify -am "checked change"
  )
  orig=$(git rev-parse main)
  reset="git reset -q --hard $orig"
  # The warm-up run makes the checks worktree (a full checkout, once).
  hyperfine --warmup 1 --runs 10 --export-json "$work/land-checks.json" \
    --prepare "$reset" -n 'git agent land --no-checks' "git-agent land checked --no-checks" \
    --prepare "$reset" -n 'git agent land (checks: true)' "git-agent land checked"
  eval "$reset"
  python3 - "$work" <<'PY'
import json, sys
r = json.load(open(f"{sys.argv[1]}/land-checks.json"))["results"]
off, on = r
print(f"land with checks [true]: {on['median']*1000:.0f} ms, with --no-checks: {off['median']*1000:.0f} ms, ratio {on['median']/off['median']:.2f}x")
PY
fi

if want cargo; then
  mkdir -p tools/hello/lib/src tools/hello/app/src
  printf '[workspace]\nmembers = ["lib", "app"]\nresolver = "2"\n' > tools/hello/Cargo.toml
  printf '[package]\nname = "hello-lib"\nversion = "0.1.0"\nedition = "2021"\n' > tools/hello/lib/Cargo.toml
  printf '[package]\nname = "hello"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\nhello-lib = { path = "../lib" }\n' > tools/hello/app/Cargo.toml
  python3 - > tools/hello/lib/src/lib.rs <<'PY'
for i in range(3000):
    print(f"pub fn f{i}(x: u64) -> u64 {{ let mut v = Vec::new(); for k in 0..x {{ v.push(k * {i} + 1); }} v.iter().sum::<u64>() ^ {i} }}")
PY
  echo 'fn main() { println!("{}", hello_lib::f7(3)); }' > tools/hello/app/src/main.rs
  printf 'target/\n' > tools/hello/.gitignore
  (cd tools/hello && cargo generate-lockfile --offline --quiet)
  git add tools/hello
  git commit -q --no-verify -m "bench: a small Cargo workspace"
  commit_policy 'version: 1
checks: ["cd tools/hello && cargo build --offline --quiet"]'
  # Start from no build output, as a first landing does.
  for d in "$repo/.git/git-agent/checks"/main.*/; do rm -rf "$d/tools/hello/target"; done
  seconds=()
  for n in 1 2; do
    name="cargo$n"
    git-agent-rm "$name" --force >/dev/null 2>&1 || true
    git-agent-add "$name" --scope tools/hello/app/ >/dev/null
    (
      cd "$work/big.agents/$name"
      echo "fn main() { println!(\"{}\", hello_lib::f$n(3)); }" > tools/hello/app/src/main.rs
      git commit -q --no-verify -am "landing $n"
    )
    seconds+=("$(git-agent land "$name" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["checks"]["seconds"])')")
  done
  python3 - "${seconds[@]}" <<'PY'
import sys
first, second = map(float, sys.argv[1:3])
print(f"cargo build checks: first landing {first:.2f} s, second {second:.2f} s, ratio {second/first:.2f}x")
PY
fi
