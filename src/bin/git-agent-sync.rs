//! `git agent sync`: see `git_agent::ops::syncing`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::SyncArgs>(git_agent::ops::syncing::run);
}
