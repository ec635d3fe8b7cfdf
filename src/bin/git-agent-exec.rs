//! `git agent exec`: see `git_agent::exec`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::ExecArgs>(git_agent::exec::run);
}
