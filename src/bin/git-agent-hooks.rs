//! `git agent hooks`, by the name git, man and hooks know it: execs `git-agent hooks`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("hooks")
}
