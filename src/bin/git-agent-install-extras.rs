//! `git agent install-extras`, by the name git, man and hooks know it: execs `git-agent install-extras`.
#[path = "launcher/mod.rs"]
mod launcher;

fn main() {
    launcher::exec("install-extras")
}
