//! `git agent add`, by the name git, man and hooks know it: execs `git-agent add`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("add")
}
