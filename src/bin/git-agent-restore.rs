//! `git agent restore`, by the name git, man and hooks know it: execs `git-agent restore`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("restore")
}
