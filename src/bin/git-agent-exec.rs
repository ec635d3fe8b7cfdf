//! `git agent exec`, by the name git, man and hooks know it: execs `git-agent exec`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("exec")
}
