//! `git agent add`: see `git_agent::add`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::AddArgs>(git_agent::add::run);
}
