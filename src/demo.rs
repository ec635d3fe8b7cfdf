//! `git agent demo`: a sandbox repository, two agents, one commit let
//! through and one refused, each step narrated. It runs the real commands
//! and the real hook, so what it shows is what a user gets.

use std::path::{Path, PathBuf};

use crate::Io;
use crate::cli::{AddArgs, Common, DemoArgs, InitArgs, RoleArg};
use crate::error::{Error, Outcome, Result};
use crate::git;

pub fn run(args: DemoArgs, io: &mut Io) -> Result<Outcome> {
    let (_temp, root) = match &args.keep {
        Some(dir) => {
            if dir.exists()
                && std::fs::read_dir(dir)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(true)
            {
                return Err(Error::usage(
                    format!("{} already exists and is not empty", dir.display()),
                    "give --keep a new or empty directory",
                ));
            }
            std::fs::create_dir_all(dir)
                .map_err(Error::io(format!("creating {}", dir.display())))?;
            (
                None,
                std::fs::canonicalize(dir).map_err(Error::io("resolving the sandbox"))?,
            )
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("git-agent-demo.")
                .tempdir()
                .map_err(Error::io("creating a temporary directory"))?;
            let p = std::fs::canonicalize(t.path()).map_err(Error::io("resolving the sandbox"))?;
            (Some(t), p)
        }
    };
    let demo = Demo {
        root: root.clone(),
        path_env: path_with_own_dir(),
    };
    demo.tour(io)?;
    if args.keep.is_some() {
        say(
            io,
            &format!("\nThe sandbox stays in {} to explore.", root.display()),
        )?;
    } else {
        say(
            io,
            "\nThe sandbox was temporary and is gone; `git agent demo --keep DIR` keeps one.",
        )?;
    }
    Ok(Outcome::Done)
}

fn say(io: &mut Io, text: &str) -> Result<()> {
    writeln!(io.out, "{text}").map_err(Error::io("writing"))
}

/// PATH with this program's own directory first, so the hook the demo
/// installs finds the git-agent-scope that belongs to this demo.
fn path_with_own_dir() -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_owned))
        .into_iter()
        .collect();
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

struct Demo {
    root: PathBuf,
    path_env: std::ffi::OsString,
}

impl Demo {
    /// Run git in `dir` with a fixed identity and no user or system config,
    /// so the demo behaves the same on every machine.
    fn git(&self, dir: &Path, args: &[&str]) -> Result<std::process::Output> {
        let mut cmd = git::command(dir)?;
        cmd.args(args)
            .env("PATH", &self.path_env)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.root.join(".gitconfig"))
            .env("GIT_AUTHOR_NAME", "Demo")
            .env("GIT_AUTHOR_EMAIL", "demo@example.com")
            .env("GIT_COMMITTER_NAME", "Demo")
            .env("GIT_COMMITTER_EMAIL", "demo@example.com")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE");
        cmd.output()
            .map_err(Error::io(format!("running git {}", args.join(" "))))
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> Result<()> {
        let out = self.git(dir, args)?;
        if !out.status.success() {
            return Err(Error::GitCommand {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(())
    }

    fn write(&self, path: &Path, text: &str) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(Error::io(format!("creating {}", dir.display())))?;
        }
        std::fs::write(path, text).map_err(Error::io(format!("writing {}", path.display())))
    }

    fn tour(&self, io: &mut Io) -> Result<()> {
        let repo = self.root.join("shop");
        std::fs::write(
            self.root.join(".gitconfig"),
            "[init]\n\tdefaultBranch = main\n",
        )
        .map_err(Error::io("writing the sandbox's git config"))?;
        say(
            io,
            &format!(
                "git-agent demo: a sandbox repository in {}\n",
                repo.display()
            ),
        )?;

        say(
            io,
            "1. A small repository with billing code, an API and docs.",
        )?;
        std::fs::create_dir_all(&repo).map_err(Error::io("creating the sandbox repository"))?;
        self.git_ok(&repo, &["init", "-q", "-b", "main"])?;
        self.write(
            &repo.join("src/billing/invoice.rs"),
            "pub fn total() -> u32 { 0 }\n",
        )?;
        self.write(&repo.join("src/api/routes.rs"), "pub fn routes() {}\n")?;
        self.write(&repo.join("docs/guide.md"), "# Guide\n")?;
        self.git_ok(&repo, &["add", "-A"])?;
        self.git_ok(&repo, &["commit", "-q", "-m", "Initial shop"])?;

        say(
            io,
            "\n2. `git agent init` writes the policy and installs the pre-commit gate.",
        )?;
        let common = Common {
            directory: Some(repo.clone()),
        };
        crate::init::run(
            InitArgs {
                common: common.clone(),
                base: Some("main".into()),
                force: false,
            },
            &mut Io {
                out: &mut std::io::sink(),
                err: &mut std::io::sink(),
            },
        )?;
        let manifest = repo.join(crate::manifest::MANIFEST_FILE);
        let text = std::fs::read_to_string(&manifest)
            .map_err(Error::io("reading the starter manifest"))?;
        let text = text
            .replace("protected: []", "protected: [Cargo.lock]")
            .replace(
                "areas: {}",
                "areas:\n  billing: [src/billing/, tests/billing/]",
            );
        self.write(&manifest, &text)?;
        self.git_ok(&repo, &["add", ".git-agent.yaml"])?;
        self.git_ok(&repo, &["commit", "-q", "-m", "Add git-agent policy"])?;
        say(
            io,
            "   The policy is committed on main, with an area:  billing: [src/billing/, tests/billing/]",
        )?;

        say(
            io,
            "\n3. Two agents, each on its own branch in its own worktree:",
        )?;
        for (name, area, scope) in [
            ("billing", Some("billing"), vec![]),
            ("docs", None, vec!["docs/", "*.md"]),
        ] {
            let mut cmdline = format!("   $ git agent add {name}");
            if let Some(a) = area {
                cmdline.push_str(&format!(" --area {a}"));
            }
            for s in &scope {
                cmdline.push_str(&format!(" --scope '{s}'"));
            }
            say(io, &cmdline)?;
            let mut out = Vec::new();
            let mut err = Vec::new();
            let outcome = crate::add::run(
                AddArgs {
                    common: common.clone(),
                    name: name.into(),
                    scope: scope.iter().map(|s| s.to_string()).collect(),
                    area: area.into_iter().map(String::from).collect(),
                    base: None,
                    path: None,
                    task: None,
                    role: RoleArg::Writer,
                    clone: false,
                },
                &mut Io {
                    out: &mut out,
                    err: &mut err,
                },
            )?;
            if outcome != Outcome::Done {
                return Err(Error::usage(
                    format!(
                        "the demo could not add agent {name}: {}",
                        String::from_utf8_lossy(&err)
                    ),
                    "report this as a bug",
                ));
            }
            for line in String::from_utf8_lossy(&err)
                .lines()
                .chain(String::from_utf8_lossy(&out).lines())
            {
                say(io, &format!("     {line}"))?;
            }
        }
        let billing = self.root.join("shop.agents/billing");

        say(
            io,
            "\n4. In the billing worktree, the agent changes billing code and commits.",
        )?;
        self.write(
            &billing.join("src/billing/invoice.rs"),
            "pub fn total() -> u32 { 42 }\n",
        )?;
        self.git_ok(&billing, &["add", "-A"])?;
        say(io, "   $ git commit -m 'Compute invoice totals'")?;
        let out = self.git(&billing, &["commit", "-q", "-m", "Compute invoice totals"])?;
        if !out.status.success() {
            return Err(Error::GitCommand {
                args: "commit (in scope)".into(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        say(
            io,
            "   The gate let it through: src/billing/invoice.rs is in the billing area.",
        )?;

        say(
            io,
            "\n5. Now the same agent also touches the API, outside its scope.",
        )?;
        self.write(
            &billing.join("src/api/routes.rs"),
            "pub fn routes() { /* billing hook */ }\n",
        )?;
        self.write(
            &billing.join("src/billing/invoice.rs"),
            "pub fn total() -> u32 { 43 }\n",
        )?;
        self.git_ok(&billing, &["add", "-A"])?;
        say(io, "   $ git commit -m 'Wire billing into the API'")?;
        let out = self.git(
            &billing,
            &["commit", "-q", "-m", "Wire billing into the API"],
        )?;
        if out.status.success() {
            return Err(Error::usage(
                "the demo's out-of-scope commit was not refused",
                "is another pre-commit hook configured? report this as a bug",
            ));
        }
        for line in String::from_utf8_lossy(&out.stderr).lines() {
            say(io, &format!("   | {line}"))?;
        }
        say(
            io,
            "   The commit was refused and nothing was committed; the agent is told how to unstage,\n   and that only the person orchestrating can widen its scope.",
        )?;
        say(
            io,
            "\nNext: `git agent add NAME --scope PAT` in your own repository, after `git agent init`.",
        )?;
        Ok(())
    }
}
