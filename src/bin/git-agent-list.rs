//! `git agent list`: see `git_agent::list`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::ListArgs>(git_agent::list::run);
}
