//! `git agent land`: see `git_agent::land`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::LandArgs>(git_agent::land::run);
}
