//! `git agent hooks`: see `git_agent::hooks`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::HooksArgs>(git_agent::hooks::run);
}
