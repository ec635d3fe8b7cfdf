//! One scope pattern: .gitignore syntax, matched the way git matches that one
//! pattern against a path (`git check-ignore --no-index` is the reference).
//!
//! The pattern is translated into a `globset` glob with `literal_separator`,
//! so `*`, `?` and `[...]` never cross `/` while `**` does. The translation
//! takes care of the places where globset's syntax differs from git's
//! wildmatch: `{a,b}` is literal in git, a `**` that is not a whole path
//! component is a plain `*`, bracket expressions never match `/`, and POSIX
//! classes such as `[[:digit:]]` are spelled out as ranges.

use globset::{GlobBuilder, GlobMatcher};

/// A compiled scope pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as written, for messages.
    pub text: String,
    /// `!pattern`: a match excludes the path.
    pub negated: bool,
    /// `pattern/`: matches directories only (and so everything below them).
    dir_only: bool,
    /// No slash but a trailing one: matched against the last path component
    /// at any depth. Otherwise matched against the whole path from the root.
    basename_only: bool,
    /// The literal text every matching path starts with, when the pattern
    /// is anchored and case-sensitive: lets callers skip whole subtrees.
    anchored_prefix: Option<String>,
    /// The deepest directory every matching path lies in, when the pattern
    /// is anchored and case-sensitive ("" for the root).
    literal_dir: Option<String>,
    /// The one path (a file or a directory and all below it) the pattern
    /// names, when it is anchored, case-sensitive and has no wildcard.
    literal_path: Option<String>,
    glob: GlobMatcher,
}

impl Pattern {
    /// Parse `text` with .gitignore syntax; `ignore_case` follows `core.ignoreCase`.
    pub fn new(text: &str, ignore_case: bool) -> Result<Pattern, String> {
        let mut body = text;
        if body.starts_with('#') {
            return Err("a leading '#' makes this a comment in .gitignore syntax; write '\\#' for a literal '#'".into());
        }
        let negated = body.starts_with('!');
        if negated {
            body = &body[1..];
        }
        let body = trim_unescaped_trailing_spaces(body);
        if body.is_empty() {
            return Err("the pattern is empty".into());
        }
        let (body, dir_only) = match body.strip_suffix('/') {
            Some(rest) => (rest, true),
            None => (body, false),
        };
        if body.is_empty() {
            return Err("'/' alone names no path".into());
        }
        let basename_only = !body.contains('/');
        let body = body.strip_prefix('/').unwrap_or(body);
        if body.is_empty() {
            return Err("'/' alone names no path".into());
        }
        let anchored_prefix = (!basename_only && !ignore_case).then(|| {
            let end = body.find(['*', '?', '[', '\\']).unwrap_or(body.len());
            body[..end].to_owned()
        });
        let literal_dir = anchored_prefix.as_deref().map(|prefix| {
            if dir_only && prefix.len() == body.len() {
                // `src/billing/`: the directory itself.
                prefix.to_owned()
            } else {
                // `src/billing/*.rs`, `src/main.rs`, `src/bill*`: its parent.
                prefix
                    .rfind('/')
                    .map(|i| &prefix[..i])
                    .unwrap_or("")
                    .to_owned()
            }
        });
        let literal_path = anchored_prefix
            .as_deref()
            .filter(|prefix| prefix.len() == body.len())
            .map(str::to_owned);
        let glob_text = translate(body)?;
        let glob = GlobBuilder::new(&glob_text)
            .literal_separator(true)
            .backslash_escape(true)
            .empty_alternates(true)
            .case_insensitive(ignore_case)
            .build()
            .map_err(|e| e.kind().to_string())?
            .compile_matcher();
        Ok(Pattern {
            text: text.to_owned(),
            negated,
            dir_only,
            basename_only,
            anchored_prefix,
            literal_dir,
            literal_path,
            glob,
        })
    }

    /// Text that every path this pattern matches starts with; `None` when
    /// it can match anywhere (`*.md`, `Cargo.lock`, or ignoring case).
    pub fn anchored_prefix(&self) -> Option<&str> {
        self.anchored_prefix.as_deref()
    }

    /// The deepest directory (slash-separated, "" for the root) that holds
    /// every path this pattern matches; `None` when it can match anywhere.
    pub fn literal_dir(&self) -> Option<&str> {
        self.literal_dir.as_deref()
    }

    /// The path the pattern names literally (no wildcard, anchored,
    /// case-sensitive), and whether it names a directory only (`dir/`).
    pub fn literal_path(&self) -> Option<(&str, bool)> {
        self.literal_path.as_deref().map(|p| (p, self.dir_only))
    }

    /// Whether this pattern, alone, matches `path` (a file) or one of the
    /// directories that contain it: a pattern that matches a directory covers
    /// everything below it. The `!` is ignored here; see [`crate::policy::scope`].
    /// Paths are bytes, as git stores them: a name that is not UTF-8 is
    /// matched as it is, never through a lossy copy.
    pub fn matches(&self, path: impl AsRef<[u8]>) -> bool {
        let path = path.as_ref();
        let mut end = 0;
        loop {
            let next_slash = path[end..].iter().position(|&b| b == b'/').map(|i| end + i);
            let (candidate, is_dir) = match next_slash {
                Some(i) => (&path[..i], true),
                None => (path, false),
            };
            if self.matches_one(candidate, is_dir) {
                return true;
            }
            match next_slash {
                Some(i) => end = i + 1,
                None => return false,
            }
        }
    }

    /// Whether the pattern matches the directory `dir` itself.
    pub fn matches_dir(&self, dir: impl AsRef<[u8]>) -> bool {
        self.matches_one(dir.as_ref(), true)
    }

    /// Whether the pattern matches the file `path` itself, leaving aside
    /// the directories that contain it.
    pub fn matches_file(&self, path: impl AsRef<[u8]>) -> bool {
        self.matches_one(path.as_ref(), false)
    }

    fn matches_one(&self, candidate: &[u8], is_dir: bool) -> bool {
        if self.dir_only && !is_dir {
            return false;
        }
        if let Some(prefix) = &self.anchored_prefix
            && !candidate.starts_with(prefix.as_bytes())
        {
            return false;
        }
        let candidate = if self.basename_only {
            candidate.rsplit(|&b| b == b'/').next().unwrap_or(candidate)
        } else {
            candidate
        };
        self.glob
            .is_match_candidate(&globset::Candidate::from_bytes(candidate))
    }
}

/// A pattern that matches exactly `path` (a file, relative to the root) and
/// nothing beside it: anchored with a leading `/`, every wildcard and
/// escape character escaped, as are trailing spaces. `None` when the path
/// is not UTF-8, which no pattern (a UTF-8 string) can spell literally.
pub fn literal(path: &[u8]) -> Option<String> {
    let path = std::str::from_utf8(path).ok()?;
    let mut out = String::with_capacity(path.len() + 2);
    out.push('/');
    for c in path.chars() {
        if matches!(c, '\\' | '*' | '?' | '[') {
            out.push('\\');
        }
        out.push(c);
    }
    // git trims unescaped trailing spaces; escape each so they stay.
    let kept = out.trim_end_matches(' ').len();
    let spaces = out.len() - kept;
    out.truncate(kept);
    out.push_str(&"\\ ".repeat(spaces));
    Some(out)
}

/// git strips trailing spaces unless they are escaped with a backslash.
fn trim_unescaped_trailing_spaces(s: &str) -> &str {
    let mut end = s.len();
    while end > 0 && s.as_bytes()[end - 1] == b' ' {
        let backslashes = s.as_bytes()[..end - 1]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 1 {
            break;
        }
        end -= 1;
    }
    &s[..end]
}

/// Turn a wildmatch pattern (no leading `!`, `/` or trailing `/`) into
/// globset syntax with the same meaning under `literal_separator`.
fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    // git compares the literal prefix (up to the first wildcard) by itself
    // and hands only the rest to wildmatch; a `**` right after that prefix
    // therefore counts as leading and crosses '/': `a**/b` matches `a/x/b`.
    let literal_prefix = chars
        .iter()
        .position(|c| matches!(c, '*' | '?' | '[' | '\\'))
        .unwrap_or(chars.len());
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err("a trailing backslash escapes nothing".into());
                };
                push_literal(&mut out, next);
                i += 2;
            }
            '*' => {
                let start = i;
                while i < chars.len() && chars[i] == '*' {
                    i += 1;
                }
                let whole_component = (start == 0 || chars[start - 1] == '/')
                    && (i == chars.len() || chars[i] == '/');
                let at_end_or_slash = i == chars.len() || chars[i] == '/';
                if i - start >= 2 && whole_component {
                    out.push_str("**");
                } else if i - start >= 2 && start == literal_prefix && at_end_or_slash {
                    // `a**/b`: any text, slashes included, between `a` and `/b`.
                    // The rest `**/b` also matches `b` itself, so `a**/b` matches `ab`.
                    if i == chars.len() {
                        out.push_str("{*,*/**}");
                    } else {
                        out.push_str("{,*/**/}");
                        i += 1;
                    }
                } else {
                    out.push('*');
                }
            }
            '?' => {
                out.push('?');
                i += 1;
            }
            '[' => {
                i = translate_class(&chars, i, &mut out)?;
            }
            _ => {
                push_literal(&mut out, c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    if matches!(
        c,
        '*' | '?' | '[' | ']' | '{' | '}' | '\\' | '!' | '^' | ',' | '-'
    ) {
        out.push('\\');
    }
    out.push(c);
}

/// Parse a bracket expression starting at `chars[open] == '['` the way git's
/// wildmatch does, emit it in globset syntax, and return the index after it.
fn translate_class(chars: &[char], open: usize, out: &mut String) -> Result<usize, String> {
    let unclosed =
        || "unclosed '[': close it with ']', or write '\\[' for a literal '['".to_string();
    let mut i = open + 1;
    let mut negated = false;
    if matches!(chars.get(i), Some('!') | Some('^')) {
        negated = true;
        i += 1;
    }
    let mut ranges: Vec<(char, char)> = Vec::new();
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(unclosed());
        };
        if c == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        if c == '\\' {
            let Some(&lit) = chars.get(i + 1) else {
                return Err(unclosed());
            };
            ranges.push((lit, lit));
            i += 2;
        } else if c == '-'
            && !ranges.is_empty()
            && chars.get(i + 1).is_some_and(|&n| n != ']')
            && ranges.last().is_some_and(|r| r.0 == r.1)
        {
            let mut hi = chars[i + 1];
            i += 2;
            if hi == '\\' {
                hi = *chars.get(i).ok_or_else(unclosed)?;
                i += 1;
            }
            let lo = ranges.pop().map(|r| r.0).unwrap_or(hi);
            if hi >= lo {
                ranges.push((lo, hi));
            }
        } else if c == '[' && chars.get(i + 1) == Some(&':') {
            let rest: String = chars[i + 2..].iter().collect();
            match rest.find(":]") {
                Some(end) => {
                    let name = &rest[..end];
                    ranges.extend(
                        posix_class(name)
                            .ok_or_else(|| format!("unknown character class '[:{name}:]'"))?,
                    );
                    i += 2 + rest[..end].chars().count() + 2;
                }
                None => {
                    ranges.push(('[', '['));
                    i += 1;
                }
            }
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
    // In git a bracket expression never matches '/'; globset's would.
    if negated {
        ranges.push(('/', '/'));
    } else {
        ranges.retain(|r| *r != ('/', '/'));
        if ranges.is_empty() {
            // Only '/' was listed: nothing can match. An empty negated class
            // of every char is not expressible, so use a never-matching pair.
            out.push_str("[a][b]");
            return Ok(i);
        }
    }
    emit_class(out, negated, ranges);
    Ok(i)
}

/// globset classes have no escapes: ']' is literal only first, '-' only last,
/// and '!'/'^' must not come first in a positive class.
fn emit_class(out: &mut String, negated: bool, ranges: Vec<(char, char)>) {
    let has_close = ranges.contains(&(']', ']'));
    let has_dash = ranges.contains(&('-', '-'));
    let mut middle: Vec<(char, char)> = ranges
        .into_iter()
        .filter(|r| *r != (']', ']') && *r != ('-', '-'))
        .collect();
    let is_bang = |r: &(char, char)| matches!(r, ('!', '!') | ('^', '^'));
    // Sorting is stable: '!'/'^' singles move behind everything else.
    middle.sort_by_key(is_bang);
    if !negated && !has_close && !has_dash && !middle.is_empty() && middle.iter().all(is_bang) {
        // Only '!' and '^': no class can start with them, so alternate literals.
        out.push('{');
        for (n, r) in middle.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            push_literal(out, r.0);
        }
        out.push('}');
        return;
    }
    out.push('[');
    if negated {
        out.push('!');
    }
    if has_close {
        out.push(']');
    } else if has_dash && !negated && middle.first().is_some_and(is_bang) {
        out.push('-');
    }
    let dash_emitted = out.ends_with("[-");
    for (lo, hi) in middle {
        out.push(lo);
        if lo != hi {
            out.push('-');
            out.push(hi);
        }
    }
    if has_dash && !dash_emitted {
        out.push('-');
    }
    out.push(']');
}

fn posix_class(name: &str) -> Option<Vec<(char, char)>> {
    Some(match name {
        "alnum" => vec![('0', '9'), ('A', 'Z'), ('a', 'z')],
        "alpha" => vec![('A', 'Z'), ('a', 'z')],
        "blank" => vec![(' ', ' '), ('\t', '\t')],
        "cntrl" => vec![('\0', '\x1f'), ('\x7f', '\x7f')],
        "digit" => vec![('0', '9')],
        "graph" => vec![('!', '~')],
        "lower" => vec![('a', 'z')],
        "print" => vec![(' ', '~')],
        "punct" => vec![('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "space" => vec![(' ', ' '), ('\t', '\r')],
        "upper" => vec![('A', 'Z')],
        "xdigit" => vec![('0', '9'), ('A', 'F'), ('a', 'f')],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        Pattern::new(p, false).unwrap().matches(path)
    }

    #[test]
    fn basics() {
        assert!(m("*.md", "docs/a/readme.md"));
        assert!(m("build/", "x/build/out.o"));
        assert!(!m("build/", "x/build"));
        assert!(m("/src", "src/a.rs"));
        assert!(!m("/src", "x/src/a.rs"));
        assert!(m("src/*.rs", "src/a.rs"));
        assert!(!m("src/*.rs", "src/x/a.rs"));
        assert!(m("src/**/*.rs", "src/x/y/a.rs"));
        assert!(m("a{b}", "a{b}"));
        assert!(m("a**b", "axxb"));
        assert!(m("x/a**/b", "x/ab"));
        assert!(m("x/a**/b", "x/a/y/b"));
        assert!(m("x/a**", "x/a/y/b"));
        assert!(!m("a/[!x]", "a//"));
        assert!(m("[[:digit:]]x", "1x"));
        assert!(m("f[]]", "f]"));
        assert!(m("f[!]]", "fa"));
    }

    #[test]
    fn names_that_are_not_utf8_match_as_bytes() {
        let evil: &[u8] = b".github/workflows/evil\xff.yml";
        for (text, expected) in [
            (".github/", true),
            ("*.yml", true),
            ("/.github/workflows/evil?.yml", true),
            ("/.github/**", true),
            ("evil*", true),
            ("/src/", false),
        ] {
            for ignore_case in [false, true] {
                let p = Pattern::new(text, ignore_case).unwrap();
                assert_eq!(p.matches(evil), expected, "{text} {ignore_case}");
            }
        }
    }

    #[test]
    fn a_literal_pattern_matches_its_path_and_nothing_beside_it() {
        let names: [&[u8]; 14] = [
            b"*", b"[ab]", b"a", b"b", b"!x", b"#x", b"x", b"a\\b", b"?", b"sub/*", b"sub/x",
            b"trail ", b"trail", b"y/*",
        ];
        for name in names {
            let text = literal(name).unwrap();
            let p = Pattern::new(&text, false).unwrap();
            for other in names {
                assert_eq!(p.matches(other), other == name, "{text} on {other:?}");
            }
            let nested = [b"deep/".as_slice(), name].concat();
            assert!(!p.matches(&nested), "{text} is anchored");
        }
        assert_eq!(literal(b"*").unwrap(), "/\\*");
        assert_eq!(literal(b"[ab]").unwrap(), "/\\[ab]");
        assert_eq!(literal(b"evil\xff"), None);
    }

    #[test]
    fn anchored_prefix_starts_every_match() {
        let paths = [
            "src/a.rs",
            "src/api/x.rs",
            "src2/a.rs",
            "x/src/a.rs",
            "docs/a.md",
            "ab",
            "a/b",
            "x/ab",
            "x/a/y/b",
            "srcx",
        ];
        let cases = [
            ("src/", None),
            ("/src", Some("src")),
            ("src/api/**/*.rs", Some("src/api/")),
            ("src*/a.rs", Some("src")),
            ("x/a**/b", Some("x/a")),
            ("/*.rs", Some("")),
            ("*.md", None),
            ("Cargo.lock", None),
            ("!/src/", Some("src")),
        ];
        for (text, prefix) in cases {
            let pattern = Pattern::new(text, false).unwrap();
            assert_eq!(pattern.anchored_prefix(), prefix, "{text}");
            for path in paths.iter().filter(|p| pattern.matches(p)) {
                assert!(path.starts_with(prefix.unwrap_or("")), "{text} {path}");
            }
        }
        assert_eq!(Pattern::new("src/", true).unwrap().anchored_prefix(), None);
    }
}
