//! `git agent doctor`: see `git_agent::doctor`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::DoctorArgs>(git_agent::doctor::run);
}
