//! Field rules that several features share (the `validator` custom functions call these).

use validator::ValidationError;

/// 1 to `max` characters once trimmed: not empty, not only spaces.
pub fn required_text(text: &str, max: usize) -> Result<(), ValidationError> {
    let count = text.trim().chars().count();
    if count == 0 || count > max {
        return Err(ValidationError::new("length")
            .with_message(format!("must be 1 to {max} characters, not only spaces").into()));
    }
    Ok(())
}
