//! Hot columns read without detours: timestamps ([`Stamp`]) and enums stored as their names
//! ([`Named`]).
//!
//! SQLite keeps timestamps as text (`2026-12-06 03:09:36.051368`, as diesel writes them), and
//! diesel reads one by trying chrono format strings in turn: parsing the format string itself
//! was about 6 % of an uncached feed page's time on the server's side (docs/benchmarks.md).
//! [`Stamp`] reads that one shape by hand and hands anything else to diesel. On PostgreSQL a
//! timestamp arrives as a binary integer and diesel's own decoding is used.
//!
//! Use it on hot rows: `#[diesel(deserialize_as = Stamp)] created_at: NaiveDateTime`.
//!
//! An enum stored as its name (a discussion's kind, a comment's status) read through `String`
//! costs an allocation a row; [`Named`] reads the name where it lies:
//! `#[diesel(deserialize_as = Named<Kind>)] kind: Kind`, with [`FromName`] implemented.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::{Text, Timestamp};
use diesel::sqlite::{Sqlite, SqliteType};

use super::DbConn;

/// A stored timestamp, decoded without format strings on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

impl From<Stamp> for NaiveDateTime {
    fn from(stamp: Stamp) -> NaiveDateTime {
        stamp.0
    }
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Text)
            && let Some(at) = parse(value.read_text())
        {
            return Ok(Stamp(at));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, <DbConn as diesel::Connection>::Backend> for Stamp {
    fn from_sql(
        value: <<DbConn as diesel::Connection>::Backend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// An enum stored as its name.
pub trait FromName: Sized {
    fn from_name(name: &str) -> Option<Self>;
}

/// A `T` read from its stored name without allocating (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Named<T>(pub T);

impl<T: FromName> Named<T> {
    fn read(name: &str) -> deserialize::Result<Self> {
        T::from_name(name)
            .map(Named)
            .ok_or_else(|| format!("`{name}` is not a name this column holds").into())
    }
}

impl<T: FromName> FromSql<Text, Sqlite> for Named<T> {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Self::read(value.read_text())
    }
}

impl<T: FromName> FromSql<Text, Pg> for Named<T> {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        Self::read(std::str::from_utf8(value.as_bytes())?)
    }
}

impl<T: FromName> FromSql<Text, <DbConn as diesel::Connection>::Backend> for Named<T> {
    fn from_sql(
        value: <<DbConn as diesel::Connection>::Backend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits; `None` for any other
/// text (which diesel's formats then try).
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if b.len() < 19 || separators.iter().any(|&(at, c)| b[at] != c) {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(20, b.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(5, 7)?, number(8, 10)?)?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What diesel reads from the same text, through chrono's formats.
    fn chrono(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").ok()
    }

    #[test]
    fn reads_what_diesel_writes_as_chrono_does() {
        for text in [
            "2026-12-06 03:09:36.051368",
            "2026-12-06 03:09:36",
            "2026-12-06 03:09:36.1",
            "2026-12-06 03:09:36.123456789",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999",
            "2024-02-29 12:00:00.5",
        ] {
            assert_eq!(parse(text), chrono(text), "{text}");
            assert!(parse(text).is_some(), "{text}");
        }
    }

    #[test]
    fn leaves_other_shapes_to_diesel() {
        for text in [
            "2026-12-06T03:09:36",
            "2026-12-06 03:09:36.",
            "2026-12-06 03:09:36.1234567890",
            "2026-12-06 03:09",
            "2026-12-06 03:09:36Z",
            "2025-02-29 12:00:00",
            "2026-13-01 00:00:00",
            "2026-12-06 24:00:00",
            "2026-1a-06 03:09:36",
            "2459000.5",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn a_name_reads_as_its_value_and_an_unknown_one_is_an_error() {
        use crate::comments::CommentStatus;
        assert_eq!(
            Named::<CommentStatus>::read("pending").unwrap().0,
            CommentStatus::Pending
        );
        let error = Named::<CommentStatus>::read("gone").unwrap_err();
        assert!(error.to_string().contains("`gone`"), "{error}");
    }
}
