//! `git agent conflicts`: see `git_agent::ops::forecast`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::ConflictsArgs>(git_agent::ops::forecast::run);
}
