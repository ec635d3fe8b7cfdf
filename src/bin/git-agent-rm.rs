//! `git agent rm`: see `git_agent::ops::removal`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::RmArgs>(git_agent::ops::removal::run);
}
