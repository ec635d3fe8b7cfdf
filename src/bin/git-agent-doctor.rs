//! `git agent doctor`, by the name git, man and hooks know it: execs `git-agent doctor`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("doctor")
}
