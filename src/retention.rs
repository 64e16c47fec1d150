//! What Tribune keeps, and for how long: the retention task (in `serve`, hourly) and
//! `tribune purge`. Each feature removes its own expired rows through its public interface;
//! this module only says when.
//!
//! - ended or expired sessions, with their refresh tokens, and used or expired refresh and
//!   reset tokens: `TRIBUNE_SESSION_RETENTION_DAYS` after they ended (a day at least: the reset
//!   mail pace counts a day of requests);
//! - sent and failed mail: `TRIBUNE_MAIL_RETENTION_DAYS` after it was sent or given up;
//! - expired confirmation tokens of the newsletter: at once;
//! - rate counters: once their windows are over;
//! - view marks (who viewed what today): once the day is over;
//! - read notifications: `TRIBUNE_NOTIFICATION_RETENTION_DAYS` after they were read; unread
//!   ones after a year; unused stream tickets: once expired;
//! - an erased account's username: taken for `TRIBUNE_ERASED_USERNAME_DAYS`, then free.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::config::Settings;
use crate::db::{Db, DbConn};
use crate::error::ApiError;

/// How often `serve` purges.
const EVERY: Duration = Duration::from_secs(3600);

/// What one purge removed.
#[derive(Debug, Default, Serialize)]
pub struct Purged {
    pub sessions: usize,
    pub tokens: usize,
    pub mails: usize,
    pub confirmations: usize,
    pub rate_counters: usize,
    pub view_marks: usize,
    pub notifications: usize,
    pub stream_tickets: usize,
    pub usernames_released: usize,
}

/// Removes everything past its retention, in one transaction.
pub fn purge(conn: &mut DbConn, settings: &Settings) -> Result<Purged, ApiError> {
    crate::db::transaction(conn, |conn| {
        let (sessions, tokens) =
            crate::accounts::purge_expired(conn, settings.session_retention_days.max(1))?;
        let (notifications, stream_tickets) =
            crate::notifications::purge(conn, settings.notification_retention_days)?;
        Ok(Purged {
            sessions,
            tokens,
            mails: crate::mail::purge(conn, settings.mail_retention_days)?,
            confirmations: crate::newsletter::purge_expired(conn)?,
            rate_counters: crate::ratelimit::purge(conn)?,
            view_marks: crate::discussions::views::purge_marks(conn)?,
            notifications,
            stream_tickets,
            usernames_released: crate::accounts::release_usernames(
                conn,
                settings.erased_username_days,
            )?,
        })
    })
}

/// The retention task of `serve`: a purge now, then every hour, until `shutdown`.
pub async fn run(db: Db, settings: Settings, mut shutdown: watch::Receiver<bool>) {
    loop {
        let settings_now = settings.clone();
        match db.run(move |conn| purge(conn, &settings_now)).await {
            Ok(purged) => tracing::info!(?purged, "retention: purged"),
            Err(error) => tracing::warn!(%error, "retention: purge failed; trying again later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}
