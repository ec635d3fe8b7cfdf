//! `git agent hooks`: see `git_agent::ops::hooks`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::HooksArgs>(git_agent::ops::hooks::run);
}
