//! Notification mail, batched: a reader who chose `immediately` gets one mail once their
//! oldest waiting notification is `TRIBUNE_NOTIFICATION_MAIL_DELAY_SECONDS` old, bundling
//! everything that came meanwhile, and no more than one every
//! `TRIBUNE_NOTIFICATION_MAIL_INTERVAL_SECONDS`; `daily` ones go in one mail at the
//! newsletter digest's hour (`TRIBUNE_DIGEST_HOUR`), with what came since the last one.
//!
//! Each mail is made in one transaction with taking its notifications out of the queue: it
//! is in the outbox exactly once (whatever crashes; the outbox key is a second guard when
//! several processes run this), and the outbox delivers it. Every process runs [`run`]; on
//! PostgreSQL the reader's settings row is locked while their mail is made.

use std::time::Duration;

use chrono::{NaiveDateTime, Timelike};
use minijinja::context;
use tokio::sync::watch;

use super::domain::{Kind, MailQueue, Topic};
use super::dto::NotificationRow;
use super::repo;
use crate::config::Settings;
use crate::db::{Db, DbConn, now};
use crate::error::ApiError;
use crate::i18n::{self, Arg, Lang};
use crate::mail::{NewMail, Outbox, enqueue};

/// Notifications one mail lists at most; the rest are counted ("and 12 more").
const LISTED: i64 = 20;
/// Readers mailed per round at most (the next round takes the rest).
const READERS_PER_ROUND: i64 = 200;

/// What making the mails needs to know.
#[derive(Debug, Clone)]
pub struct MailPlan {
    pub delay: chrono::Duration,
    pub interval: chrono::Duration,
    pub digest_hour: u8,
    pub site: crate::site::Site,
}

impl MailPlan {
    pub fn from_settings(settings: &Settings) -> Self {
        MailPlan {
            delay: chrono::Duration::from_std(settings.notification_mail_delay).unwrap_or_default(),
            interval: chrono::Duration::from_std(settings.notification_mail_interval)
                .unwrap_or_default(),
            digest_hour: settings.digest_hour,
            site: crate::site::Site::from_settings(settings),
        }
    }
}

/// Inside `serve`: makes the mails that are due, every few seconds, until `shutdown`.
pub async fn run(db: Db, settings: Settings, outbox: Outbox, mut shutdown: watch::Receiver<bool>) {
    let plan = MailPlan::from_settings(&settings);
    let every = settings
        .notification_mail_delay
        .clamp(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        let made = mail_round(&db, &plan).await;
        if made > 0 {
            tracing::debug!(made, "notification mails enqueued");
            outbox.wake();
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// One round: which readers are due, then each one's mail in its own transaction and its own
/// turn at the pool (a round never holds a connection that readers' requests wait for).
async fn mail_round(db: &Db, plan: &MailPlan) -> usize {
    let at = now();
    let round = plan.clone();
    let due = match db.run(move |conn| due(conn, &round, at)).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "notification mails: trying again later");
            return 0;
        }
    };
    let mut made = 0;
    for (user, queue, mailed_by) in due {
        let plan = plan.clone();
        let mailed = db
            .run(move |conn| {
                crate::db::transaction(conn, |conn| {
                    mail_reader(conn, &plan, user, queue, mailed_by, at)
                })
            })
            .await;
        match mailed {
            Ok(mailed) => made += usize::from(mailed),
            Err(error) => tracing::warn!(%error, user, "notification mail: trying again later"),
        }
    }
    made
}

/// The latest digest hour at or before `at`: daily mails carry what came before it.
fn last_digest_time(at: NaiveDateTime, hour: u8) -> NaiveDateTime {
    let today = at.date().and_hms_opt(u32::from(hour), 0, 0).unwrap_or(at);
    if at.hour() >= u32::from(hour) {
        today
    } else {
        today - chrono::Duration::days(1)
    }
}

/// The readers whose mail is due at `at`, with the queue and the time their last mail must
/// be older than.
pub fn due(
    conn: &mut DbConn,
    plan: &MailPlan,
    at: NaiveDateTime,
) -> Result<Vec<(i64, MailQueue, NaiveDateTime)>, ApiError> {
    let queues = [
        (MailQueue::Soon, at - plan.delay, at - plan.interval),
        (MailQueue::Daily, last_digest_time(at, plan.digest_hour), at),
    ];
    let mut due = Vec::new();
    for (queue, made_by, mailed_by) in queues {
        let readers = repo::due_readers(conn, queue, made_by, mailed_by, READERS_PER_ROUND)?;
        due.extend(readers.into_iter().map(|user| (user, queue, mailed_by)));
    }
    Ok(due)
}

/// Makes one reader's mail from `queue`, in the caller's transaction. Returns whether a mail
/// was made (none when another process just made it, or nothing left to tell).
fn mail_reader(
    conn: &mut DbConn,
    plan: &MailPlan,
    user: i64,
    queue: MailQueue,
    mailed_by: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<bool, ApiError> {
    let settings = repo::settings_for_update(conn, user, &crate::auth::tokens::random_token())?;
    if settings.last_mailed_at.is_some_and(|last| last > mailed_by) {
        return Ok(false);
    }
    // Sort what waits by the reader's choices now: new notifications all wait in `soon`, and
    // a choice may have changed since others came.
    let choices = settings.choices();
    for (topic, choice) in [
        (Topic::Replies, choices.replies),
        (Topic::Mentions, choices.mentions),
    ] {
        repo::requeue(conn, user, &super::kinds_of(topic), choice.queue())?;
    }
    let (rows, shown, newest) = repo::queued(conn, user, queue, LISTED, at)?;
    let Some(newest) = newest else {
        return Ok(false);
    };
    repo::unqueue_up_to(conn, user, queue, newest)?;
    let Some((address, language)) = repo::mail_address(conn, user, at)? else {
        return Ok(false);
    };
    let lang = language
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(plan.site.default_language);
    if rows.is_empty() {
        return Ok(false);
    }
    let topics: Vec<Topic> = [Topic::Replies, Topic::Mentions]
        .into_iter()
        .filter(|t| rows.iter().any(|r| r.kind.topic() == Some(*t)))
        .collect();
    let more = (shown - rows.len() as i64).max(0);
    let unsubscribe = unsubscribe_url(&plan.site.public_url, &settings.unsubscribe_token, &topics);
    let (body_text, body_html) = compose(&rows, more, queue, (&plan.site, lang), &unsubscribe)?;
    enqueue(
        conn,
        &NewMail {
            dedup_key: format!("notifications:{user}:{newest}"),
            recipient: address,
            subject: subject(&rows, more, lang),
            body_text,
            body_html: Some(body_html),
            next_attempt_at: at,
            created_at: at,
            list_unsubscribe: Some(unsubscribe),
            subscriber_id: None,
            digest_day: None,
            secret: None,
        },
    )?;
    repo::set_last_mailed(conn, user, at)?;
    Ok(true)
}

/// The one-click link that stops these topics' mails (RFC 8058; opened in a browser, a page
/// with a button).
pub fn unsubscribe_url(public_url: &str, token: &str, topics: &[Topic]) -> String {
    let topics: Vec<&str> = topics.iter().map(|t| t.as_str()).collect();
    format!(
        "{public_url}/api/v1/notifications/unsubscribe?token={}&topics={}",
        crate::pages::url_encode(token),
        topics.join(",")
    )
}

/// What one notification says, in a sentence (before its excerpt), in `lang`.
fn sentence(row: &NotificationRow, lang: Lang) -> String {
    let say = |id: &str, args: &[(&str, Arg)]| i18n::text(lang, id, args).unwrap_or_default();
    let who = row
        .actor
        .as_ref()
        .map_or_else(|| say("notify-someone", &[]), |a| a.display_name.clone());
    let id = match row.kind {
        Kind::Reply => "notify-reply",
        Kind::TopicComment => "notify-topic-comment",
        Kind::Mention => "notify-mention",
        Kind::CommentHidden => "notify-comment-hidden",
        Kind::CommentDeleted => "notify-comment-deleted",
        Kind::ReportResolved => "notify-report-resolved",
    };
    say(
        id,
        &[
            ("who", Arg::Text(who)),
            ("title", Arg::Text(row.title.clone())),
        ],
    )
}

fn subject(rows: &[NotificationRow], more: i64, lang: Lang) -> String {
    let total = rows.len() as i64 + more;
    let count = [("count", Arg::Number(total))];
    match (rows, total) {
        ([only], 1) => sentence(only, lang),
        _ if rows.iter().all(|r| r.kind == Kind::Mention) => {
            i18n::text(lang, "notify-subject-mentions", &count).unwrap_or_default()
        }
        _ => i18n::text(lang, "notify-subject-many", &count).unwrap_or_default(),
    }
}

/// The comment's address on the site (its link templates).
fn link(site: &crate::site::Site, row: &NotificationRow) -> String {
    let place = crate::site::Place {
        discussion_id: row.discussion_id,
        article_slug: row.article_slug.as_deref(),
    };
    site.comment_url(place, row.comment_id)
}

/// The plain-text and HTML bodies, through the `notifications` templates.
fn compose(
    rows: &[NotificationRow],
    more: i64,
    queue: MailQueue,
    (site, lang): (&crate::site::Site, Lang),
    unsubscribe: &str,
) -> Result<(String, String), ApiError> {
    let items: Vec<_> = rows
        .iter()
        .map(|row| {
            let excerpt = row
                .comment_body
                .as_deref()
                .map(|body| super::domain::excerpt(body, 200))
                .unwrap_or_default();
            context! { sentence => sentence(row, lang), excerpt, link => link(site, row) }
        })
        .collect();
    let why = match queue {
        MailQueue::Soon => "notify-why-soon",
        MailQueue::Daily => "notify-why-daily",
    };
    let subject = subject(rows, more, lang);
    let parts = crate::templates::render(
        "notifications",
        &context! {
            lang => lang.as_str(), subject, preheader => subject, items, more, why, unsubscribe,
            site_name => site.name, site_url => site.public_url, logo_url => site.logo_url,
        },
    )?;
    Ok((parts.text, parts.html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_mails_carry_what_came_before_the_last_digest_hour() {
        let at = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            last_digest_time(at("2026-12-05 07:30:00"), 6),
            at("2026-12-05 06:00:00")
        );
        assert_eq!(
            last_digest_time(at("2026-12-05 05:59:59"), 6),
            at("2026-12-05 06:00:00") - chrono::Duration::days(1)
        );
    }

    #[test]
    fn mails_escape_what_readers_wrote() {
        let row = NotificationRow {
            id: 1,
            kind: Kind::Reply,
            actor: Some(crate::discussions::AuthorRow {
                id: 2,
                username: "eve".into(),
                display_name: "<b>Eve</b>".into(),
            }),
            discussion_id: 3,
            title: "A & B".into(),
            article_slug: None,
            comment_id: 4,
            comment_body: Some("<script>x</script>".into()),
            detail: None,
            created_at: now(),
            read_at: None,
        };
        let source = crate::config::Source::from_pairs([
            ("TRIBUNE_PUBLIC_URL", "https://n.example"),
            ("TRIBUNE_DISCUSSION_URL", "https://n.example/forum/{id}"),
        ]);
        let site = crate::site::Site::from_settings(
            &crate::config::Settings::from_source(&source).unwrap(),
        );
        let (text, html) = compose(
            &[row],
            2,
            MailQueue::Soon,
            (&site, Lang::En),
            "https://n.example/u",
        )
        .unwrap();
        assert!(
            !html.contains("<b>Eve") && !html.contains("<script>"),
            "{html}"
        );
        assert!(html.contains("A &amp; B"), "{html}");
        assert!(
            text.contains("https://n.example/forum/3#comment-4"),
            "{text}"
        );
        assert!(text.contains("2 more"), "{text}");
    }
}
