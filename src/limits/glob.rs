//! Glob patterns for allowed models: `*` any run of characters, `?` one character.

/// Whether `text` matches `pattern` (case-sensitive).
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == t[ti] => {
                pi += 1;
                ti += 1;
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
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether any pattern allows the model.
pub fn allowed(patterns: &[String], model: &str) -> bool {
    patterns.iter().any(|p| matches(p, model))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shells() {
        assert!(matches("gpt-4o*", "gpt-4o-mini"));
        assert!(matches("gpt-4o*", "gpt-4o"));
        assert!(!matches("gpt-4o*", "gpt-4.1"));
        assert!(matches("claude-*-4-5", "claude-sonnet-4-5"));
        assert!(!matches("claude-*-4-5", "claude-sonnet-4-6"));
        assert!(matches("*", ""));
        assert!(matches("gemini-2.?-pro", "gemini-2.5-pro"));
        assert!(!matches("gemini-2.?-pro", "gemini-2.55-pro"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxbyy"));
        assert!(!matches("exact", "exactly"));
        assert!(allowed(&["gpt-*".into(), "o3".into()], "o3"));
        assert!(!allowed(&[], "o3"));
    }
}
