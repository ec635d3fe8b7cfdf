//! Branch patterns: which branches a standing agent owns (`branches:`).
//!
//! A pattern is a short branch name (`copilot/*`, not `refs/heads/...`)
//! where `*` matches any run of characters but `/`, `**` any run at all and
//! `?` one character but `/`. Every other character is literal.
//!
//! Two patterns *overlap* when some branch name matches both. That is
//! decided exactly, not by comparing text: the two patterns are read as
//! small automata and their product is searched for a name both accept
//! (see [`overlap`]), which also yields an example name for the message.

use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Lit(char),
    /// `?`: one character other than `/`.
    One,
    /// `*`: any run of characters other than `/`.
    Star,
    /// `**`: any run of characters.
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchPattern {
    text: String,
    tokens: Vec<Token>,
}

/// Characters git refuses in a ref name (see git-check-ref-format), bar
/// the glob characters `*` and `?`.
const FORBIDDEN: &[char] = &[' ', '~', '^', ':', '[', '\\', '\t', '\n', '\x7f'];

impl BranchPattern {
    pub fn new(text: &str) -> Result<BranchPattern, String> {
        if text.is_empty() {
            return Err("it is empty".into());
        }
        if text.starts_with("refs/") {
            return Err("name the branch without `refs/heads/` (e.g. 'copilot/*')".into());
        }
        if let Some(c) = text
            .chars()
            .find(|c| FORBIDDEN.contains(c) || c.is_control())
        {
            return Err(format!("{c:?} cannot appear in a branch name"));
        }
        if text.starts_with('/') || text.ends_with('/') || text.contains("//") {
            return Err("a branch name has no empty part between slashes".into());
        }
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    Token::Any
                }
                '*' => Token::Star,
                '?' => Token::One,
                c => Token::Lit(c),
            });
        }
        Ok(BranchPattern {
            text: text.to_owned(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether short branch name `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        // Positions in the pattern reachable after each prefix of `name`.
        let mut states = closure(&self.tokens, vec![0]);
        for &c in &chars {
            let next = states
                .iter()
                .flat_map(|&i| step(&self.tokens, i, c))
                .collect();
            states = closure(&self.tokens, next);
            if states.is_empty() {
                return false;
            }
        }
        states.contains(&self.tokens.len())
    }
}

/// `states` with every position reachable by skipping `*` or `**` (which
/// may match nothing).
fn closure(tokens: &[Token], mut states: Vec<usize>) -> Vec<usize> {
    let mut i = 0;
    while i < states.len() {
        let s = states[i];
        if matches!(tokens.get(s), Some(Token::Star | Token::Any)) && !states.contains(&(s + 1)) {
            states.push(s + 1);
        }
        i += 1;
    }
    states.sort_unstable();
    states.dedup();
    states
}

/// Where position `i` goes on character `c`.
fn step(tokens: &[Token], i: usize, c: char) -> Option<usize> {
    match tokens.get(i)? {
        Token::Lit(l) if *l == c => Some(i + 1),
        Token::One if c != '/' => Some(i + 1),
        Token::Star if c != '/' => Some(i),
        Token::Any => Some(i),
        _ => None,
    }
}

/// A branch name both patterns match, if there is one.
///
/// The search runs over pairs of positions, one in each pattern. The
/// characters worth trying from a pair are the literals either pattern
/// expects next, `/`, and one character neither mentions (which stands for
/// every other character: patterns treat them all alike).
pub fn overlap(a: &BranchPattern, b: &BranchPattern) -> Option<String> {
    let fresh = ('a'..='z')
        .chain('0'..='9')
        .find(|c| !a.text.contains(*c) && !b.text.contains(*c))
        .unwrap_or('\u{e000}');
    let start = (closure(&a.tokens, vec![0]), closure(&b.tokens, vec![0]));
    let mut seen: Seen = HashMap::new();
    seen.insert(start.clone(), None);
    let mut queue = VecDeque::from([start]);
    while let Some(state) = queue.pop_front() {
        if state.0.contains(&a.tokens.len()) && state.1.contains(&b.tokens.len()) {
            return Some(witness(&seen, state));
        }
        let mut candidates = vec!['/', fresh];
        for (tokens, positions) in [(&a.tokens, &state.0), (&b.tokens, &state.1)] {
            for &i in positions {
                if let Some(Token::Lit(c)) = tokens.get(i) {
                    candidates.push(*c);
                }
            }
        }
        for c in candidates {
            let next_a: Vec<usize> = state
                .0
                .iter()
                .filter_map(|&i| step(&a.tokens, i, c))
                .collect();
            let next_b: Vec<usize> = state
                .1
                .iter()
                .filter_map(|&i| step(&b.tokens, i, c))
                .collect();
            if next_a.is_empty() || next_b.is_empty() {
                continue;
            }
            let next = (closure(&a.tokens, next_a), closure(&b.tokens, next_b));
            if !seen.contains_key(&next) {
                seen.insert(next.clone(), Some((state.clone(), c)));
                queue.push_back(next);
            }
        }
    }
    None
}

type Pair = (Vec<usize>, Vec<usize>);
/// Each pair reached, with the pair and character it was reached from.
type Seen = HashMap<Pair, Option<(Pair, char)>>;

fn witness(seen: &Seen, mut state: (Vec<usize>, Vec<usize>)) -> String {
    let mut name = Vec::new();
    while let Some(Some((prev, c))) = seen.get(&state) {
        name.push(*c);
        state = prev.clone();
    }
    name.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> BranchPattern {
        BranchPattern::new(s).unwrap()
    }

    #[test]
    fn matching() {
        assert!(p("copilot/*").matches("copilot/fix-1"));
        assert!(!p("copilot/*").matches("copilot/a/b"));
        assert!(p("copilot/**").matches("copilot/a/b"));
        assert!(!p("copilot/*").matches("codex/fix"));
        assert!(p("agent/docs-bot").matches("agent/docs-bot"));
        assert!(p("c?dex/*").matches("codex/x"));
        assert!(!p("c?dex/*").matches("c/dex/x"));
    }

    #[test]
    fn overlaps_are_found_with_an_example() {
        let cases = [
            ("copilot/*", "copilot/*"),
            ("copilot/*", "copilot/fix-1"),
            ("copilot/*", "*/fix"),
            ("**", "agent/x"),
            ("a*b", "*c*"),
            ("bot-?", "bot-*"),
        ];
        for (a, b) in cases {
            let name = overlap(&p(a), &p(b)).unwrap_or_else(|| panic!("{a} vs {b}"));
            assert!(p(a).matches(&name) && p(b).matches(&name), "{a} {b} {name}");
        }
    }

    #[test]
    fn disjoint_patterns_do_not_overlap() {
        for (a, b) in [
            ("copilot/*", "codex/*"),
            ("copilot/*", "copilot/a/b"),
            ("a?", "abc"),
            ("agent/x", "agent/y"),
        ] {
            assert_eq!(overlap(&p(a), &p(b)), None, "{a} vs {b}");
        }
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(BranchPattern::new("refs/heads/x").is_err());
        assert!(BranchPattern::new("a b").is_err());
        assert!(BranchPattern::new("").is_err());
        assert!(BranchPattern::new("a//b").is_err());
    }
}
