//! `git agent <command>`: runs a built-in command in this process, or
//! `git-agent-<command>` for any other name (see `git_agent::dispatch`).
fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut out = git_agent::ui::writers::BrokenPipeSafe(std::io::stdout());
    let mut err = git_agent::ui::writers::BrokenPipeSafe(std::io::stderr());
    let color = git_agent::ui::color::ColorEnv::of_process(None);
    let mut io = git_agent::Io {
        out: &mut out,
        err: &mut err,
        color,
    };
    let code = match git_agent::dispatch::run(args, &mut io) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            let repo = gix::discover_with_environment_overrides(".").ok();
            git_agent::ui::writers::install_report_handler(color.err(repo.as_ref()));
            eprintln!("{:?}", miette::Report::new(e));
            code
        }
    };
    std::process::exit(code);
}
