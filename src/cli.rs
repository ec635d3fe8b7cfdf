//! The clap definitions of every built-in command. The binaries parse with
//! these; man pages and completions are generated from them too.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The value name of every argument that names a live agent: completions
/// offer the registered agents' names there.
pub const AGENT: &str = "AGENT";

/// Options every command takes.
#[derive(Debug, Clone, Args, Default)]
pub struct Common {
    /// Run as if started in <PATH> instead of the current directory.
    #[arg(short = 'C', value_name = "PATH", global = true)]
    pub directory: Option<PathBuf>,
    /// When to colour the output [default: git's color.ui, else auto].
    // Commands read it from `Io::color`, where `main_with` puts it with the
    // terminal state it goes with.
    #[arg(long, value_name = "WHEN", value_enum, global = true)]
    pub color: Option<crate::ui::color::When>,
}

impl Common {
    /// The directory the command works from, made absolute.
    pub fn absolute_dir(&self) -> crate::Result<PathBuf> {
        let cwd =
            std::env::current_dir().map_err(crate::Error::io("reading the current directory"))?;
        Ok(match &self.directory {
            Some(d) => cwd.join(d),
            None => cwd,
        })
    }
}

/// Write a commented starter .git-agent.yaml and install the pre-commit gate.
#[derive(Debug, Parser)]
#[command(name = "git-agent-init", bin_name = "git agent init", version)]
pub struct InitArgs {
    #[command(flatten)]
    pub common: Common,
    /// The branch agents start from and land into [default: the current branch].
    #[arg(long, value_name = "BRANCH")]
    pub base: Option<String>,
    /// Overwrite an existing .git-agent.yaml in the working tree.
    #[arg(long)]
    pub force: bool,
}

/// Create an agent: branch agent/NAME from the base, its own worktree, and its scope.
#[derive(Debug, Parser)]
#[command(name = "git-agent-add", bin_name = "git agent add", version)]
pub struct AddArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent's name; its branch is agent/NAME.
    pub name: String,
    /// A path pattern (.gitignore syntax) the agent may change; repeatable.
    #[arg(long = "scope", value_name = "PAT")]
    pub scope: Vec<String>,
    /// A named scope from the policy's `areas`; repeatable.
    #[arg(long = "area", value_name = "AREA")]
    pub area: Vec<String>,
    /// The branch to start from and land into [default: the policy's defaults.base].
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Where to put the worktree [default: the policy's defaults.worktrees, or ../<repo>.agents/NAME].
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// What the agent is asked to do, shown by `git agent list -l`.
    #[arg(long, value_name = "TEXT")]
    pub task: Option<String>,
    /// writer commits its own work; a proposer's work lands only with --accept.
    #[arg(long, value_enum, default_value_t = RoleArg::Writer)]
    pub role: RoleArg,
    /// Make a local clone that borrows this repository's objects (never
    /// copies them) instead of a worktree: for tools that cannot handle
    /// worktrees, and sandboxes that may not write this repository's .git.
    #[arg(long)]
    pub clone: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum RoleArg {
    Writer,
    Proposer,
}

/// Show or edit an agent's scope, or check changes against it (the gate).
#[derive(Debug, Parser)]
#[command(
    name = "git-agent-scope",
    bin_name = "git agent scope",
    version,
    subcommand_precedence_over_arg = true
)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Option<ScopeCommand>,
    /// The agent whose scope to show [default: the agent of the current worktree].
    #[arg(value_name = AGENT)]
    pub name: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScopeCommand {
    /// Replace the agent's own patterns.
    Set(ScopeEdit),
    /// Add patterns to the agent's scope.
    Add(ScopeEdit),
    /// Remove patterns from the agent's scope.
    Rm(ScopeEdit),
    /// The gate: exit 1 and name every changed path outside the scope.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct ScopeEdit {
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// Patterns in .gitignore syntax.
    #[arg(required = true, value_name = "PAT")]
    pub patterns: Vec<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").args(["staged", "range", "paths"])))]
pub struct CheckArgs {
    /// Check the staged changes (index against HEAD). The default.
    #[arg(long)]
    pub staged: bool,
    /// Check every commit in A..B, each against its first parent.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Check the given paths.
    #[arg(long, num_args = 1.., value_name = "P")]
    pub paths: Vec<String>,
    /// The agent, registered or standing in the committed manifest
    /// [default: the agent of the current worktree, or for --range, the agent that owns the range's end branch].
    #[arg(long, value_name = AGENT)]
    pub agent: Option<String>,
    /// The agent that owns BRANCH (`branches:` of a standing agent, or agent/NAME); with no owner there is nothing to check. For CI, where HEAD is not the branch.
    #[arg(long, value_name = "BRANCH", conflicts_with = "agent")]
    pub agent_from_branch: Option<String>,
    /// Print JSON instead of text (as --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// How to report: text, json, github (workflow-command annotations) or gitlab (code-quality JSON).
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub format: Option<CheckFormat>,
    /// Run as the pre-commit hook: allow everything outside agent worktrees.
    #[arg(long, hide = true)]
    pub hook: bool,
}

/// How `scope check` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// GitHub Actions workflow commands (`::error file=...::`), one per refused path.
    Github,
    /// GitLab code-quality JSON, for `artifacts: reports: codequality`.
    Gitlab,
}

/// Install, remove or inspect the pre-commit gate.
#[derive(Debug, Parser)]
#[command(name = "git-agent-hooks", bin_name = "git agent hooks", version)]
pub struct HooksArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: HooksCommand,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install the pre-commit gate where git looks for hooks (core.hooksPath honoured).
    Install(HooksWhich),
    /// Remove git-agent's block from the pre-commit hook, leaving the rest.
    Uninstall(HooksWhich),
    /// Run as a shared repository's pre-receive hook (reads `OLD NEW REF` lines).
    #[command(hide = true)]
    PreReceive,
    /// Say whether the gate is installed, and where.
    Status(HooksStatusArgs),
}

#[derive(Debug, Args)]
pub struct HooksWhich {
    /// The pre-receive hook of a shared (bare) repository instead: every pushed commit is checked against the scope of the agent that owns its branch.
    #[arg(long)]
    pub server: bool,
}

#[derive(Debug, Args)]
pub struct HooksStatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

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

/// The body of every built-in command: parse `argv` (its first item is the
/// program's name) as `A`, run the command with the real standard streams,
/// render an error as a miette diagnostic, and exit 0 (done), 1 (refused) or
/// 2 (bad input).
pub fn main_with<A: Parser>(
    argv: Vec<std::ffi::OsString>,
    run: impl FnOnce(A, &mut crate::Io) -> crate::Result<crate::Outcome>,
) -> ! {
    let parsed = A::command()
        .try_get_matches_from(argv)
        .and_then(|matches| Ok((A::from_arg_matches(&matches)?, matches)));
    let (args, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // Every command takes --color and -C (see `Common`), except the few
    // that work outside a repository; those fall back to the defaults.
    let flag = matches
        .try_get_one::<crate::ui::color::When>("color")
        .ok()
        .flatten()
        .copied();
    let color = crate::ui::color::ColorEnv::of_process(flag);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = BrokenPipeSafe(stdout.lock());
    let mut err = BrokenPipeSafe(stderr.lock());
    let mut io = crate::Io {
        out: &mut out,
        err: &mut err,
        color,
    };
    let code = match run(args, &mut io) {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            let code = e.exit_code();
            let _ = std::io::Write::flush(io.out);
            let dir = matches
                .try_get_one::<PathBuf>("directory")
                .ok()
                .flatten()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("."));
            // The repository's color.ui counts for errors too; an error may
            // well be that there is no repository.
            let repo = gix::discover_with_environment_overrides(dir).ok();
            install_report_handler(color.err(repo.as_ref()));
            eprintln!("{:?}", miette::Report::new(e));
            code
        }
    };
    let _ = std::io::Write::flush(io.out);
    std::process::exit(code);
}

/// A reader that closed the pipe (`git agent list | head`) is not an error:
/// further output is dropped.
pub struct BrokenPipeSafe<W>(pub W);

impl<W: std::io::Write> std::io::Write for BrokenPipeSafe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// Diagnostics keep their lines whole: agents and scripts read them, and a
/// path broken across lines cannot be copied.
pub fn install_report_handler(paint: crate::ui::color::Paint) {
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(false)
                .color(paint.enabled())
                .build(),
        )
    }));
}

/// Run a command in an agent's directory, holding its single-writer lease.
#[derive(Debug, Parser)]
#[command(name = "git-agent-exec", bin_name = "git agent exec", version)]
pub struct ExecArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// List the agents: branch, path, ahead/behind, uncommitted work, scope, lease.
#[derive(Debug, Parser)]
#[command(name = "git-agent-list", bin_name = "git agent list", version)]
pub struct ListArgs {
    #[command(flatten)]
    pub common: Common,
    /// Also show each agent's scope and task.
    #[arg(short = 'l', long = "long")]
    pub long: bool,
    /// Print JSON instead of a table.
    #[arg(long, conflicts_with = "names")]
    pub json: bool,
    /// Print only the agents' names, one per line, without computing any
    /// status (for scripts and shell completion).
    #[arg(long)]
    pub names: bool,
}

/// Remove an agent: its worktree, branch and registry entry. Refuses when
/// work would be lost; --force archives that work first.
#[derive(Debug, Parser)]
#[command(name = "git-agent-rm", bin_name = "git agent rm", version)]
pub struct RmArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// Remove even with unlanded commits or uncommitted or untracked files,
    /// after archiving them under refs/agent-archive/NAME/.
    #[arg(long)]
    pub force: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// How `land` integrates the branch into its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    /// A merge commit, even when a fast-forward is possible.
    Merge,
    /// One new commit holding all of the branch's changes.
    Squash,
    /// The branch's commits replayed on the base, then fast-forwarded.
    Rebase,
    /// Only a fast-forward; refuses when the base has moved on.
    Ff,
}

impl From<StrategyArg> for crate::policy::manifest::Strategy {
    fn from(s: StrategyArg) -> Self {
        match s {
            StrategyArg::Merge => Self::Merge,
            StrategyArg::Squash => Self::Squash,
            StrategyArg::Rebase => Self::Rebase,
            StrategyArg::Ff => Self::Ff,
        }
    }
}

/// Integrate an agent's branch into its base: every commit re-checked
/// against the scope, the merge forecast in memory, the policy's checks run
/// on the merged result, then the base moved atomically.
#[derive(Debug, Parser)]
#[command(name = "git-agent-land", bin_name = "git agent land", version)]
pub struct LandArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// How to integrate [default: the policy's defaults.strategy, else merge].
    #[arg(long, value_enum, value_name = "HOW")]
    pub strategy: Option<StrategyArg>,
    /// Do not run the policy's checks; the receipt says they were skipped.
    #[arg(long)]
    pub no_checks: bool,
    /// Report what would happen, and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Land a proposer agent's work, after its diff stat is shown.
    #[arg(long)]
    pub accept: bool,
    /// Remove the agent after landing, as `git agent rm` would.
    #[arg(long)]
    pub remove: bool,
    /// Print JSON instead of text: what happened, or with --dry-run what
    /// would happen (see README).
    #[arg(long)]
    pub json: bool,
}

/// Bring the base's new commits into an agent's branch, in its worktree.
#[derive(Debug, Parser)]
#[command(name = "git-agent-sync", bin_name = "git agent sync", version)]
pub struct SyncArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// Rebase the agent's commits onto the base (the default).
    #[arg(long, conflicts_with = "merge")]
    pub rebase: bool,
    /// Merge the base into the agent's branch instead of rebasing.
    #[arg(long)]
    pub merge: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Forecast conflicts: every agent merged in memory with its base and with
/// every other agent; files several agents change; overlapping scopes; a
/// landing order. Exits 1 when any conflict is predicted.
#[derive(Debug, Parser)]
#[command(
    name = "git-agent-conflicts",
    bin_name = "git agent conflicts",
    version
)]
pub struct ConflictsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Print {"version": 1, "pairs": [...], ...} (see README).
    #[arg(long)]
    pub json: bool,
}

/// Bring back an agent removed with `rm --force`, from its archive.
#[derive(Debug, Parser)]
#[command(name = "git-agent-restore", bin_name = "git agent restore", version)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub common: Common,
    /// The agent.
    #[arg(value_name = AGENT)]
    pub name: String,
    /// The archive to restore [default: the newest refs/agent-archive/NAME/*].
    #[arg(long, value_name = "REF")]
    pub archive: Option<String>,
    /// Where to put the worktree [default: where it was].
    #[arg(long, value_name = "DIR")]
    pub path: Option<std::path::PathBuf>,
}

/// Find and repair drift: worktrees moved or deleted by hand, registry
/// entries without a branch, agent branches without an entry, stale leases,
/// and an `add` that crashed half-way.
#[derive(Debug, Parser)]
#[command(name = "git-agent-doctor", bin_name = "git agent doctor", version)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub common: Common,
    /// Repair what was found.
    #[arg(long)]
    pub fix: bool,
    /// Print JSON instead of text: each problem, its fix, and with --fix
    /// whether it was repaired.
    #[arg(long)]
    pub json: bool,
}

/// Install man pages and shell completions where man and the shells look.
#[derive(Debug, Parser)]
#[command(
    name = "git-agent-install-extras",
    bin_name = "git agent install-extras",
    version
)]
pub struct InstallExtrasArgs {
    /// Install under DIR: DIR/share/man/man1, DIR/share/bash-completion/completions,
    /// DIR/share/zsh/site-functions and DIR/share/fish/vendor_completions.d
    /// [default: the directory above the one holding git-agent, e.g. ~/.cargo].
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Write the project's committed man/ and completions/ under DIR instead
    /// (the generator behind the drift test).
    #[arg(long, value_name = "DIR", hide = true, conflicts_with = "prefix")]
    pub project_files: Option<PathBuf>,
}

/// Every built-in command's clap definition, by its name after `git agent`,
/// in the order `git agent` lists them.
pub fn builtins() -> Vec<(&'static str, clap::Command)> {
    use clap::CommandFactory;
    vec![
        ("init", InitArgs::command()),
        ("add", AddArgs::command()),
        ("list", ListArgs::command()),
        ("scope", ScopeArgs::command()),
        ("exec", ExecArgs::command()),
        ("conflicts", ConflictsArgs::command()),
        ("land", LandArgs::command()),
        ("sync", SyncArgs::command()),
        ("rm", RmArgs::command()),
        ("restore", RestoreArgs::command()),
        ("doctor", DoctorArgs::command()),
        ("hooks", HooksArgs::command()),
        ("demo", DemoArgs::command()),
        ("install-extras", InstallExtrasArgs::command()),
    ]
}

/// Short names for built-in commands.
pub const ALIASES: &[(&str, &str)] = &[("ls", "list")];

/// `git agent` as one clap command with every built-in as a subcommand:
/// the source of `git-agent(1)` and of the completions.
pub fn git_agent() -> clap::Command {
    let mut top = clap::Command::new("git-agent")
        .bin_name("git agent")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Parallel AI coding agents on one repository: each in its own worktree, each held to its scope")
        .long_about(
            "Parallel AI coding agents on one repository: each in its own worktree, each held to its scope.\n\n\
             The built-in commands run inside git-agent; any other `git agent <name>` runs `git-agent-<name>`, \
             found next to git-agent first and then on PATH, so other programs can add commands. `-C PATH` and `--color WHEN`, which every command takes, \
             may also come before the command's name: `git agent -C ../shop list`.",
        )
        .subcommand_required(true)
        .disable_help_subcommand(true);
    for (name, command) in builtins() {
        let mut sub = command.name(name).bin_name(format!("git agent {name}"));
        if let Some((alias, _)) = ALIASES.iter().find(|(_, c)| *c == name) {
            sub = sub.visible_alias(*alias);
        }
        top = top.subcommand(sub);
    }
    top
}
