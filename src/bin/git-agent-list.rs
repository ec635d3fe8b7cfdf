//! `git agent list`: see `git_agent::commands::list`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::ListArgs>(git_agent::commands::list::run);
}
