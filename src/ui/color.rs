//! Colour, decided the way a git user expects: `--color auto|always|never`
//! first, then git's `color.ui`, then `NO_COLOR`, then whether the stream is
//! a terminal (and `TERM` is not `dumb`).
//!
//! `color.ui` comes before `NO_COLOR` because no-color.org asks for
//! configuration files and command-line flags to override the variable; a
//! `color.ui` of `auto` (or `true`, git's old spelling of it) is the default
//! and leaves the decision to `NO_COLOR` and the terminal.

use std::fmt::Display;
use std::io::IsTerminal;

/// The value of `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    /// Colour when writing to a terminal (whatever color.ui and NO_COLOR say).
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// What decides colour before a repository's config is read: the flag, the
/// environment, and whether each stream is a terminal. It travels in
/// [`crate::Io`]; the default never colours, which is what a caller that
/// captures output wants.
#[derive(Debug, Clone, Copy, Default)]
pub struct ColorEnv {
    pub flag: Option<When>,
    /// `NO_COLOR` is set and not empty.
    pub no_color: bool,
    /// Standard output is a terminal that can show colour.
    pub out_terminal: bool,
    /// Standard error is a terminal that can show colour.
    pub err_terminal: bool,
}

impl ColorEnv {
    /// This process's environment and standard streams, with `--color`.
    pub fn of_process(flag: Option<When>) -> ColorEnv {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        ColorEnv {
            flag,
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            out_terminal: !dumb && std::io::stdout().is_terminal(),
            err_terminal: !dumb && std::io::stderr().is_terminal(),
        }
    }

    /// Colour for standard output, with `repo`'s `color.ui` if there is one.
    pub fn out(&self, repo: Option<&gix::Repository>) -> Paint {
        Paint(decide(
            self.flag,
            color_ui(repo).as_deref(),
            self.no_color,
            self.out_terminal,
        ))
    }

    /// Colour for standard error, with `repo`'s `color.ui` if there is one.
    pub fn err(&self, repo: Option<&gix::Repository>) -> Paint {
        Paint(decide(
            self.flag,
            color_ui(repo).as_deref(),
            self.no_color,
            self.err_terminal,
        ))
    }
}

/// `color.ui`: from `git -c color.ui=...` (which git hands to an external
/// command in `GIT_CONFIG_PARAMETERS`, and gix does not read), else from the
/// repository's configuration.
fn color_ui(repo: Option<&gix::Repository>) -> Option<String> {
    let from_command_line = std::env::var("GIT_CONFIG_PARAMETERS")
        .ok()
        .and_then(|params| {
            config_parameters(&params)
                .into_iter()
                .rfind(|(key, _)| key.eq_ignore_ascii_case("color.ui"))
                // `-c color.ui` alone means true.
                .map(|(_, value)| value.unwrap_or_else(|| "true".into()))
        });
    from_command_line
        .or_else(|| {
            repo?
                .config_snapshot()
                .string("color.ui")
                .map(|v| v.to_string())
        })
        .map(|v| v.to_ascii_lowercase())
}

/// The `key`/`value` pairs of `GIT_CONFIG_PARAMETERS`: shell-quoted words,
/// either `'key'='value'` (git 2.31 and newer), `'key'` (no value), or
/// `'key=value'` (older git).
pub fn config_parameters(text: &str) -> Vec<(String, Option<String>)> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    // One quoted word, with git's `'\''` for a quote inside it.
    let word = |chars: &mut std::iter::Peekable<std::str::Chars>| -> Option<String> {
        chars.next_if_eq(&'\'')?;
        let mut out = String::new();
        loop {
            match chars.next()? {
                '\'' => {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                        out.push(chars.next()?);
                        chars.next_if_eq(&'\'')?;
                    } else {
                        return Some(out);
                    }
                }
                c => out.push(c),
            }
        }
    };
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let Some(key) = word(&mut chars) else { break };
        if chars.next_if_eq(&'=').is_some() {
            let Some(value) = word(&mut chars) else { break };
            pairs.push((key, Some(value)));
        } else if let Some((k, v)) = key.split_once('=') {
            pairs.push((k.to_owned(), Some(v.to_owned())));
        } else {
            pairs.push((key, None));
        }
    }
    pairs
}

/// Whether to colour a stream.
pub fn decide(flag: Option<When>, color_ui: Option<&str>, no_color: bool, terminal: bool) -> bool {
    match flag {
        Some(When::Always) => return true,
        Some(When::Never) => return false,
        Some(When::Auto) => return terminal,
        None => {}
    }
    match color_ui {
        Some("always") => true,
        Some("never" | "false" | "no" | "off" | "0") => false,
        _ => !no_color && terminal,
    }
}

/// Paints text with ANSI colours, or leaves it plain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paint(pub bool);

impl Paint {
    pub fn enabled(self) -> bool {
        self.0
    }

    fn wrap(self, code: &str, text: impl Display) -> String {
        let text = text.to_string();
        if self.0 && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[m")
        } else {
            text
        }
    }

    /// Problems: refused paths, conflicts.
    pub fn red(self, text: impl Display) -> String {
        self.wrap("31", text)
    }

    /// Success: landed, allowed, clean.
    pub fn green(self, text: impl Display) -> String {
        self.wrap("32", text)
    }

    /// Attention, and commit ids as git shows them.
    pub fn yellow(self, text: impl Display) -> String {
        self.wrap("33", text)
    }

    /// Headings and names.
    pub fn bold(self, text: impl Display) -> String {
        self.wrap("1", text)
    }

    /// Commands to run.
    pub fn cyan(self, text: impl Display) -> String {
        self.wrap("36", text)
    }

    /// Asides: which pattern decided, where a file lives.
    pub fn dim(self, text: impl Display) -> String {
        self.wrap("2", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins() {
        assert!(decide(Some(When::Always), Some("never"), true, false));
        assert!(!decide(Some(When::Never), Some("always"), false, true));
        assert!(decide(Some(When::Auto), Some("never"), true, true));
        assert!(!decide(Some(When::Auto), Some("always"), false, false));
    }

    #[test]
    fn color_ui_overrides_no_color() {
        assert!(decide(None, Some("always"), true, false));
        for off in ["never", "false", "no", "off", "0"] {
            assert!(!decide(None, Some(off), false, true), "{off}");
        }
    }

    #[test]
    fn auto_follows_no_color_then_the_terminal() {
        for auto in [None, Some("auto"), Some("true")] {
            assert!(decide(None, auto, false, true), "{auto:?}");
            assert!(!decide(None, auto, true, true), "{auto:?}");
            assert!(!decide(None, auto, false, false), "{auto:?}");
        }
    }

    #[test]
    fn reads_git_config_parameters() {
        assert_eq!(
            config_parameters("'color.ui'='always' 'x.y'='it'\\''s' 'flag' 'old.style=v'"),
            vec![
                ("color.ui".into(), Some("always".into())),
                ("x.y".into(), Some("it's".into())),
                ("flag".into(), None),
                ("old.style".into(), Some("v".into())),
            ]
        );
        assert_eq!(config_parameters(""), vec![]);
    }

    #[test]
    fn paint_leaves_text_plain_when_off() {
        assert_eq!(Paint(false).red("x"), "x");
        assert_eq!(Paint(true).red("x"), "\x1b[31mx\x1b[m");
    }
}
