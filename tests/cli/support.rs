use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory with a hermetic git environment and, by default, a
/// repository `repo` inside it with one commit on `main`.
pub struct Env {
    /// Removed when the test ends.
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_git-agent"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// The result of running a command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Env {
    /// An environment with an empty repository at `repo`.
    pub fn empty() -> Env {
        Env::empty_in(&std::env::temp_dir())
    }

    /// An empty repository in a scratch directory below `parent`.
    pub fn empty_in(parent: &Path) -> Env {
        std::fs::create_dir_all(parent).unwrap();
        let tmp = tempfile::Builder::new()
            .prefix("git-agent-test.")
            .tempdir_in(parent)
            .unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::write(
            root.join(".gitconfig"),
            "[init]\n\tdefaultBranch = main\n[user]\n\tname = Tester\n\temail = tester@example.com\n",
        )
        .unwrap();
        let env = Env { _tmp: tmp, root };
        std::fs::create_dir(env.repo()).unwrap();
        env.git(&["init", "-q"]);
        env
    }

    /// A repository with a few files committed on `main`.
    pub fn new() -> Env {
        Env::new_in(&std::env::temp_dir())
    }

    /// [`Env::new`] below `parent`.
    pub fn new_in(parent: &Path) -> Env {
        let env = Env::empty_in(parent);
        env.write("src/billing/invoice.rs", "fn total() {}\n");
        env.write("src/billing/secrets/key.rs", "const K: u8 = 1;\n");
        env.write("src/api/routes.rs", "fn routes() {}\n");
        env.write("docs/guide.md", "# Guide\n");
        env.write("README.md", "# Shop\n");
        env.write("Cargo.lock", "# lock\n");
        env.git(&["add", "-A"]);
        env.git(&["commit", "-q", "-m", "Initial"]);
        env
    }

    /// A repository with a committed policy and the gate installed.
    pub fn with_policy(policy: &str) -> Env {
        let env = Env::new();
        env.commit_policy(policy);
        env.ok(env.agent("hooks", &["install"]));
        env
    }

    pub fn commit_policy(&self, policy: &str) {
        self.write(".git-agent.yaml", policy);
        self.git(&["add", ".git-agent.yaml"]);
        self.git(&["commit", "-q", "-m", "Policy"]);
    }

    pub fn repo(&self) -> PathBuf {
        self.root.join("repo")
    }

    /// The default worktree of agent `name`.
    pub fn agent_dir(&self, name: &str) -> PathBuf {
        self.root.join("repo.agents").join(name)
    }

    pub fn write(&self, rel: &str, text: &str) {
        write_in(&self.repo(), rel, text);
    }

    /// A command with the hermetic environment, run in `dir`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir);
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("GIT_") {
                cmd.env_remove(&key);
            }
        }
        let path = std::env::join_paths(std::iter::once(bin_dir()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .unwrap();
        cmd.env("PATH", path)
            .env("HOME", &self.root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.root.join(".gitconfig"))
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("NO_COLOR", "1")
            .env_remove("GIT_AGENT")
            // The seal key goes under HOME/.config, inside the test's directory.
            .env_remove("XDG_CONFIG_HOME");
        cmd
    }

    /// Run git in the main worktree; panic unless it succeeds.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.repo(), args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let run = self.git_run(dir, args);
        assert_eq!(run.code, 0, "git {args:?} in {}: {run:?}", dir.display());
        run.stdout
    }

    pub fn git_run(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from_output(self.command("git", dir).args(args).output().unwrap())
    }

    /// Run `git-agent-<cmd> args` in the main worktree.
    pub fn agent(&self, cmd: &str, args: &[&str]) -> Run {
        self.agent_in(&self.repo(), cmd, args)
    }

    pub fn agent_in(&self, dir: &Path, cmd: &str, args: &[&str]) -> Run {
        Run::from_output(
            self.command(bin(&format!("git-agent-{cmd}")), dir)
                .args(args)
                .output()
                .unwrap(),
        )
    }

    pub fn ok(&self, run: Run) -> Run {
        assert_eq!(run.code, 0, "{run:?}");
        run
    }

    /// Everything a command could change: refs, worktrees, the registry,
    /// the index and working tree, hooks, and what sits beside the repo.
    pub fn state(&self) -> String {
        let mut s = String::new();
        s += &self.git(&["for-each-ref", "--format=%(refname) %(objectname)"]);
        // A landing's checks worktree is a cache, kept between landings.
        s += &self
            .git(&["worktree", "list", "--porcelain"])
            .split("\n\n")
            .filter(|record| !record.contains("/.git/git-agent/checks/"))
            .collect::<Vec<_>>()
            .join("\n\n");
        s += &self.git(&["status", "--porcelain", "--untracked-files=all"]);
        s += &std::fs::read_to_string(self.repo().join(".git/git-agent/agents.json"))
            .unwrap_or_default();
        s +=
            &std::fs::read_to_string(self.repo().join(".git/hooks/pre-commit")).unwrap_or_default();
        let mut beside: Vec<String> = std::fs::read_dir(&self.root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            // The user's configuration (the seal key), not the repository.
            .filter(|name| name != ".config")
            .collect();
        beside.sort();
        s += &beside.join(",");
        if let Ok(agents) = std::fs::read_dir(self.root.join("repo.agents")) {
            let mut names: Vec<String> = agents
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            s += &names.join(",");
        }
        s
    }
}

pub fn write_in(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Assert that `run` failed with bad input (exit 2), that stderr contains
/// every one of `needles`, and that nothing changed.
pub fn assert_bad_input(env: &Env, before: &str, run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 2, "{run:?}");
    for n in needles {
        assert!(run.stderr.contains(n), "stderr lacks {n:?}: {run:?}");
    }
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    assert_eq!(before, env.state(), "the repository changed");
}

/// The pid of a process that has exited.
pub fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

impl Env {
    /// A lease for `agent` as a `git agent exec` run by `pid` would leave it.
    pub fn write_lease(&self, agent: &str, pid: u32, command: &str) -> PathBuf {
        let leases = self.repo().join(".git/git-agent/leases");
        std::fs::create_dir_all(&leases).unwrap();
        let path = leases.join(format!("{agent}.json"));
        std::fs::write(
            &path,
            format!("{{\"pid\":{pid},\"command\":\"{command}\",\"since\":1}}"),
        )
        .unwrap();
        path
    }
}

/// The JSON document a `--json` run printed: stdout must hold it and
/// nothing else.
pub fn json_of(run: &Run) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {run:?}"));
    assert_eq!(value["version"], 1, "{run:?}");
    value
}

/// Whether this run is CI's (`CI=true`), where every tool a test needs is
/// installed (see `.ci/run`) and a missing one is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `found`, or `None` after saying why the test is skipped: a fresh machine
/// with only git and Rust runs the suite, skipping what needs `what`. Under
/// CI a missing tool fails the test instead.
pub fn require(what: &str, found: Option<PathBuf>) -> Option<PathBuf> {
    if found.is_some() {
        return found;
    }
    assert!(
        !in_ci(),
        "{what} is needed for this test, and CI=true: .ci/run installs it"
    );
    // Straight to the stream, past the test harness's capture, so the
    // skip shows in `cargo test`'s output.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "skipped {}: {what} is not installed\n",
            std::thread::current().name().unwrap_or("a test")
        )
        .as_bytes(),
    );
    None
}

/// The program `name` on PATH (see [`require`]).
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p));
    require(name, found)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// git as agent `a` would run it: in `dir`, with `GIT_AGENT=a` when
/// `as_agent`, and editors that accept what git proposes.
pub fn git_as(env: &Env, dir: &Path, as_agent: bool, args: &[&str]) -> Run {
    let mut cmd = env.command("git", dir);
    if as_agent {
        cmd.env("GIT_AGENT", "a");
    }
    cmd.env("GIT_SEQUENCE_EDITOR", "true")
        .env("GIT_EDITOR", "true");
    Run::from_output(cmd.args(args).output().unwrap())
}

/// Where the test repositories go: a directory no temporary directory holds.
pub fn outside_temporary_dirs() -> PathBuf {
    let in_temp = |p: &Path| {
        let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
        git_agent::ops::sandbox::temporary_dirs()
            .into_iter()
            .chain([PathBuf::from("/dev/shm")])
            .any(|t| p.starts_with(std::fs::canonicalize(&t).unwrap_or(t)))
    };
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = if !in_temp(&scratch) {
        scratch.join("sandbox")
    } else {
        // The test process's own HOME (the harness gives only git its own).
        let home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
        assert!(
            !in_temp(&home),
            "the checkout and HOME are both in a temporary directory, which the sandbox leaves writable"
        );
        home.join(".cache/git-agent-sandbox-tests")
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// git's letter for a change kind, as `--name-status` prints it.
pub fn letter(kind: git_agent::git::changes::ChangeKind) -> char {
    use git_agent::git::changes::ChangeKind;
    match kind {
        ChangeKind::Added => 'A',
        ChangeKind::Deleted => 'D',
        ChangeKind::Modified => 'M',
        ChangeKind::TypeChanged => 'T',
        ChangeKind::Unmerged => 'U',
    }
}
