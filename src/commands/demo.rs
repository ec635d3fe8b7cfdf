//! `git agent demo`: a sandbox repository and three agents, walked through
//! the whole flow with every step narrated: a commit the gate lets through,
//! one it refuses, one slipped past it with `--no-verify` and caught at
//! landing, a conflict forecast before anyone lands, a landing with its
//! receipts, a train landing two agents at once, and removals that never lose work. It runs the real binaries
//! and the real hook, so what it shows is what a user gets.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clap::Parser;

use crate::Io;
use crate::error::{Error, Outcome, Result};
use crate::git;
use crate::ui::color::Paint;

/// Build a sandbox repository with three agents and walk through the whole
/// flow, narrating each step: the gate, landing, conflicts, safe removal.
#[derive(Debug, Parser)]
#[command(name = "git-agent-demo", bin_name = "git agent demo", version)]
pub struct DemoArgs {
    /// Build the sandbox in DIR (which must not exist or be empty) and keep it.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// When to colour the output [default: auto].
    #[arg(long, value_name = "WHEN", value_enum)]
    pub color: Option<crate::ui::color::When>,
}

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
        paint: io.color.out(None),
        bin_dir: own_dir()?,
        path_env: path_with_own_dir(),
        repo: root.join("shop"),
        root: root.clone(),
    };
    demo.tour(io)?;
    if args.keep.is_some() {
        say(
            io,
            &format!(
                "\nThe sandbox stays in {} to explore: cd {} && git agent list",
                root.display(),
                demo.repo.display()
            ),
        )?;
    } else {
        say(
            io,
            "\nThe sandbox was temporary and is gone; `git agent demo --keep DIR` keeps one.",
        )?;
    }
    Ok(Outcome::Done)
}

/// `arg` as a POSIX shell would need it typed.
fn shell_quoted(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn say(io: &mut Io, text: &str) -> Result<()> {
    writeln!(io.out, "{text}").map_err(Error::io("writing"))
}

/// The directory holding this program, where its sibling commands are.
fn own_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(Error::io("finding this program"))?;
    exe.parent().map(Path::to_owned).ok_or_else(|| {
        Error::usage(
            "cannot tell which directory git-agent-demo is in",
            "run it by its full path",
        )
    })
}

/// PATH with this program's own directory first, so the hook the demo
/// installs finds the git-agent that belongs to this demo.
fn path_with_own_dir() -> OsString {
    let mut dirs: Vec<PathBuf> = own_dir().into_iter().collect();
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

const POLICY: &str = r#"# The demo's policy: two areas, a protected lock file, one check.
version: 1
defaults:
  base: main
  worktrees: ../{repo}.agents/{name}
  strategy: merge
protected: [Cargo.lock]
areas:
  billing: [src/billing/, tests/billing/]
  api: [src/api/]
checks: ["test -s src/billing/invoice.rs"]
"#;

struct Demo {
    /// Colour for the narration; the commands shown colour their output
    /// the same way (through color.ui), though it is captured.
    paint: Paint,
    root: PathBuf,
    repo: PathBuf,
    bin_dir: PathBuf,
    path_env: OsString,
}

impl Demo {
    /// Environment for everything the demo runs: a fixed identity, no user
    /// or system config and this build's commands first on PATH, so the demo
    /// behaves the same on every machine whatever the user's git setup.
    fn hermetic(&self, cmd: &mut Command) {
        cmd.env("PATH", &self.path_env)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.root.join(".gitconfig"))
            .env("GIT_AUTHOR_NAME", "Demo")
            .env("GIT_AUTHOR_EMAIL", "demo@example.com")
            .env("GIT_COMMITTER_NAME", "Demo")
            .env("GIT_COMMITTER_EMAIL", "demo@example.com")
            .env(
                "GIT_CONFIG_PARAMETERS",
                if self.paint.enabled() {
                    "'color.ui'='always'"
                } else {
                    "'color.ui'='never'"
                },
            );
        git::scrub(cmd);
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Result<Output> {
        let mut cmd = git::command(dir)?;
        cmd.args(args);
        self.hermetic(&mut cmd);
        cmd.output()
            .map_err(Error::io(format!("running git {}", args.join(" "))))
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> Result<String> {
        let out = self.git(dir, args)?;
        if !out.status.success() {
            return Err(Error::GitCommand {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Run `git agent ARGS` in `dir` through this build's dispatcher.
    fn agent(&self, dir: &Path, args: &[&str]) -> Result<Output> {
        let mut cmd = Command::new(self.bin_dir.join("git-agent"));
        cmd.args(args).current_dir(dir);
        self.hermetic(&mut cmd);
        cmd.output()
            .map_err(Error::io(format!("running git agent {}", args.join(" "))))
    }

    /// Print `$ line`, run it (`git agent ...` or `git ...`), print what it
    /// said indented, and hold it to the exit code the step is about: a demo
    /// that claims a refusal it did not get would be lying.
    fn step(&self, io: &mut Io, dir: &Path, args: &[&str], expect: Option<i32>) -> Result<()> {
        let line = args
            .iter()
            .map(|a| shell_quoted(a))
            .collect::<Vec<_>>()
            .join(" ");
        say(io, &format!("   $ {}", self.paint.cyan(&line)))?;
        let out = match args {
            ["git", "agent", rest @ ..] => self.agent(dir, rest)?,
            ["git", rest @ ..] => self.git(dir, rest)?,
            _ => unreachable!("the demo only runs git and git agent"),
        };
        // Narration and refusals (stderr) first, then results (stdout).
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        for l in text.trim_end().lines() {
            say(io, &format!("   {} {l}", self.paint.dim("|")))?;
        }
        let code = out.status.code();
        if code != expect {
            return Err(Error::usage(
                format!(
                    "the demo expected `{line}` to exit {}, it exited {}",
                    expect.map_or("-".into(), |c| c.to_string()),
                    code.map_or("by a signal".into(), |c| c.to_string())
                ),
                "is a pre-commit hook or git setting outside the sandbox interfering? otherwise report this as a bug",
            ));
        }
        Ok(())
    }

    /// A step's title, in bold line by line.
    fn heading(&self, io: &mut Io, text: &str) -> Result<()> {
        let lines: Vec<String> = text.split('\n').map(|l| self.paint.bold(l)).collect();
        say(io, &lines.join("\n"))
    }

    /// Write `rel` in the worktree `dir` and stage everything, as an agent
    /// does before it commits.
    fn stage(&self, dir: &Path, rel: &str, text: &str) -> Result<()> {
        self.write(dir, rel, text)?;
        self.git_ok(dir, &["add", "-A"]).map(drop)
    }

    fn write(&self, dir: &Path, rel: &str, text: &str) -> Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("creating {}", parent.display())))?;
        }
        std::fs::write(&path, text).map_err(Error::io(format!("writing {}", path.display())))
    }

    fn tour(&self, io: &mut Io) -> Result<()> {
        let repo = &self.repo;
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

        self.heading(
            io,
            "1. A small shop: billing code, an API, docs and a lock file.",
        )?;
        std::fs::create_dir_all(repo).map_err(Error::io("creating the sandbox repository"))?;
        self.git_ok(repo, &["init", "-q", "-b", "main"])?;
        self.write(
            repo,
            "src/billing/invoice.rs",
            "pub fn total() -> u32 {\n    0\n}\n",
        )?;
        self.write(repo, "src/api/routes.rs", "pub fn routes() {}\n")?;
        self.write(repo, "docs/guide.md", "# Guide\n")?;
        self.write(repo, "Cargo.lock", "# lock\n")?;
        self.git_ok(repo, &["add", "-A"])?;
        self.git_ok(repo, &["commit", "-q", "-m", "Initial shop"])?;

        self.heading(
            io,
            "\n2. The person orchestrating writes the policy and installs the pre-commit gate.",
        )?;
        self.step(io, repo, &["git", "agent", "init"], Some(0))?;
        self.write(repo, crate::policy::manifest::MANIFEST_FILE, POLICY)?;
        self.git_ok(repo, &["add", crate::policy::manifest::MANIFEST_FILE])?;
        self.git_ok(repo, &["commit", "-q", "-m", "Add git-agent policy"])?;
        say(
            io,
            "   The policy, committed on main: areas billing: [src/billing/, tests/billing/] and api: [src/api/],\n   Cargo.lock protected, and a check every landing must pass.",
        )?;

        self.heading(
            io,
            "\n3. Three agents, each on its own branch in its own worktree:",
        )?;
        for add in [
            &["billing", "--area", "billing", "--task", "invoice totals"][..],
            &["api", "--area", "api", "--task", "invoice endpoint"][..],
            &[
                "docs",
                "--scope",
                "docs/",
                "--scope",
                "*.md",
                "--task",
                "user guide",
            ][..],
        ] {
            self.step(
                io,
                repo,
                &[&["git", "agent", "add"][..], add].concat(),
                Some(0),
            )?;
        }
        let agents = self.root.join("shop.agents");
        let (billing, api, docs) = (
            agents.join("billing"),
            agents.join("api"),
            agents.join("docs"),
        );

        self.heading(
            io,
            "\n4. The billing agent changes billing code and commits; the gate lets it through.",
        )?;
        self.stage(
            &billing,
            "src/billing/invoice.rs",
            "pub fn total() -> u32 {\n    42\n}\n",
        )?;
        self.step(
            io,
            &billing,
            &["git", "commit", "-q", "-m", "Compute invoice totals"],
            Some(0),
        )?;

        self.heading(
            io,
            "\n5. It also edits the API, outside its scope: the gate refuses the commit.",
        )?;
        self.stage(
            &billing,
            "src/api/routes.rs",
            "pub fn routes() { /* billing */ }\n",
        )?;
        self.step(
            io,
            &billing,
            &["git", "commit", "-q", "-m", "Wire billing into the API"],
            Some(1),
        )?;
        say(io, "   Nothing was committed. The agent drops that edit:")?;
        self.step(
            io,
            &billing,
            &[
                "git",
                "restore",
                "--staged",
                "--worktree",
                "src/api/routes.rs",
            ],
            Some(0),
        )?;

        self.heading(io, "\n6. The docs agent documents totals.")?;
        self.stage(
            &docs,
            "docs/guide.md",
            "# Guide\n\nInvoices show their total.\n",
        )?;
        self.step(
            io,
            &docs,
            &["git", "commit", "-q", "-m", "Document invoice totals"],
            Some(0),
        )?;

        self.heading(
            io,
            "\n7. The api agent adds its endpoint, then bypasses the gate with --no-verify\n   to \"fix\" the billing code it calls.",
        )?;
        self.stage(
            &api,
            "src/api/routes.rs",
            "pub fn routes() { /* GET /invoices/total */ }\n",
        )?;
        self.step(
            io,
            &api,
            &["git", "commit", "-q", "-m", "Add the invoice endpoint"],
            Some(0),
        )?;
        self.stage(
            &api,
            "src/billing/invoice.rs",
            "pub fn total() -> u32 {\n    7\n}\n",
        )?;
        self.step(
            io,
            &api,
            &[
                "git",
                "commit",
                "-q",
                "--no-verify",
                "-m",
                "Tweak totals for the endpoint",
            ],
            Some(0),
        )?;

        self.heading(
            io,
            "\n8. Where everyone stands: `list` already flags api's out-of-scope commit and the conflicts.",
        )?;
        self.step(io, repo, &["git", "agent", "list"], Some(0))?;

        self.heading(
            io,
            "\n9. Before anyone lands, every pair of branches is merged in memory:",
        )?;
        self.step(io, repo, &["git", "agent", "conflicts"], Some(1))?;

        self.heading(
            io,
            "\n10. Landing re-checks every commit on the branch, so the --no-verify commit is caught:",
        )?;
        self.step(io, repo, &["git", "agent", "land", "api"], Some(1))?;

        self.heading(
            io,
            "\n11. billing lands: scope re-checked, merge forecast, the check run on the merged result,\n    main moved atomically, and receipts written into the commit.",
        )?;
        self.step(io, repo, &["git", "agent", "land", "billing"], Some(0))?;
        self.step(
            io,
            repo,
            &["git", "log", "-1", "--format=%B", "main"],
            Some(0),
        )?;

        self.heading(
            io,
            "\n12. Changed your mind? unland takes the landing back with a revert, checked and with its own\n    receipt; billing's branch keeps the work, so it can be fixed and landed again.",
        )?;
        self.step(io, repo, &["git", "agent", "unland", "billing"], Some(0))?;
        self.step(io, repo, &["git", "agent", "land", "billing"], Some(0))?;

        self.heading(
            io,
            "\n13. Several agents land as a train: each gated as if alone (api's bypass is caught again),\n    the rest merged in memory one on top of the other, the check run once on the combined\n    result, and main moved once; every landed commit keeps its own receipt.",
        )?;
        self.step(io, repo, &["git", "agent", "land", "docs", "api"], Some(1))?;

        self.heading(
            io,
            "\n14. Removing agents never loses work. billing has landed, so it goes cleanly;\n    api still holds commits main lacks, so it is refused until --force archives them.",
        )?;
        self.step(io, repo, &["git", "agent", "rm", "billing"], Some(0))?;
        self.step(io, repo, &["git", "agent", "rm", "api"], Some(1))?;
        self.step(io, repo, &["git", "agent", "rm", "api", "--force"], Some(0))?;
        self.step(io, repo, &["git", "agent", "list"], Some(0))?;

        say(
            io,
            "\nIn your own repository: `git agent init`, commit .git-agent.yaml, then `git agent add NAME --scope PAT`.",
        )?;
        Ok(())
    }
}
