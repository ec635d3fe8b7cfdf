//! The gate's refusal as text, with the commands that fix it: printed by
//! `scope check` (and so by the pre-commit hook) and by the pre-receive
//! gate of `hooks`, so it lives here once.

use std::io::Write;

use gix::bstr::BString;

use crate::ops::gate::{Refusal, Report, Subject, shell_quote};
use crate::policy::scope::Origin;
use crate::ui::color::Paint;

/// The refusal of `report`: the refused paths, the problems, and the
/// commands that fix them.
pub fn render(
    report: &Report,
    subject: &Subject,
    paint: Paint,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    headline(report, paint, w)?;
    refused_paths(report, paint, w)?;
    for p in &report.problems {
        writeln!(w, "  {p}")?;
    }
    if report.refused.is_empty() {
        return Ok(());
    }
    fixes(report, subject, paint, w)
}

fn headline(report: &Report, paint: Paint, w: &mut dyn Write) -> std::io::Result<()> {
    let what = match report.mode {
        "staged" => "commit refused",
        "range" => "branch refused",
        _ => "paths refused",
    };
    if report.refused.is_empty() {
        return writeln!(
            w,
            "git-agent: {} for agent '{}'",
            paint.red(what),
            paint.bold(&report.agent)
        );
    }
    let n = report.refused.len();
    let (one, many) = match report.mode {
        "staged" => ("staged path is", "staged paths are"),
        "range" => ("change in the range is", "changes in the range are"),
        _ => ("path is", "paths are"),
    };
    writeln!(
        w,
        "git-agent: {}: {n} {} outside the scope of agent '{}'",
        paint.red(what),
        if n == 1 { one } else { many },
        paint.bold(&report.agent)
    )
}

/// Each refused path with its reason, under its commit for --range.
fn refused_paths(report: &Report, paint: Paint, w: &mut dyn Write) -> std::io::Result<()> {
    let width = report
        .refused
        .iter()
        .map(|r| c_quote(&r.path).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    let mut last_commit: Option<&str> = None;
    for r in &report.refused {
        if let Some(c) = r.commit.as_deref()
            && last_commit != Some(c)
        {
            writeln!(
                w,
                "  commit {} {}",
                paint.yellow(&c[..12.min(c.len())]),
                r.summary.as_deref().unwrap_or("")
            )?;
            last_commit = Some(c);
        }
        let indent = if r.commit.is_some() { "    " } else { "  " };
        // Padded outside the colour, which has no width.
        let shown = c_quote(&r.path);
        let pad = " ".repeat(width.saturating_sub(shown.chars().count()));
        writeln!(
            w,
            "{indent}{}{pad}  {}",
            paint.red(&shown),
            paint.dim(&r.reason)
        )?;
    }
    Ok(())
}

/// Whether only a change to the committed policy can allow the path.
fn protected(r: &Refusal) -> bool {
    matches!(
        r.verdict.origin,
        Some(Origin::Protected) | Some(Origin::Builtin)
    )
}

/// The commands that fix a refusal, each one a person can paste into a
/// shell and that names exactly the refused paths.
fn fixes(
    report: &Report,
    subject: &Subject,
    paint: Paint,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(w)?;
    leave_out(report, subject, paint, w)?;
    let widenable: Vec<&Refusal> = report.refused.iter().filter(|r| !protected(r)).collect();
    widen(report, subject, &widenable, paint, w)?;
    if report.refused.iter().any(protected) {
        writeln!(
            w,
            "Protected paths stay out of every agent's scope; only a change to `protected` in .git-agent.yaml, committed on {}, allows them.",
            subject.base
        )?;
    }
    let scope = if report.scope.is_empty() {
        "(empty)".to_owned()
    } else {
        report.scope.join(", ")
    };
    writeln!(w, "Scope of '{}': {}", report.agent, scope)
}

/// How to leave the refused changes out: unstage them, or rewrite the
/// branch.
fn leave_out(
    report: &Report,
    subject: &Subject,
    paint: Paint,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    match report.mode {
        "staged" => {
            let quoted: Vec<String> = report
                .refused
                .iter()
                .map(|r| shell_quote_bytes(&literal_pathspec(&r.path)))
                .collect();
            writeln!(w, "To leave them out of this commit, unstage them:")?;
            writeln!(
                w,
                "  {}",
                paint.cyan(format!("git restore --staged -- {}", quoted.join(" ")))
            )
        }
        "range" => writeln!(
            w,
            "To land, rewrite the branch without these changes (git rebase -i {} on the agent's branch, then edit or drop the commits).",
            subject.base
        ),
        _ => Ok(()),
    }
}

/// How to widen the scope to the paths a pattern can name.
fn widen(
    report: &Report,
    subject: &Subject,
    widenable: &[&Refusal],
    paint: Paint,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    // A pattern is UTF-8 text: a name that is not cannot be granted alone.
    let (nameable, unnameable): (Vec<&Refusal>, Vec<&Refusal>) = widenable
        .iter()
        .partition(|r| crate::policy::pattern::literal(&r.path).is_some());
    if !unnameable.is_empty() {
        writeln!(
            w,
            "No scope pattern names {} alone: a pattern is UTF-8 text, and the name is not; rename the file.",
            unnameable
                .iter()
                .map(|r| c_quote(&r.path))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    if nameable.is_empty() {
        return Ok(());
    }
    let mut suggested: Vec<String> = nameable
        .iter()
        .filter_map(|r| crate::policy::pattern::literal(&r.path))
        .map(|p| shell_quote(&p))
        .collect();
    suggested.sort();
    suggested.dedup();
    if subject.registered.is_none() {
        return writeln!(
            w,
            "If standing agent '{}' should change them, widen its scope under `agents:` in .git-agent.yaml and commit that on {}.",
            report.agent, subject.base
        );
    }
    writeln!(
        w,
        "If agent '{}' should change them, the person orchestrating the agents (not the agent) widens its scope from outside its worktree:",
        report.agent
    )?;
    writeln!(
        w,
        "  {}",
        paint.cyan(format!(
            "git agent scope add {} {}",
            report.agent,
            suggested.join(" ")
        ))
    )
}

/// A path as git shows it (`core.quotePath=false`): as it is, unless it
/// holds a control character, a quote, a backslash or bytes that are not
/// UTF-8; then in double quotes with C escapes, octal for other bytes.
pub fn c_quote(path: &[u8]) -> String {
    let plain = std::str::from_utf8(path)
        .is_ok_and(|s| !s.chars().any(|c| c.is_control() || c == '"' || c == '\\'));
    if plain {
        return String::from_utf8_lossy(path).into_owned();
    }
    let mut out = String::from("\"");
    for chunk in path.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                c if c.is_control() => {
                    let mut buf = [0; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\{b:03o}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out.push('"');
    out
}

/// `path` as a pathspec that names only itself: git reads `*`, `?`, `[`
/// and `\\` in a pathspec as a glob, and a leading `:` as magic.
fn literal_pathspec(path: &[u8]) -> BString {
    if path.first() == Some(&b':') || path.iter().any(|b| b"*?[\\".contains(b)) {
        let mut spec = BString::from(":(literal)");
        spec.extend_from_slice(path);
        spec
    } else {
        path.into()
    }
}

/// Quote bytes for bash and zsh: [`shell_quote`] for UTF-8 text without
/// control characters, else ANSI-C quoting (`$'evil\\377.yml'`), the one
/// form in which those shells spell any byte.
pub fn shell_quote_bytes(arg: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(arg)
        && !text.chars().any(char::is_control)
    {
        return shell_quote(text);
    }
    let mut out = String::from("$'");
    for &b in arg {
        match b {
            b'\'' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('\'');
    out
}
