//! `git agent doctor`: see `git_agent::ops::health`.
fn main() {
    git_agent::cli::main_with::<git_agent::cli::DoctorArgs>(git_agent::ops::health::run);
}
