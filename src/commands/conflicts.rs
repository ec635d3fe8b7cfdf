//! `git agent conflicts`: the forecast of [`crate::ops::forecast`] as a
//! table, lists and a landing order, or as JSON.

use std::io::Write;

use clap::Parser;
use serde::Serialize;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::forecast::{self, Conflicts, Forecast, Left, Pair, ScopeOverlap, Shared};
use crate::ui::color::Paint;

/// Forecast conflicts: every agent merged in memory with its base and with
/// every other agent; files several agents change; overlapping scopes; a
/// landing order. Exits 1 when any conflict is predicted.
#[derive(Debug, Parser)]
#[command(
    name = "git-agent-conflicts",
    bin_name = "git agent conflicts",
    version
)]
pub struct ConflictsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Print {"version": 1, "pairs": [...], ...} (see README).
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Json<'a> {
    version: u32,
    pairs: &'a [Pair],
    order: &'a [String],
    shared_files: &'a [Shared],
    scope_overlaps: &'a [ScopeOverlap],
    problems: &'a [String],
}

pub fn run(args: ConflictsArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open_home(&cwd)?;
    let c = forecast::conflicts(&repo)?;
    let outcome = if c.forecast.pairs.is_empty() {
        Outcome::Done
    } else {
        Outcome::Refused
    };
    if args.json {
        let text = serde_json::to_string_pretty(&Json {
            // 2: a pair's `left` is null, not "base", for the agent's base.
            version: 2,
            pairs: &c.forecast.pairs,
            order: &c.order,
            shared_files: &c.shared,
            scope_overlaps: &c.overlaps,
            problems: &c.forecast.problems,
        })
        .expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
        return Ok(outcome);
    }
    let paint = io.color.out(Some(&repo));
    render(&mut *io.out, paint, &c).map_err(Error::io("writing"))?;
    let paint = io.color.err(Some(&repo));
    for problem in &c.forecast.problems {
        writeln!(io.err, "{} left out {problem}", paint.yellow("warning:"))
            .map_err(Error::io("writing"))?;
    }
    Ok(outcome)
}

fn render(out: &mut dyn Write, paint: Paint, c: &Conflicts) -> std::io::Result<()> {
    if c.forecast.agents.is_empty() {
        writeln!(out, "no agents to compare")?;
    } else {
        matrix(out, paint, &c.forecast)?;
    }
    if !c.forecast.pairs.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.bold("conflicts:"))?;
        for pair in &c.forecast.pairs {
            let left = match &pair.left {
                Left::Base => "its base",
                Left::Agent(name) => name.as_str(),
            };
            writeln!(
                out,
                "  {} × {left}: {}",
                pair.right,
                paint.red(pair.files.join(", "))
            )?;
        }
    }
    shared_files(out, paint, &c.shared)?;
    scope_overlaps(out, paint, &c.overlaps)?;
    if !c.forecast.agents.is_empty() {
        landing_order(out, paint, &c.forecast, &c.order)?;
    }
    Ok(())
}

/// The table of conflicting files: each agent against its base and
/// against every other agent.
fn matrix(out: &mut dyn Write, paint: Paint, forecast: &Forecast) -> std::io::Result<()> {
    let cell = |left: &Left, right: &str| -> String {
        if left.is(right) {
            return "-".into();
        }
        forecast
            .pairs
            .iter()
            .find(|p| match left {
                Left::Base => p.left == Left::Base && p.right == right,
                Left::Agent(name) => {
                    (p.left.is(name) && p.right == right) || (p.left.is(right) && p.right == *name)
                }
            })
            .map_or_else(|| "·".into(), |p| p.files.len().to_string())
    };
    let mut header = vec![String::new(), "base".to_owned()];
    header.extend(forecast.agents.iter().cloned());
    let mut table = vec![header];
    for name in &forecast.agents {
        let mut row = vec![name.clone(), cell(&Left::Base, name)];
        let left = Left::Agent(name.clone());
        row.extend(forecast.agents.iter().map(|other| cell(&left, other)));
        table.push(row);
    }
    writeln!(out, "conflicting files if merged (· none):")?;
    table_lines(out, paint, &table)
}

fn table_lines(out: &mut dyn Write, paint: Paint, table: &[Vec<String>]) -> std::io::Result<()> {
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in table.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (text, w))| {
                // Padded outside the colour, which has no width.
                let pad = " ".repeat(w - text.chars().count());
                let painted = if i == 0 {
                    text.clone()
                } else if c == 0 {
                    paint.bold(text)
                } else if text.parse::<usize>().is_ok() {
                    paint.red(text)
                } else {
                    text.clone()
                };
                format!("{painted}{pad}")
            })
            .collect();
        let line = line.join("  ");
        let line = line.trim_end();
        if i == 0 {
            // The corner cell is blank; bold starts at the first name.
            let names = line.trim_start();
            let corner = &line[..line.len() - names.len()];
            writeln!(out, "  {corner}{}", paint.bold(names))?;
        } else {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

fn shared_files(out: &mut dyn Write, paint: Paint, shared: &[Shared]) -> std::io::Result<()> {
    if shared.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint.bold("files changed by more than one agent:")
    )?;
    for s in shared {
        let mark = match (s.hot, s.protected) {
            (true, true) => "  [hot, protected]",
            (true, false) => "  [hot]",
            (false, true) => "  [protected]",
            (false, false) => "",
        };
        writeln!(
            out,
            "  {}: {}{}",
            s.path,
            s.agents.join(", "),
            paint.yellow(mark)
        )?;
    }
    Ok(())
}

fn scope_overlaps(
    out: &mut dyn Write,
    paint: Paint,
    overlaps: &[ScopeOverlap],
) -> std::io::Result<()> {
    if overlaps.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        paint.bold("scopes that overlap on the base's files:")
    )?;
    for o in overlaps {
        writeln!(
            out,
            "  {} and {}: {} file{}, e.g. {}",
            o.left,
            o.right,
            o.files,
            if o.files == 1 { "" } else { "s" },
            o.examples.join(", ")
        )?;
    }
    Ok(())
}

/// The order to land in, and for each conflicting pair which lands first
/// and what the second then does.
fn landing_order(
    out: &mut dyn Write,
    paint: Paint,
    forecast: &Forecast,
    order: &[String],
) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{} {}", paint.bold("landing order:"), order.join(", "))?;
    let position = |name: &str| order.iter().position(|n| n == name).unwrap_or(usize::MAX);
    for pair in &forecast.pairs {
        let Left::Agent(left) = &pair.left else {
            continue;
        };
        let (first, second) = if position(left) <= position(&pair.right) {
            (left, &pair.right)
        } else {
            (&pair.right, left)
        };
        writeln!(
            out,
            "  {first} before {second}: land {first}, then {} once and resolve {}",
            paint.cyan(format!("`git agent sync {second}`")),
            pair.files.join(", ")
        )?;
    }
    Ok(())
}
