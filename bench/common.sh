# Sourced by the bench scripts: sets $root and $work (the first argument, or
# a new temporary directory), builds the release binaries and puts them
# first on PATH, scrubs git's environment, and leaves the shell in $repo,
# the 100,000-file repository from ../shared/bench/make-big-repo.
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/git-agent-bench.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# Build before HOME points into $work: rustup reads its settings from HOME.
# GIT_AGENT_BIN=DIR benchmarks the programs in DIR instead (e.g. one
# bench/install.sh installed with another release profile).
if [ -n "${GIT_AGENT_BIN:-}" ]; then
  bin=$(cd "$GIT_AGENT_BIN" && pwd)
else
  cargo build --quiet --release --locked --manifest-path "$root/Cargo.toml"
  bin="$root/target/release"
fi
export PATH="$bin:$PATH"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$work/gitconfig" HOME="$work"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_AGENT
printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n' > "$work/gitconfig"

repo="$work/big"
if [ ! -d "$repo" ]; then
  for make in "$root/../shared/bench/make-big-repo" "$root/../../shared/bench/make-big-repo"; do
    [ -f "$make" ] && break
  done
  python3 "$make" "$repo"
fi
cd "$repo"
echo "repository: $(git ls-files | wc -l) files"
