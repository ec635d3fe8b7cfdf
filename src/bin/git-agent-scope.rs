//! `git agent scope`: see `git_agent::scope_cmd`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::ScopeArgs>(git_agent::scope_cmd::run);
}
