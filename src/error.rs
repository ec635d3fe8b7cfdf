//! Typed errors of the library and the outcome of a command.
//!
//! An expected refusal (a scope violation, a name already taken) is not an
//! error: commands return [`Outcome::Refused`] after printing why. Errors are
//! bad input or a broken repository; they render as miette diagnostics and
//! exit with code 2.

use miette::{Diagnostic, NamedSource, SourceSpan};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a command that ran to the end concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done: exit code 0.
    Done,
    /// Refused by policy, nothing changed: exit code 1.
    Refused,
    /// A command run for the user ended with this code (`exec`).
    Exited(i32),
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Done => 0,
            Outcome::Refused => 1,
            Outcome::Exited(code) => code,
        }
    }
}

/// Why a command refused, in its `--json` report: a stable `reason` for
/// programs, the `message` a person reads in text mode, and the files
/// behind the refusal (empty when it is not about files).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusalReport {
    pub reason: &'static str,
    pub message: String,
    pub paths: Vec<String>,
}

impl RefusalReport {
    pub fn new(reason: &'static str, message: String) -> RefusalReport {
        RefusalReport {
            reason,
            message,
            paths: Vec::new(),
        }
    }

    pub fn with_paths(mut self, paths: Vec<String>) -> RefusalReport {
        self.paths = paths;
        self
    }

    /// The text a person sees: `git-agent: ` and the message, its first
    /// line (what was refused) in red when colouring.
    pub fn text(&self, paint: crate::ui::color::Paint) -> String {
        let (first, rest) = match self.message.split_once('\n') {
            Some((first, rest)) => (first, format!("\n{rest}")),
            None => (self.message.as_str(), String::new()),
        };
        format!("git-agent: {}{rest}", paint.red(first))
    }
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error("not inside a git repository: {0}")]
    #[diagnostic(help("run the command inside a repository, or pass -C <path>"))]
    NotARepository(String),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(#[from] Box<ManifestError>),

    #[error("unknown agent '{name}'")]
    #[diagnostic(help("{hint}"))]
    UnknownAgent { name: String, hint: String },

    /// The agent existed when the command began, and another process
    /// (`git agent rm`) removed it before the command was done.
    #[error("agent '{name}' was removed by another git-agent process while {doing}")]
    #[diagnostic(help(
        "nothing was {done}; `git agent list` shows the agents, `git agent restore {name}` brings it back from its archive"
    ))]
    RemovedMeanwhile {
        name: String,
        doing: &'static str,
        done: &'static str,
    },

    #[error("no agent given, and {cwd} is not inside an agent's worktree")]
    #[diagnostic(help("pass --agent NAME, or run the command from the agent's worktree"))]
    NoAgent { cwd: String },

    #[error("invalid agent name '{name}': {why}")]
    #[diagnostic(help(
        "use letters, digits, '-', '_' and '.', starting with a letter or digit, e.g. 'billing' or 'api-v2'"
    ))]
    InvalidName { name: String, why: String },

    #[error("invalid scope pattern '{pattern}': {why}")]
    #[diagnostic(help(
        "patterns use .gitignore syntax, e.g. 'src/billing/', '*.md' or '!src/gen/'"
    ))]
    InvalidPattern { pattern: String, why: String },

    #[error("unknown area '{area}'")]
    #[diagnostic(help("{hint}"))]
    UnknownArea { area: String, hint: String },

    #[error("base '{base}' does not exist")]
    #[diagnostic(help("name an existing local branch with --base, e.g. --base main"))]
    UnknownBase { base: String },

    #[error("invalid revision range '{range}': {why}")]
    #[diagnostic(help("give two revisions joined by '..', e.g. --range main..agent/billing"))]
    InvalidRange { range: String, why: String },

    #[error("{message}")]
    #[diagnostic(help("{help}"))]
    Usage { message: String, help: String },

    #[error("the agent registry is locked by another git-agent process ({path})")]
    #[diagnostic(help(
        "wait for the other command to finish: a lock is held only while the process holding it runs"
    ))]
    RegistryLocked { path: String },

    #[error("the agent registry at {path} is corrupt: {why}")]
    #[diagnostic(help("restore it from a backup, or move it aside to start with no agents"))]
    RegistryCorrupt { path: String, why: String },

    #[error("the seal key {path} {problem}")]
    #[diagnostic(help("{help}"))]
    SealKey {
        path: String,
        problem: String,
        help: String,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{context}: {message}")]
    Git { context: String, message: String },

    #[error("`git {args}` failed: {stderr}")]
    GitCommand { args: String, stderr: String },
}

impl Error {
    /// Every error is bad input or a broken environment: exit code 2.
    pub fn exit_code(&self) -> i32 {
        2
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            help: help.into(),
        }
    }
}

/// Attach what we were doing to a gix (or other) error.
pub trait GitContext<T> {
    fn git(self, context: &str) -> Result<T>;
}

impl<T, E: std::fmt::Display> GitContext<T> for std::result::Result<T, E> {
    fn git(self, context: &str) -> Result<T> {
        self.map_err(|e| Error::Git {
            context: context.to_owned(),
            message: e.to_string(),
        })
    }
}

/// A problem in `.git-agent.yaml`, shown in place with its line and column.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(git_agent::policy::manifest))]
pub struct ManifestError {
    pub message: String,
    #[help]
    pub help: Option<String>,
    #[source_code]
    pub source_code: NamedSource<String>,
    #[label("{label}")]
    pub span: Option<SourceSpan>,
    pub label: String,
    /// 1-based line and column of the problem, when known.
    pub line: usize,
    pub column: usize,
}
