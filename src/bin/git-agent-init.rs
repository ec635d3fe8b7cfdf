//! `git agent init`, by the name git, man and hooks know it: execs `git-agent init`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("init")
}
