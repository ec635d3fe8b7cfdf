//! `git agent demo`, by the name git, man and hooks know it: execs `git-agent demo`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("demo")
}
