//! The built-in commands, run in this process: `git agent land` parses and
//! runs `land` here rather than starting a second program. The
//! `git-agent-<command>` programs are launchers that exec `git-agent`
//! (see `src/bin/launcher/`).

use std::ffi::OsString;

use crate::cli::{self, main_with};

/// Parses its arguments (the first is the program's name), runs the
/// command and exits with its code.
pub type Main = fn(Vec<OsString>) -> !;

/// Every built-in command by its name after `git agent`; the same names,
/// in the same order, as [`cli::builtins`].
pub const BUILTINS: &[(&str, Main)] = &[
    ("init", |a| {
        main_with::<cli::InitArgs>(a, crate::commands::init::run)
    }),
    ("add", |a| {
        main_with::<cli::AddArgs>(a, crate::ops::provision::run)
    }),
    ("list", |a| {
        main_with::<cli::ListArgs>(a, crate::commands::list::run)
    }),
    ("scope", |a| {
        main_with::<cli::ScopeArgs>(a, crate::ops::gate::run)
    }),
    ("exec", |a| {
        main_with::<cli::ExecArgs>(a, crate::commands::exec::run)
    }),
    ("conflicts", |a| {
        main_with::<cli::ConflictsArgs>(a, crate::ops::forecast::run)
    }),
    ("land", |a| {
        main_with::<cli::LandArgs>(a, crate::ops::landing::run)
    }),
    ("sync", |a| {
        main_with::<cli::SyncArgs>(a, crate::ops::syncing::run)
    }),
    ("rm", |a| {
        main_with::<cli::RmArgs>(a, crate::ops::removal::run)
    }),
    ("restore", |a| {
        main_with::<cli::RestoreArgs>(a, crate::ops::removal::restore)
    }),
    ("doctor", |a| {
        main_with::<cli::DoctorArgs>(a, crate::ops::health::run)
    }),
    ("hooks", |a| {
        main_with::<cli::HooksArgs>(a, crate::ops::hooks::run)
    }),
    ("demo", |a| {
        main_with::<cli::DemoArgs>(a, crate::commands::demo::run)
    }),
    ("install-extras", |a| {
        main_with::<cli::InstallExtrasArgs>(a, crate::commands::install_extras::run)
    }),
];

/// The built-in command `name`, if there is one.
pub fn builtin(name: &str) -> Option<Main> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_with_a_clap_definition_runs_here() {
        let defined: Vec<&str> = crate::cli::builtins().iter().map(|(n, _)| *n).collect();
        let runnable: Vec<&str> = super::BUILTINS.iter().map(|(n, _)| *n).collect();
        assert_eq!(defined, runnable);
    }
}
