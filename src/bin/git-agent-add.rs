//! `git agent add`: see `git_agent::ops::provision`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::AddArgs>(git_agent::ops::provision::run);
}
