//! `git agent rm`, by the name git, man and hooks know it: execs `git-agent rm`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("rm")
}
