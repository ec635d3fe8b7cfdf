//! The built-in commands, run in this process: `git agent land` parses and
//! runs `land` here rather than starting a second program. The
//! `git-agent-<command>` programs are launchers that exec `git-agent`
//! (see `src/bin/launcher/`).

use std::ffi::OsString;

use crate::cli::main_with;
use crate::commands;

/// Parses its arguments (the first is the program's name), runs the
/// command and exits with its code.
pub type Main = fn(Vec<OsString>) -> !;

/// Every built-in command by its name after `git agent`; the same names,
/// in the same order, as [`cli::builtins`].
pub const BUILTINS: &[(&str, Main)] = &[
    ("init", |a| {
        main_with::<commands::init::InitArgs>(a, commands::init::run)
    }),
    ("add", |a| {
        main_with::<commands::add::AddArgs>(a, commands::add::run)
    }),
    ("list", |a| {
        main_with::<commands::list::ListArgs>(a, commands::list::run)
    }),
    ("scope", |a| {
        main_with::<commands::scope::ScopeArgs>(a, commands::scope::run)
    }),
    ("exec", |a| {
        main_with::<commands::exec::ExecArgs>(a, commands::exec::run)
    }),
    ("brief", |a| {
        main_with::<commands::brief::BriefArgs>(a, commands::brief::run)
    }),
    ("guard", |a| {
        main_with::<commands::guard::GuardArgs>(a, commands::guard::run)
    }),
    ("conflicts", |a| {
        main_with::<commands::conflicts::ConflictsArgs>(a, commands::conflicts::run)
    }),
    ("land", |a| {
        main_with::<commands::land::LandArgs>(a, commands::land::run)
    }),
    ("unland", |a| {
        main_with::<commands::unland::UnlandArgs>(a, commands::unland::run)
    }),
    ("sync", |a| {
        main_with::<commands::sync::SyncArgs>(a, commands::sync::run)
    }),
    ("rm", |a| {
        main_with::<commands::rm::RmArgs>(a, commands::rm::run)
    }),
    ("restore", |a| {
        main_with::<commands::restore::RestoreArgs>(a, commands::restore::run)
    }),
    ("doctor", |a| {
        main_with::<commands::doctor::DoctorArgs>(a, commands::doctor::run)
    }),
    ("audit", |a| {
        main_with::<commands::audit::AuditArgs>(a, commands::audit::run)
    }),
    ("hooks", |a| {
        main_with::<commands::hooks::HooksArgs>(a, commands::hooks::run)
    }),
    ("demo", |a| {
        main_with::<commands::demo::DemoArgs>(a, commands::demo::run)
    }),
    ("install-extras", |a| {
        main_with::<commands::install_extras::InstallExtrasArgs>(a, commands::install_extras::run)
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
