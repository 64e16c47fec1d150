//! Field rules that several features share (the `validator` custom functions call these).

use validator::ValidationError;

/// Whether `c` counts as a space in the rule below: exactly what `\s` matches in the
/// ECMAScript regular expressions of JSON Schema, so that the rule and its documented form
/// (`minLength: 1`, `maxLength`, `pattern: \S`) agree. The API fuzzing in CI checks that what
/// the document allows the API accepts, and that what it forbids the API refuses.
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `text` without the spaces [`required_text`] ignores at its ends: what is stored. (Rust's
/// `trim` also removes U+0085, which the rule counts as text: a body of one would be stored
/// empty.)
pub fn trimmed(text: &str) -> &str {
    text.trim_matches(is_space)
}

/// 1 to `max` characters, not only spaces.
pub fn required_text(text: &str, max: usize) -> Result<(), ValidationError> {
    let count = text.chars().count();
    if text.chars().all(is_space) || count > max {
        return Err(ValidationError::new("length")
            .with_message(format!("must be 1 to {max} characters, not only spaces").into()));
    }
    Ok(())
}

/// Years both backends store (PostgreSQL's `timestamp` ends at 294276, and begins in 4713 BC;
/// what is outside this is a typing error, not a date a news site means).
pub const STORABLE_YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// An instant both backends can store. (Documented as RFC 3339 with a pattern on each field:
/// OpenAPI 3.1 formats are annotations, the pattern is what a validator checks.)
pub fn storable_time(at: &chrono::DateTime<chrono::Utc>) -> Result<(), ValidationError> {
    use chrono::Datelike;
    if STORABLE_YEARS.contains(&at.year()) {
        Ok(())
    } else {
        Err(ValidationError::new("range")
            .with_message("must be a date between the years 1 and 9999".into()))
    }
}

/// [`storable_time`] for a field checked by hand: a `422` naming it.
pub fn check_time(
    field: &str,
    at: Option<&chrono::DateTime<chrono::Utc>>,
) -> Result<(), crate::error::ApiError> {
    match at.map(storable_time) {
        Some(Err(e)) => Err(crate::error::ApiError::invalid(
            field,
            e.message.unwrap_or_default().to_string(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_what_json_schema_patterns_call_space() {
        assert!(required_text("\u{1c}", 10).is_ok(), "not \\s in ECMAScript");
        assert!(required_text("\u{85}", 10).is_ok(), "not \\s in ECMAScript");
        assert!(required_text(" \u{feff}\u{3000}\t", 10).is_err());
        assert!(required_text("0123456789", 10).is_ok());
        assert!(required_text("0123456789a", 10).is_err());
    }
}
