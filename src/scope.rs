//! An agent's effective scope: its patterns, the policy's `protected`
//! patterns and the always-protected manifest, decided per path.
//!
//! Unlike .gitignore, the last matching pattern simply wins, so an exclusion
//! always works: with `src/`, `!src/gen/`, the path `src/gen/x.rs` is out of
//! scope even though its parent directory matched.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::manifest::MANIFEST_FILE;
use crate::pattern::Pattern;

/// Where a pattern came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The agent's own scope (from `--scope`, `scope add` or a standing agent).
    Scope,
    /// An area of the policy, by name.
    Area(String),
    /// A standing agent's scope in the committed manifest.
    Standing,
    /// The policy's `protected` list.
    Protected,
    /// `.git-agent.yaml` itself, which no agent may change.
    Builtin,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Scope => f.write_str("scope"),
            Origin::Area(a) => write!(f, "area '{a}'"),
            Origin::Standing => f.write_str("standing agent in .git-agent.yaml"),
            Origin::Protected => f.write_str("protected in .git-agent.yaml"),
            Origin::Builtin => f.write_str("the policy file is always protected"),
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Pattern,
    origin: Origin,
}

/// Why a path is, or is not, in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub allowed: bool,
    /// The pattern that decided, as written; `None` when no pattern matched.
    pub pattern: Option<String>,
    pub origin: Option<Origin>,
}

impl Verdict {
    /// A human sentence: "matched by 'src/' (scope)" or "no pattern of the scope matches".
    pub fn reason(&self) -> String {
        match (&self.pattern, &self.origin) {
            (Some(p), Some(Origin::Protected)) => format!("protected by '{p}' in .git-agent.yaml"),
            (Some(_), Some(Origin::Builtin)) => {
                "the policy file .git-agent.yaml is always protected".into()
            }
            (Some(p), Some(o)) if self.allowed => format!("allowed by '{p}' ({o})"),
            (Some(p), Some(o)) => format!("excluded by '{p}' ({o})"),
            _ => "no pattern of the scope matches".into(),
        }
    }
}

/// A compiled scope, ready to decide paths.
#[derive(Debug, Clone)]
pub struct Scope {
    rules: Vec<Rule>,
    protected: Vec<Rule>,
}

impl Scope {
    /// Compile the agent's `patterns` (each with its origin) and the policy's
    /// `protected` patterns.
    pub fn new(
        patterns: &[(String, Origin)],
        protected: &[String],
        ignore_case: bool,
    ) -> Result<Scope> {
        let compile = |text: &str| {
            Pattern::new(text, ignore_case).map_err(|why| Error::InvalidPattern {
                pattern: text.to_owned(),
                why,
            })
        };
        let mut rules = Vec::with_capacity(patterns.len());
        for (text, origin) in patterns {
            rules.push(Rule {
                pattern: compile(text)?,
                origin: origin.clone(),
            });
        }
        let mut protected_rules = vec![Rule {
            pattern: compile(&format!("/{MANIFEST_FILE}"))?,
            origin: Origin::Builtin,
        }];
        for text in protected {
            protected_rules.push(Rule {
                pattern: compile(text)?,
                origin: Origin::Protected,
            });
        }
        Ok(Scope {
            rules,
            protected: protected_rules,
        })
    }

    /// Decide whether the agent may change `path` (slash-separated, relative
    /// to the repository root).
    pub fn decide(&self, path: &str) -> Verdict {
        // The manifest is always protected, whatever a protected `!` says.
        if self.protected[0].pattern.matches(path) {
            return self.verdict(false, &self.protected[0]);
        }
        if let Some(rule) = last_match(&self.protected[1..], path)
            && !rule.pattern.negated
        {
            return self.verdict(false, rule);
        }
        match last_match(&self.rules, path) {
            Some(rule) => self.verdict(!rule.pattern.negated, rule),
            None => Verdict {
                allowed: false,
                pattern: None,
                origin: None,
            },
        }
    }

    fn verdict(&self, allowed: bool, rule: &Rule) -> Verdict {
        Verdict {
            allowed,
            pattern: Some(rule.pattern.text.clone()),
            origin: Some(rule.origin.clone()),
        }
    }

    /// The agent's own patterns, as written.
    pub fn patterns(&self) -> impl Iterator<Item = (&str, &Origin)> {
        self.rules
            .iter()
            .map(|r| (r.pattern.text.as_str(), &r.origin))
    }
}

fn last_match<'a>(rules: &'a [Rule], path: &str) -> Option<&'a Rule> {
    rules.iter().rev().find(|r| r.pattern.matches(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(p: &[&str], protected: &[&str]) -> Scope {
        let p: Vec<_> = p.iter().map(|s| (s.to_string(), Origin::Scope)).collect();
        let protected: Vec<_> = protected.iter().map(|s| s.to_string()).collect();
        Scope::new(&p, &protected, false).unwrap()
    }

    #[test]
    fn last_match_wins_and_exclusions_always_work() {
        let s = scope(&["src/", "!src/gen/"], &[]);
        assert!(s.decide("src/a.rs").allowed);
        assert!(!s.decide("src/gen/x.rs").allowed);
        let s = scope(&["!src/gen/", "src/"], &[]);
        assert!(s.decide("src/gen/x.rs").allowed);
    }

    #[test]
    fn protected_and_manifest_always_refused() {
        let s = scope(&["**"], &[".github/", "Cargo.lock"]);
        assert!(!s.decide(".git-agent.yaml").allowed);
        assert!(s.decide("sub/.git-agent.yaml").allowed);
        assert!(!s.decide(".github/workflows/ci.yml").allowed);
        assert!(!s.decide("crates/x/Cargo.lock").allowed);
        assert!(s.decide("src/lib.rs").allowed);
        let v = s.decide("Cargo.lock");
        assert_eq!(v.reason(), "protected by 'Cargo.lock' in .git-agent.yaml");
    }
}
