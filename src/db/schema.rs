//! The tables, in types both backends share. Timestamps are `Timestamp` holding UTC
//! (`chrono::NaiveDateTime` in Rust): SQLite has no time zone type, so neither do we.
//! Only `repo.rs` files and `db` itself use this module.

diesel::table! {
    /// Key/value settings the program generates and keeps, e.g. the JWT signing key.
    settings (key) {
        key -> Text,
        value -> Text,
    }
}
