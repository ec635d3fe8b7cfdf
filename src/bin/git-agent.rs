//! `git agent <command>`: dispatches to `git-agent-<command>`.
fn main() {
    git_agent::cli::install_report_handler();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut out = git_agent::cli::BrokenPipeSafe(std::io::stdout());
    let mut err = git_agent::cli::BrokenPipeSafe(std::io::stderr());
    let mut io = git_agent::Io {
        out: &mut out,
        err: &mut err,
    };
    let code = match git_agent::dispatch::run(args, &mut io) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            eprintln!("{:?}", miette::Report::new(e));
            code
        }
    };
    std::process::exit(code);
}
