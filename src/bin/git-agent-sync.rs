//! `git agent sync`, by the name git, man and hooks know it: execs `git-agent sync`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("sync")
}
