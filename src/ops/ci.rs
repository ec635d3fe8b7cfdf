//! `scope check --format github|gitlab`: a check's report as the CI
//! provider shows it, next to the changed file in the pull request.

use gix::bstr::ByteSlice;
use serde::Serialize;

use crate::ops::gate::{Refusal, Report};

/// A workflow command's message, escaped as GitHub's runner unescapes it.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value (`file=`, `title=`): the message's
/// escapes, and `:` and `,`, which end a property.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn where_(r: &Refusal) -> String {
    match (&r.commit, &r.summary) {
        (Some(c), Some(s)) => format!("commit {} ({s}): ", &c[..12.min(c.len())]),
        (Some(c), None) => format!("commit {}: ", &c[..12.min(c.len())]),
        _ => String::new(),
    }
}

fn kind(r: &Refusal) -> &'static str {
    use crate::git::changes::ChangeKind::*;
    match r.kind {
        Some(Added) => "added",
        Some(Deleted) => "deleted",
        Some(Modified) => "modified",
        Some(TypeChanged) => "type changed",
        Some(Unmerged) => "unmerged",
        None => "named",
    }
}

fn message(report: &Report, r: &Refusal) -> String {
    format!(
        "{}{} is outside the scope of agent '{}' ({}, {}). Scope: {}",
        where_(r),
        r.path.to_str_lossy(),
        report.agent,
        kind(r),
        r.reason,
        if report.scope.is_empty() {
            "(empty)".to_owned()
        } else {
            report.scope.join(", ")
        }
    )
}

/// One `::error` workflow command per refused path (and per problem that
/// is not about a path), then nothing else: the text goes to stderr.
pub fn github(report: &Report) -> String {
    let title = escape_property(&format!("outside the scope of agent '{}'", report.agent));
    let mut out = String::new();
    for r in &report.refused {
        out += &format!(
            "::error file={},line=1,title={title}::{}\n",
            escape_property(&r.path.to_str_lossy()),
            escape_data(&message(report, r))
        );
    }
    for p in &report.problems {
        out += &format!(
            "::error title={}::{}\n",
            escape_property(&format!("refused for agent '{}'", report.agent)),
            escape_data(p)
        );
    }
    out
}

#[derive(Serialize)]
struct Issue {
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// GitLab's code-quality report: a JSON array of issues, each with a
/// fingerprint that stays the same from run to run for the same finding.
pub fn gitlab(report: &Report) -> String {
    let mut issues: Vec<Issue> = report
        .refused
        .iter()
        .map(|r| {
            let path = r.path.to_str_lossy().into_owned();
            Issue {
                description: message(report, r),
                check_name: "git-agent-scope",
                fingerprint: fingerprint(&[
                    &report.agent,
                    r.commit.as_deref().unwrap_or(""),
                    &path,
                    &r.reason,
                ]),
                severity: "major",
                location: Location {
                    path,
                    lines: Lines { begin: 1 },
                },
            }
        })
        .collect();
    issues.extend(report.problems.iter().map(|p| Issue {
        description: p.clone(),
        check_name: "git-agent-scope",
        fingerprint: fingerprint(&[&report.agent, p]),
        severity: "major",
        location: Location {
            path: crate::policy::manifest::MANIFEST_FILE.to_owned(),
            lines: Lines { begin: 1 },
        },
    }));
    serde_json::to_string_pretty(&issues).expect("serialises")
}

/// A stable hash of the finding's parts (SHA-1, as git hashes a blob).
fn fingerprint(parts: &[&str]) -> String {
    let text = parts.join("\0");
    gix::objs::compute_hash(
        gix::hash::Kind::Sha1,
        gix::objs::Kind::Blob,
        text.as_bytes(),
    )
    .map(|id| id.to_string())
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_githubs_rules() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
