//! git-agent: per-agent worktrees, write scopes and a pre-commit gate for
//! several AI coding agents working on one git repository.
//!
//! Every command is a plain function over a repository handle, its parsed
//! arguments and injected output writers (see [`Io`]); the `git-agent`
//! program only parses, calls and maps the outcome to an exit
//! code (see [`engine`]).

pub mod cli;
pub mod commands;
pub mod dispatch;
pub mod engine;
pub mod error;
pub mod git;
pub mod ops;
pub mod policy;
pub mod state;
pub mod ui;

pub use error::{Error, Outcome, Result};

/// Where a command writes: standard output for results, standard error for
/// narration and refusals. Injected so tests can capture both.
pub struct Io<'a> {
    pub out: &'a mut dyn std::io::Write,
    pub err: &'a mut dyn std::io::Write,
    /// What decides colour on `out` and `err` (see [`ui::color`]); its default
    /// never colours.
    pub color: ui::color::ColorEnv,
}
