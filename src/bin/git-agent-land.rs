//! `git agent land`, by the name git, man and hooks know it: execs `git-agent land`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("land")
}
