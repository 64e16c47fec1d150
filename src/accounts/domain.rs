//! Rules of accounts that need no database.

use validator::ValidationError;

/// Usernames: 3 to 32 characters; letters of any script, digits, `_` and `-`.
pub fn validate_username(name: &str) -> Result<(), ValidationError> {
    let count = name.chars().count();
    if !(3..=32).contains(&count) {
        return Err(
            ValidationError::new("length").with_message("must be 3 to 32 characters".into())
        );
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ValidationError::new("characters")
            .with_message("may hold only letters, digits, `_` and `-`".into()));
    }
    Ok(())
}

/// Display names: 1 to 64 characters, not only spaces, no control characters.
pub fn validate_display_name(name: &str) -> Result<(), ValidationError> {
    let count = name.chars().count();
    if name.chars().all(crate::validation::is_space) || count > 64 {
        return Err(
            ValidationError::new("length").with_message("must be 1 to 64 characters".into())
        );
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new("characters")
            .with_message("may not hold control characters".into()));
    }
    Ok(())
}

/// The form of a username or email that uniqueness and look-ups use: case does not count.
pub fn key(text: &str) -> String {
    text.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_of_any_script() {
        for ok in ["bob", "Иван_Петров", "jean-luc", "李小龙", "a_1"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "has space",
            "semi;colon",
            "<script>",
            &"x".repeat(33),
            "tab\t",
        ] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_ignore_case_in_any_script() {
        assert_eq!(key("ИВАН"), key("иван"));
        assert_eq!(key(" Bob@Example.COM "), "bob@example.com");
    }
}
