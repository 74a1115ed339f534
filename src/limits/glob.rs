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

/// Longest pattern accepted.
pub const MAX_PATTERN_CHARS: usize = 200;
/// Most patterns one key may list.
pub const MAX_PATTERNS: usize = 100;

/// Why a pattern cannot be used: empty, too long, blanks or control characters, `**`, or
/// glob syntax Tollgate does not support (`[...]`, `{a,b}`, `\` escapes — they would only
/// ever match literally, which is never what was meant).
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let chars = pattern.chars().count();
    if chars == 0 || chars > MAX_PATTERN_CHARS {
        return Err(format!(
            "patterns must have 1 to {MAX_PATTERN_CHARS} characters"
        ));
    }
    if let Some(c) = pattern
        .chars()
        .find(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "pattern `{}` contains a blank or control character ({:?})",
            pattern.escape_debug(),
            c
        ));
    }
    if let Some(c) = pattern.chars().find(|c| "[]{}\\".contains(*c)) {
        return Err(format!(
            "pattern `{pattern}` uses `{c}`, which is not supported (only `*` and `?` are)"
        ));
    }
    if pattern.contains("**") {
        return Err(format!(
            "pattern `{pattern}` has `**`; one `*` already matches any run of characters"
        ));
    }
    Ok(())
}

/// Why a list of patterns cannot be used: 1 to [`MAX_PATTERNS`] valid patterns.
pub fn check_patterns(patterns: &[String]) -> Result<(), String> {
    if patterns.is_empty() || patterns.len() > MAX_PATTERNS {
        return Err(format!(
            "must list 1 to {MAX_PATTERNS} patterns (or be null for every model)"
        ));
    }
    patterns.iter().try_for_each(|p| check_pattern(p))
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

    #[test]
    fn malformed_patterns_are_named() {
        for good in [
            "gpt-4o*",
            "*",
            "claude-?-4",
            "models/gemini-2.5-pro",
            "a@b:c.d_e",
        ] {
            assert!(check_pattern(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "gpt 4o",
            "gpt-[45]o",
            "{a,b}",
            "a\\*",
            "gpt-**",
            "tab\tx",
            &"x".repeat(201),
        ] {
            assert!(check_pattern(bad).is_err(), "{bad:?}");
        }
        assert!(check_patterns(&[]).is_err());
        assert!(check_patterns(&vec!["m".to_string(); 101]).is_err());
        assert!(check_patterns(&vec!["m".to_string(); 100]).is_ok());
        assert!(check_patterns(&["ok".into(), "not ok".into()]).is_err());
    }
}
