//! `git agent exec`: see `git_agent::commands::exec`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::ExecArgs>(git_agent::commands::exec::run);
}
