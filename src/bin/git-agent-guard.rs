//! `git agent guard`, by the name git, man and hooks know it: execs `git-agent guard`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("guard")
}
