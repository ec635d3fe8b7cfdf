//! `git agent demo`: see `git_agent::commands::demo`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::DemoArgs>(git_agent::commands::demo::run);
}
