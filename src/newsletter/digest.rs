//! The daily digest: the articles published in the 24 hours before the digest time and the
//! day's most active discussions, one multipart mail per confirmed subscriber, written into the
//! outbox under the key `digest:<day>:<subscriber>`, so that it is enqueued once whatever
//! happens (two processes, a crash mid-run, the command run twice). Subscribers are read and
//! enqueued in batches, one transaction each.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::repo::{self, DigestArticle, Recipient};
use crate::db::{DbConn, now, transaction};
use crate::error::ApiError;
use crate::mail::{NewMail, enqueue_all, html_escape};

const BATCH: i64 = 1_000;
const MAX_ARTICLES: i64 = 50;
const MAX_DISCUSSIONS: i64 = 5;

/// What a digest run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestRun {
    /// Articles in the digest (0: no news, no mail).
    pub articles: usize,
    /// Mails newly written into the outbox by this run (a rerun adds none).
    pub enqueued: u64,
}

/// The digest's content, the same for every subscriber but for the unsubscribe link.
struct Content {
    subject: String,
    text: String,
    html: String,
}

/// `[from, to)` of the digest of `day` sent at `hour` UTC: the 24 hours before it.
pub fn window(day: NaiveDate, hour: u8) -> (NaiveDateTime, NaiveDateTime) {
    let to = day
        .and_hms_opt(u32::from(hour.min(23)), 0, 0)
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN));
    (to - Duration::hours(24), to)
}

fn compose(
    articles: &[DigestArticle],
    discussions: &[(i64, String, i64)],
    day: NaiveDate,
    public_url: &str,
) -> Content {
    let mut text = format!("The news of {day}\n\n");
    let mut html = format!(
        "<h1>The news of {day}</h1><ul>",
        day = html_escape(&day.to_string())
    );
    for DigestArticle {
        slug,
        title,
        lead,
        views,
        replies,
    } in articles
    {
        let link = format!("{public_url}/articles/{slug}");
        text.push_str(&format!(
            "* {title}\n  {lead}\n  {link}\n  {views} views, {replies} comments\n\n"
        ));
        html.push_str(&format!(
            "<li><p><a href=\"{link}\"><strong>{title}</strong></a><br>{lead}<br>\
             <small>{views} views, {replies} comments</small></p></li>",
            link = html_escape(&link),
            title = html_escape(title),
            lead = html_escape(lead),
        ));
    }
    html.push_str("</ul>");
    if !discussions.is_empty() {
        text.push_str("Most discussed today\n\n");
        html.push_str("<h2>Most discussed today</h2><ul>");
        for (id, title, comments) in discussions {
            let link = format!("{public_url}/discussions/{id}");
            text.push_str(&format!("* {title} ({comments} new comments)\n  {link}\n"));
            html.push_str(&format!(
                "<li><a href=\"{link}\">{title}</a> ({comments} new comments)</li>",
                link = html_escape(&link),
                title = html_escape(title),
            ));
        }
        html.push_str("</ul>");
    }
    Content {
        subject: format!("The news of {day}"),
        text,
        html,
    }
}

fn mail_for(
    content: &Content,
    recipient: &Recipient,
    day: NaiveDate,
    public_url: &str,
    at: NaiveDateTime,
) -> NewMail {
    let unsubscribe = format!(
        "{public_url}/api/v1/newsletter/unsubscribe?token={}",
        recipient.unsubscribe_token
    );
    NewMail {
        dedup_key: format!("digest:{day}:{}", recipient.id),
        recipient: recipient.email.clone(),
        subject: content.subject.clone(),
        body_text: format!(
            "{}\n--\nYou get this because you subscribed to the daily digest. To stop it: \
             {unsubscribe}\n",
            content.text
        ),
        body_html: Some(format!(
            "{}<hr><p><small>You get this because you subscribed to the daily digest. \
             <a href=\"{link}\">Unsubscribe</a></small></p>",
            content.html,
            link = html_escape(&unsubscribe),
        )),
        next_attempt_at: at,
        created_at: at,
        list_unsubscribe: Some(unsubscribe),
        subscriber_id: Some(recipient.id),
        digest_day: Some(day.to_string()),
        secret: None,
    }
}

/// Writes the digest of `day` (sent at `hour` UTC) into the outbox for every confirmed
/// subscriber: nothing when no article was published in its window. Safe to run again, or in
/// several processes at once: each subscriber's mail has one key.
pub fn enqueue_digest(
    conn: &mut DbConn,
    day: NaiveDate,
    hour: u8,
    public_url: &str,
) -> Result<DigestRun, ApiError> {
    let (from, to) = window(day, hour);
    if to > now() {
        // Its news is not all in yet; a run now would end the day early.
        return Err(ApiError::BadRequest(format!(
            "the digest of {day} is due at {to} UTC, not before"
        )));
    }
    let articles = repo::articles_between(conn, from, to, MAX_ARTICLES)?;
    let day_text = day.to_string();
    repo::start_digest(conn, &day_text, now())?;
    if articles.is_empty() {
        repo::finish_digest(conn, &day_text, 0, 0, now())?;
        return Ok(DigestRun {
            articles: 0,
            enqueued: 0,
        });
    }
    let discussions = repo::most_active(conn, from, to, MAX_DISCUSSIONS)?;
    let content = compose(&articles, &discussions, day, public_url);
    let mut after = 0;
    let mut enqueued = 0u64;
    loop {
        let (last, added) = transaction(conn, |conn| {
            let recipients = repo::confirmed_after(conn, after, BATCH)?;
            let at = now();
            let mails: Vec<NewMail> = recipients
                .iter()
                .map(|r| mail_for(&content, r, day, public_url, at))
                .collect();
            let added = enqueue_all(conn, &mails)?;
            Ok::<_, ApiError>((recipients.last().map(|r| r.id), added as u64))
        })?;
        enqueued += added;
        match last {
            Some(id) => after = id,
            None => break,
        }
    }
    repo::finish_digest(
        conn,
        &day_text,
        articles.len() as i32,
        enqueued as i64,
        now(),
    )?;
    Ok(DigestRun {
        articles: articles.len(),
        enqueued,
    })
}

/// Inside `serve`: the digest of each day at `hour` UTC, and, at start or later, yesterday's or
/// today's when due and not run to its end (after downtime or a crash mid-run). Checks every `check`
/// (`TRIBUNE_DIGEST_CHECK_MS`, a minute). Several processes may all run it: the outbox keys
/// keep each mail once.
pub async fn run_scheduler(
    db: crate::db::Db,
    hour: u8,
    check: std::time::Duration,
    public_url: String,
    outbox: crate::mail::Outbox,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Yesterday too: a run that died (or a process that was down) across midnight.
        let today = chrono::Utc::now().date_naive();
        for day in [today - Duration::days(1), today] {
            let (_, due) = window(day, hour);
            if now() < due {
                continue;
            }
            let day_text = day.to_string();
            let done = db
                .run(move |conn| Ok(repo::digest_finished(conn, &day_text)?))
                .await;
            if let Ok(false) = done {
                let url = public_url.clone();
                match db
                    .run(move |conn| enqueue_digest(conn, day, hour, &url))
                    .await
                {
                    Ok(run) => {
                        tracing::info!(%day, articles = run.articles, enqueued = run.enqueued, "digest enqueued");
                        outbox.wake();
                    }
                    Err(error) => {
                        tracing::warn!(%error, "digest not enqueued; trying again later")
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(check) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_the_day_before_the_digest_hour() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let (from, to) = window(day, 6);
        assert_eq!(to.to_string(), "2026-11-28 06:00:00");
        assert_eq!(from.to_string(), "2026-11-27 06:00:00");
    }

    #[test]
    fn the_digest_escapes_what_it_quotes() {
        let articles = vec![DigestArticle {
            slug: "a".to_string(),
            title: "<script>".to_string(),
            lead: "x & y".to_string(),
            views: 1,
            replies: 2,
        }];
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let content = compose(&articles, &[], day, "https://news.example");
        assert!(content.html.contains("&lt;script&gt;"), "{}", content.html);
        assert!(content.html.contains("x &amp; y"));
        assert!(content.text.contains("https://news.example/articles/a"));
    }
}
