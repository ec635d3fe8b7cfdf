//! `git agent install-extras`: see `git_agent::extras`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::InstallExtrasArgs>(git_agent::extras::run);
}
