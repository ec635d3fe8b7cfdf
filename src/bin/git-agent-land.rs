//! `git agent land`: see `git_agent::ops::landing`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::LandArgs>(git_agent::ops::landing::run);
}
