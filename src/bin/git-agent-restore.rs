//! `git agent restore`: see `git_agent::rm::restore`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::RestoreArgs>(git_agent::rm::restore);
}
