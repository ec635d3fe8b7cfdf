//! git-agent: per-agent worktrees, write scopes and a pre-commit gate for
//! several AI coding agents working on one git repository.
//!
//! Every command is a plain function over a repository handle, its parsed
//! arguments and injected output writers (see [`Io`]); the `git-agent`
//! program only parses, calls and maps the outcome to an exit
//! code (see [`engine`]).

pub mod add;
pub mod archive;
pub mod authority;
pub mod changes;
pub mod cli;
pub mod color;
pub mod conflicts;
pub mod copies;
pub mod demo;
pub mod dispatch;
pub mod doctor;
pub mod engine;
pub mod error;
pub mod exec;
pub mod extras;
pub mod git;
pub mod hooks;
pub mod init;
pub mod land;
pub mod lease;
pub mod list;
pub mod manifest;
pub mod pattern;
pub mod progress;
pub mod registry;
pub mod repo;
pub mod rm;
pub mod scan;
pub mod scope;
pub mod scope_cmd;
pub mod status;
pub mod sync;

pub use error::{Error, Outcome, Result};

/// Where a command writes: standard output for results, standard error for
/// narration and refusals. Injected so tests can capture both.
pub struct Io<'a> {
    pub out: &'a mut dyn std::io::Write,
    pub err: &'a mut dyn std::io::Write,
    /// What decides colour on `out` and `err` (see [`color`]); its default
    /// never colours.
    pub color: color::ColorEnv,
}
