//! `git agent conflicts`: see `git_agent::conflicts`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::ConflictsArgs>(git_agent::conflicts::run);
}
