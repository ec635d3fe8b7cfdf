//! `git agent install-extras`: see `git_agent::commands::install_extras`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::InstallExtrasArgs>(
        git_agent::commands::install_extras::run,
    );
}
