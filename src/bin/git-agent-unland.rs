//! `git agent unland`, by the name git, man and hooks know it: execs `git-agent unland`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("unland")
}
