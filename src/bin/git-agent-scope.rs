//! `git agent scope`, by the name git, man and hooks know it: execs `git-agent scope`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("scope")
}
