//! Icinga's wildcard matching (`match()`, include patterns): `*` matches any
//! run of characters, `?` exactly one, everything else itself.

/// Whether `text` matches `pattern` as a whole.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with backtracking to the last `*`: linear in practice
    // and never recursive, whatever the input.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// `match()`'s matching: case-insensitive, and a backslash makes the next
/// character (such as `*`) literal.
pub fn match_ignore_case(pattern: &str, text: &str) -> bool {
    // Tokens: Some(c) is a literal character, None a star, '?' handled below.
    #[derive(Clone, Copy, PartialEq)]
    enum T {
        Lit(char),
        Any,
        Star,
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '\\' => T::Lit(chars.next().unwrap_or('\\').to_ascii_lowercase()),
            '*' => T::Star,
            '?' => T::Any,
            c => T::Lit(c.to_ascii_lowercase()),
        });
    }
    let t: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match toks.get(pi) {
            Some(T::Lit(c)) if *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            Some(T::Any) => {
                pi += 1;
                ti += 1;
            }
            Some(T::Star) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while toks.get(pi) == Some(&T::Star) {
        pi += 1;
    }
    pi == toks.len()
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn stars_and_question_marks() {
        assert!(wildcard_match("*prod-sfo*", "db-prod-sfo-657"));
        assert!(!wildcard_match("*-dev-*", "db-prod-sfo-657"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(wildcard_match("*.conf", "hosts.conf"));
        assert!(!wildcard_match("*.conf", "hosts.conf.bak"));
        assert!(wildcard_match("", ""));
        assert!(wildcard_match("*", ""));
    }
}
