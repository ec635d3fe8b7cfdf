//! `git agent init`: see `git_agent::commands::init`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::InitArgs>(git_agent::commands::init::run);
}
