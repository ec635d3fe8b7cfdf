//! `git agent conflicts`, by the name git, man and hooks know it: execs `git-agent conflicts`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("conflicts")
}
