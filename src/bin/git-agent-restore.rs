//! `git agent restore`: see `git_agent::ops::removal::restore`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::RestoreArgs>(git_agent::ops::removal::restore);
}
