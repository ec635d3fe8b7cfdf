//! `git agent brief`, by the name git, man and hooks know it: execs `git-agent brief`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("brief")
}
