//! Accounts for the authors of imported comments (see `import`).

use super::domain::{key, validate_display_name};
use super::repo::{self, NewUser};
use crate::auth::Role;
use crate::db::DbConn;
use crate::error::ApiError;

/// The author of an imported comment, as the export names them.
pub struct ImportedAuthor<'a> {
    /// The name shown with their comments.
    pub name: &'a str,
    /// A login name in the old system, if it had one (a base for the username).
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// The account for an imported author, in the caller's transaction: the site's account with
/// that email if there is one; else a new account with no password, which its owner claims by
/// a password reset to that address (when the export holds one). Usernames are made from the
/// old login or name, made unique with a number.
pub fn import_author(conn: &mut DbConn, author: &ImportedAuthor) -> Result<i64, ApiError> {
    let email = author
        .email
        .map(str::trim)
        .filter(|e| e.len() <= 254 && e.contains('@') && !e.contains(char::is_whitespace));
    if let Some(email) = email
        && let Some(user) = repo::user_by_email_key(conn, &key(email))?
    {
        return Ok(user.id);
    }
    let base = username_base(author.username.unwrap_or(author.name));
    let mut username = base.clone();
    for n in 2.. {
        if !repo::username_taken(conn, &key(&username))? {
            break;
        }
        username = format!("{base}-{n}");
    }
    let username_key = key(&username);
    let name = author.name.trim();
    let display_name = if validate_display_name(name).is_ok() {
        name
    } else {
        &username
    };
    let email_key = match email {
        Some(email) => key(email),
        // Unique, and never an address: no one can reset or sign in with it.
        None => format!("imported:{username_key}"),
    };
    let user = repo::insert_user(
        conn,
        &NewUser {
            username: &username,
            username_key: &username_key,
            email: email.unwrap_or(""),
            email_key: &email_key,
            display_name,
            password_hash: "",
            role: Role::User.as_str(),
            created_at: crate::db::now(),
        },
    )?;
    Ok(user.id)
}

/// A valid username near `name`: letters, digits, `_` and `-` kept, spaces as `_`, 3 to 28
/// characters (room for a number).
fn username_base(name: &str) -> String {
    let mut base: String = name
        .trim()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c),
            c if c.is_whitespace() || c == '.' => Some('_'),
            _ => None,
        })
        .take(28)
        .collect();
    while base.chars().count() < 3 {
        base.push_str(if base.is_empty() { "reader" } else { "_" });
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_made_valid() {
        assert_eq!(username_base("Анна Петрова"), "Анна_Петрова");
        assert_eq!(username_base("j.doe@x"), "j_doex");
        assert_eq!(username_base("!!"), "reader");
        assert_eq!(username_base("Al"), "Al_");
        let long = username_base(&"x".repeat(100));
        assert_eq!(long.len(), 28);
        for name in ["Анна Петрова", "!!", "Al", "a b c"] {
            assert!(super::super::domain::validate_username(&username_base(name)).is_ok());
        }
    }
}
