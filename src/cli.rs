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
    /// Run as Claude Code's PreToolUse hook: read its JSON on stdin, exit 2 with the refusal on stderr when the edited path is outside the scope, 0 and silent when inside.
    #[arg(long, conflicts_with_all = ["staged", "range", "paths", "agent", "agent_from_branch", "json", "format", "hook"])]
    pub claude_hook: bool,
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
    /// Install the pre-commit gate and the ref guard (reference-transaction hook) where git looks for hooks (core.hooksPath honoured).
    Install(HooksWhich),
    /// Remove git-agent's blocks from the pre-commit and reference-transaction hooks, leaving the rest.
    Uninstall(HooksWhich),
    /// Run as a shared repository's pre-receive hook (reads `OLD NEW REF` lines).
    #[command(hide = true)]
    PreReceive,
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
    let mut out = crate::ui::writers::BrokenPipeSafe(stdout.lock());
    let mut err = crate::ui::writers::BrokenPipeSafe(stderr.lock());
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
            crate::ui::writers::install_report_handler(color.err(repo.as_ref()));
            eprintln!("{:?}", miette::Report::new(e));
            code
        }
    };
    let _ = std::io::Write::flush(io.out);
    std::process::exit(code);
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
        ("brief", crate::commands::brief::BriefArgs::command()),
        ("guard", crate::commands::guard::GuardArgs::command()),
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
