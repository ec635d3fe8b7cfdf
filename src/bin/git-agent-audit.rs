//! `git agent audit`, by the name git, man and hooks know it: execs `git-agent audit`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("audit")
}
