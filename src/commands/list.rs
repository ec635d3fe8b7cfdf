//! `git agent list`: one row per agent.

use std::path::Path;

use clap::Parser;
use serde::Serialize;

use crate::Io;
use crate::cli::Common;
use crate::error::{Error, Outcome, Result};
use crate::git::repo;
use crate::ops::context;
use crate::ops::status::{self, AgentStatus};
use crate::state::registry::Agent;
use crate::ui::color::Paint;

/// List the agents: branch, path, ahead/behind, uncommitted work, scope, lease.
#[derive(Debug, Parser)]
#[command(name = "git-agent-list", bin_name = "git agent list", version)]
pub struct ListArgs {
    #[command(flatten)]
    pub common: Common,
    /// Also show each agent's scope and task.
    #[arg(short = 'l', long = "long")]
    pub long: bool,
    /// Print JSON instead of a table.
    #[arg(long, conflicts_with = "names")]
    pub json: bool,
    /// Print only the agents' names, one per line, without computing any
    /// status (for scripts and shell completion).
    #[arg(long)]
    pub names: bool,
}

#[derive(Serialize)]
struct Json<'a> {
    version: u32,
    agents: &'a [AgentStatus],
}

pub fn run(args: ListArgs, io: &mut Io) -> Result<Outcome> {
    let cwd = args.common.absolute_dir()?;
    let repo = repo::open_home(&cwd)?;
    let agents: Vec<_> = context::registry(&repo).load()?.into_values().collect();
    if args.names {
        for agent in &agents {
            writeln!(io.out, "{}", agent.name).map_err(Error::io("writing"))?;
        }
        return Ok(Outcome::Done);
    }
    let rows = statuses(&repo, &agents);
    if args.json {
        let text = serde_json::to_string_pretty(&Json {
            version: 1,
            agents: &rows,
        })
        .expect("serialises");
        writeln!(io.out, "{text}").map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    if rows.is_empty() {
        writeln!(
            io.out,
            "no agents; create one with `git agent add NAME --scope PAT`"
        )
        .map_err(Error::io("writing"))?;
        return Ok(Outcome::Done);
    }
    let table = table_of(&rows, &cwd);
    let paint = io.color.out(Some(&repo));
    write_table(io, paint, &table, &rows, args.long).map_err(Error::io("writing"))?;
    Ok(Outcome::Done)
}

/// Every agent's status, with its forecast conflicts when they can be had.
fn statuses(repo: &gix::Repository, agents: &[Agent]) -> Vec<AgentStatus> {
    let mut rows = status::all(repo, agents);
    // Conflicts are a column, not a reason to fail the list.
    if let Ok(forecast) = crate::ops::forecast::forecast(repo, agents) {
        for row in &mut rows {
            if forecast.agents.contains(&row.name) {
                row.conflicts = Some(forecast.count(&row.name));
            }
        }
    }
    rows
}

/// The table's cells: a header row, then one row per agent.
fn table_of(rows: &[AgentStatus], cwd: &Path) -> Vec<Vec<String>> {
    let num = |n: Option<usize>| n.map_or("?".to_owned(), |n| n.to_string());
    let mut table: Vec<Vec<String>> = vec![
        [
            "NAME",
            "BRANCH",
            "PATH",
            "BASE",
            "AHEAD",
            "BEHIND",
            "UNCOMMITTED",
            "UNTRACKED",
            "SCOPE",
            "CONFLICTS",
            "LEASE",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    ];
    for r in rows {
        table.push(vec![
            r.name.clone(),
            r.branch.clone(),
            short_path(&r.path, cwd),
            r.base.clone(),
            num(r.ahead),
            num(r.behind),
            num(r.uncommitted),
            num(r.untracked),
            match r.out_of_scope {
                Some(true) => "OUT".into(),
                Some(false) => "ok".into(),
                None => "?".into(),
            },
            num(r.conflicts),
            r.lease
                .as_ref()
                .map_or("-".to_owned(), |l| format!("pid {} {}", l.pid, l.command)),
        ]);
    }
    table
}

/// The width of each column: its widest cell.
fn column_widths(table: &[Vec<String>]) -> Vec<usize> {
    (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// A body cell in the colour its column and value call for.
fn paint_cell(paint: Paint, column: &str, cell: &str) -> String {
    match (column, cell) {
        ("NAME", _) => paint.bold(cell),
        ("SCOPE", "OUT") => paint.red(cell),
        ("SCOPE", "ok") => paint.green(cell),
        ("CONFLICTS", n) if n != "0" && n != "?" => paint.red(cell),
        ("BEHIND" | "UNCOMMITTED" | "UNTRACKED", n) if n != "0" && n != "?" => paint.yellow(cell),
        _ => cell.to_owned(),
    }
}

/// The table, each agent's row followed by its problems and, with `long`,
/// its scope and task.
fn write_table(
    io: &mut Io,
    paint: Paint,
    table: &[Vec<String>],
    rows: &[AgentStatus],
    long: bool,
) -> std::io::Result<()> {
    let widths = column_widths(table);
    for (i, row) in table.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let painted = match i {
                0 => cell.clone(),
                _ => paint_cell(paint, &table[0][c], cell),
            };
            line.push_str(&painted);
            if c + 1 < row.len() {
                // Padded outside the colour, which has no width.
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        if i == 0 {
            writeln!(io.out, "{}", paint.bold(line.trim_end()))?;
            continue;
        }
        writeln!(io.out, "{}", line.trim_end())?;
        write_details(io, paint, &rows[i - 1], long)?;
    }
    Ok(())
}

/// The lines under an agent's row: its problems, and with `long` its scope
/// and task.
fn write_details(io: &mut Io, paint: Paint, r: &AgentStatus, long: bool) -> std::io::Result<()> {
    for p in &r.problems {
        writeln!(io.out, "  {} {p}", paint.red("!"))?;
    }
    if long {
        writeln!(
            io.out,
            "    scope: {}",
            if r.scope.is_empty() {
                "(empty)".into()
            } else {
                r.scope.join(", ")
            }
        )?;
        if r.sparse {
            writeln!(
                io.out,
                "    sparse: only the scope and the policy's context are checked out"
            )?;
        }
        if let Some(task) = &r.task {
            writeln!(io.out, "    task:  {task}")?;
        }
    }
    Ok(())
}

/// The path relative to `cwd` when that is shorter.
fn short_path(path: &str, cwd: &std::path::Path) -> String {
    let p = std::path::Path::new(path);
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_owned());
    let mut up = 0;
    let mut base = cwd.as_path();
    loop {
        if let Ok(rest) = p.strip_prefix(base) {
            let rel = format!("{}{}", "../".repeat(up), rest.display());
            let rel = if rel.is_empty() {
                ".".into()
            } else {
                rel.trim_end_matches('/').to_owned()
            };
            return if rel.len() < path.len() {
                rel
            } else {
                path.to_owned()
            };
        }
        match base.parent() {
            Some(parent) if up < 3 => {
                base = parent;
                up += 1;
            }
            _ => return path.to_owned(),
        }
    }
}
