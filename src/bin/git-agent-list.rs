//! `git agent list`, by the name git, man and hooks know it: execs `git-agent list`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("list")
}
