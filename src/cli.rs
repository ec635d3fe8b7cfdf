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
    /// [default: the agent of the current worktree, or for --range, the agent of branch agent/NAME].
    #[arg(long, value_name = AGENT)]
    pub agent: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Run as the pre-commit hook: allow everything outside agent worktrees.
    #[arg(long, hide = true)]
    pub hook: bool,
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
    /// Install the pre-commit gate and the ref guard (reference-transaction hook) where git looks for hooks (core.hooksPath honoured).
    Install,
    /// Remove git-agent's blocks from the pre-commit and reference-transaction hooks, leaving the rest.
    Uninstall,
    /// Say whether the gate is installed, and where.
    Status(HooksStatusArgs),
    /// The ref guard, as git's reference-transaction hook runs it (the
    /// updates come on stdin, one `<old> <new> <ref>` a line).
    #[command(hide = true, name = "ref-guard")]
    RefGuard(RefGuardArgs),
}

#[derive(Debug, Args)]
pub struct RefGuardArgs {
    /// The transaction's phase: prepared, committed or aborted.
    pub phase: String,
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
    /// Let CMD and its children write only in the agent's scope, its git
    /// directory, the policy's `sandbox.writable`, temporary directories
    /// and --writable directories (Linux, Landlock). `strict` (the
    /// default) refuses to run where the kernel cannot confine CMD;
    /// `best-effort` runs it unconfined with a warning. The policy's
    /// `defaults.sandbox: true` makes `strict` the default.
    #[arg(
        long,
        value_name = "MODE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "strict"
    )]
    pub sandbox: Option<crate::ops::sandbox::Enforcement>,
    /// With the sandbox, also let CMD write below DIR (repeatable), e.g.
    /// the agent's own state directory.
    #[arg(long, value_name = "DIR")]
    pub writable: Vec<PathBuf>,
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
        ("init", crate::commands::init::InitArgs::command()),
        ("add", crate::commands::add::AddArgs::command()),
        ("list", crate::commands::list::ListArgs::command()),
        ("scope", crate::commands::scope::ScopeArgs::command()),
        ("exec", crate::commands::exec::ExecArgs::command()),
        (
            "conflicts",
            crate::commands::conflicts::ConflictsArgs::command(),
        ),
        ("land", crate::commands::land::LandArgs::command()),
        ("sync", crate::commands::sync::SyncArgs::command()),
        ("rm", crate::commands::rm::RmArgs::command()),
        ("restore", crate::commands::restore::RestoreArgs::command()),
        ("doctor", crate::commands::doctor::DoctorArgs::command()),
        ("hooks", crate::commands::hooks::HooksArgs::command()),
        ("demo", crate::commands::demo::DemoArgs::command()),
        (
            "install-extras",
            crate::commands::install_extras::InstallExtrasArgs::command(),
        ),
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
