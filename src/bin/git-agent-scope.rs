//! `git agent scope`: see `git_agent::ops::gate`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::ScopeArgs>(git_agent::ops::gate::run);
}
