//! The clap definitions of every built-in command. The binaries parse with
//! these; man pages and completions are generated from them too.

use std::path::PathBuf;

use clap::{Args, Parser};

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

/// A `--guardrails` value (`add` and `guard`): `none`, or one tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GuardrailChoice {
    /// No guardrails (removes ours).
    None,
    Claude,
    Codex,
    Cursor,
    Gemini,
}

/// The tools a `--guardrails` list chooses; `none` alone chooses none, and
/// with a tool it is a mistake.
pub fn guardrail_tools(
    choices: &[GuardrailChoice],
) -> crate::Result<Vec<crate::ops::guardrails::Tool>> {
    let mut tools: Vec<crate::ops::guardrails::Tool> = choices
        .iter()
        .filter_map(|c| match c {
            GuardrailChoice::None => None,
            GuardrailChoice::Claude => Some(crate::ops::guardrails::Tool::Claude),
            GuardrailChoice::Codex => Some(crate::ops::guardrails::Tool::Codex),
            GuardrailChoice::Cursor => Some(crate::ops::guardrails::Tool::Cursor),
            GuardrailChoice::Gemini => Some(crate::ops::guardrails::Tool::Gemini),
        })
        .collect();
    if choices.contains(&GuardrailChoice::None) && !tools.is_empty() {
        return Err(crate::Error::usage(
            "--guardrails none cannot go with a tool",
            "give `none` alone, or a list of tools: claude,codex,cursor,gemini",
        ));
    }
    tools.sort();
    tools.dedup();
    Ok(tools)
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
        ("unland", crate::commands::unland::UnlandArgs::command()),
        ("sync", crate::commands::sync::SyncArgs::command()),
        ("rm", crate::commands::rm::RmArgs::command()),
        ("restore", crate::commands::restore::RestoreArgs::command()),
        ("doctor", crate::commands::doctor::DoctorArgs::command()),
        ("audit", crate::commands::audit::AuditArgs::command()),
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
