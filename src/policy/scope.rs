//! An agent's effective scope: its patterns, the policy's `protected`
//! patterns and the always-protected manifest, decided per path.
//!
//! Unlike .gitignore, the last matching pattern simply wins, so an exclusion
//! always works: with `src/`, `!src/gen/`, the path `src/gen/x.rs` is out of
//! scope even though its parent directory matched.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::policy::manifest::MANIFEST_FILE;
use crate::policy::pattern::Pattern;

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

/// Which patterns of a scope match a directory or one it is in; such a
/// pattern matches every path below. See [`Scope::enter`].
#[derive(Debug, Clone)]
pub struct DirMatches(Vec<bool>);

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
    pub fn decide(&self, path: impl AsRef<[u8]>) -> Verdict {
        let path = path.as_ref();
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

    /// Nothing matched yet: the state of the repository's root directory,
    /// for deciding a whole tree with [`Scope::enter`] and [`Scope::allows_below`].
    pub fn root(&self) -> DirMatches {
        DirMatches(vec![false; self.protected.len() + self.rules.len()])
    }

    /// The state of directory `dir` (a path from the root), inside the
    /// directory whose state is `parent`.
    pub fn enter(&self, parent: &DirMatches, dir: impl AsRef<[u8]>) -> DirMatches {
        let dir = dir.as_ref();
        DirMatches(
            self.protected
                .iter()
                .chain(&self.rules)
                .zip(&parent.0)
                .map(|(rule, &matched)| matched || rule.pattern.matches_dir(dir))
                .collect(),
        )
    }

    /// [`Scope::decide`]'s answer for `path`, a file in the directory whose
    /// state is `dir`: each pattern that matched no directory above is
    /// tried on the file alone, which saves matching every directory
    /// again for each file.
    pub fn allows_below(&self, dir: &DirMatches, path: impl AsRef<[u8]>) -> bool {
        let path = path.as_ref();
        let hit = |i: usize, rule: &Rule| dir.0[i] || rule.pattern.matches_file(path);
        let fixed = self.protected.len();
        if hit(0, &self.protected[0]) {
            return false;
        }
        if let Some(i) = (1..fixed).rev().find(|&i| hit(i, &self.protected[i]))
            && !self.protected[i].pattern.negated
        {
            return false;
        }
        (0..self.rules.len())
            .rev()
            .find(|&i| hit(fixed + i, &self.rules[i]))
            .is_some_and(|i| !self.rules[i].pattern.negated)
    }

    /// Which of `indices` into `files` (paths sorted, so that each
    /// directory's paths sit together) the scope allows, deciding each
    /// directory once rather than once per file.
    pub fn allowed_among(
        &self,
        files: &[String],
        indices: impl Iterator<Item = usize>,
    ) -> Vec<usize> {
        // The directories the previous path was in, outermost first, each
        // with its path and state; the root is "".
        let mut stack: Vec<(String, DirMatches)> = vec![(String::new(), self.root())];
        let mut allowed = Vec::new();
        for i in indices {
            let path = files[i].as_str();
            while stack.len() > 1 {
                let dir = stack[stack.len() - 1].0.as_str();
                if path.len() > dir.len()
                    && path.as_bytes()[dir.len()] == b'/'
                    && path.starts_with(dir)
                {
                    break;
                }
                stack.pop();
            }
            let from = match stack.len() {
                1 => 0,
                _ => stack[stack.len() - 1].0.len() + 1,
            };
            for (slash, _) in path[from..].match_indices('/') {
                let dir = &path[..from + slash];
                let state = self.enter(&stack[stack.len() - 1].1, dir);
                stack.push((dir.to_owned(), state));
            }
            if self.allows_below(&stack[stack.len() - 1].1, path) {
                allowed.push(i);
            }
        }
        allowed
    }

    /// Literal prefixes that every path this scope allows starts with, or
    /// `None` when one of its patterns can match anywhere.
    pub fn allowed_prefixes(&self) -> Option<Vec<&str>> {
        self.rules
            .iter()
            .filter(|r| !r.pattern.negated)
            .map(|r| r.pattern.anchored_prefix())
            .collect()
    }

    /// Directories (slash-separated, relative to the root; "" for the
    /// root) that hold every path this scope allows, or `None` when one of
    /// its patterns can match anywhere. Exclusions and protected paths are
    /// not subtracted: the directories over-approximate the scope.
    pub fn writable_dirs(&self) -> Option<Vec<&str>> {
        let mut dirs: Vec<&str> = self
            .rules
            .iter()
            .filter(|r| !r.pattern.negated)
            .map(|r| r.pattern.literal_dir())
            .collect::<Option<_>>()?;
        dirs.sort_unstable();
        dirs.dedup();
        Some(dirs)
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

fn last_match<'a>(rules: &'a [Rule], path: &[u8]) -> Option<&'a Rule> {
    rules.iter().rev().find(|r| r.pattern.matches(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_dirs_are_the_literal_directories_of_the_patterns() {
        let s = scope(
            &[
                "src/billing/",
                "tests/billing/*.rs",
                "/Makefile",
                "!src/billing/gen/",
            ],
            &[],
        );
        assert_eq!(
            s.writable_dirs(),
            Some(vec!["", "src/billing", "tests/billing"])
        );
        let s = scope(&["src/bill*", "docs/guide.md", "/lib/x/"], &[]);
        assert_eq!(s.writable_dirs(), Some(vec!["docs", "lib/x", "src"]));
        assert_eq!(scope(&["src/", "*.md"], &[]).writable_dirs(), None);
        assert_eq!(
            scope(&["src/**/gen/"], &[]).writable_dirs(),
            Some(vec!["src"])
        );
    }

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

    #[test]
    fn deciding_by_directory_agrees_with_deciding_each_path() {
        let mut files: Vec<String> = [
            ".git-agent.yaml",
            "Cargo.lock",
            "README.md",
            "a.md",
            "crates/x/Cargo.lock",
            "docs/a.md",
            "docs/gen/b.md",
            "src/a.rs",
            "src/api/x.rs",
            "src/api/gen/y.rs",
            "src/gen/x.rs",
            "src.rs",
            "src2/a.rs",
            "x/src/a.rs",
            "x/src/gen/deep/z.rs",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        files.sort();
        let scopes = [
            scope(&["src/", "!src/gen/"], &[]),
            scope(&["!src/gen/", "src/"], &["Cargo.lock"]),
            scope(&["/src/api/**/*.rs", "*.md"], &["docs/gen/"]),
            scope(&["**", "!gen/"], &[".git-agent.yaml", "!crates/"]),
            scope(&["/src", "Cargo.lock"], &[]),
        ];
        for s in &scopes {
            let expected: Vec<usize> = (0..files.len())
                .filter(|&i| s.decide(&files[i]).allowed)
                .collect();
            assert_eq!(s.allowed_among(&files, 0..files.len()), expected, "{s:?}");
            let odd: Vec<usize> = expected.iter().copied().filter(|i| i % 2 == 1).collect();
            let odd_allowed = s.allowed_among(&files, (0..files.len()).filter(|i| i % 2 == 1));
            assert_eq!(odd_allowed, odd, "{s:?}");
        }
    }
}
