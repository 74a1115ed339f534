//! The rules every account follows, shared by users and sessions: name and password shapes,
//! and the instant from which sessions are cut off.

use super::AccountError;
use chrono::{DateTime, Utc};

pub(super) const MAX_USERNAME: usize = 64;
pub(super) const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted anywhere (argon2 time grows with it).
pub(super) const MAX_PASSWORD_CHARS: usize = 1024;

pub(super) fn check_username(name: &str) -> Result<String, AccountError> {
    let ok = (3..=MAX_USERNAME).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return Err(AccountError::invalid(
            "username",
            "must have 3 to 64 characters from a-z, A-Z, 0-9, `_`, `.` and `-`",
        ));
    }
    Ok(name.to_string())
}

pub(super) fn check_password(field: &'static str, password: &str) -> Result<(), AccountError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(AccountError::invalid(
            field,
            format!("must have {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The earliest `iat` accepted after sessions are cut off now: the next whole second, so every
/// token issued up to now (`iat` has one-second resolution) is refused and the next is not.
/// The instant sessions are cut off: tokens issued at or before it stop working.
pub(super) fn cutoff_now() -> DateTime<Utc> {
    Utc::now()
}
