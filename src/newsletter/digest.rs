//! The daily digest: the articles published in the 24 hours before the digest time and the
//! day's most active discussions, one multipart mail per confirmed subscriber, written into the
//! outbox under the key `digest:<day>:<subscriber>`, so that it is enqueued once whatever
//! happens (two processes, a crash mid-run, the command run twice). Subscribers are read and
//! enqueued in batches, one transaction each.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use std::collections::HashMap;

use minijinja::context;

use super::repo::{self, ActiveDiscussion, DigestArticle, Recipient};
use crate::auth::tokens::random_token;
use crate::db::{DbConn, now, transaction};
use crate::error::ApiError;
use crate::i18n::{self, Arg, Lang};
use crate::mail::{NewMail, enqueue_all, html_escape};
use crate::site::{self, Site};
use crate::templates;

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

/// The digest of a day in one language, the same for every subscriber who reads it but for
/// their address and unsubscribe link, which replace its two marks.
pub struct Content {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Where a subscriber's address goes: random a rendering (no reader can write it into a
    /// title), of characters no escaping changes.
    address_mark: String,
    /// Where a subscriber's unsubscribe link goes (the same kind of mark).
    unsubscribe_mark: String,
}
/// The HTML part's largest size: Gmail clips a mail's HTML past about 102 KB.
const MAX_HTML: usize = 100 * 1024;

/// `[from, to)` of the digest of `day` sent at `hour` UTC: the 24 hours before it.
pub fn window(day: NaiveDate, hour: u8) -> (NaiveDateTime, NaiveDateTime) {
    let to = day
        .and_hms_opt(u32::from(hour.min(23)), 0, 0)
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN));
    (to - Duration::hours(24), to)
}

/// The digest of `day` in `lang`, through the `digest` templates; as many articles as keep its
/// HTML under [`MAX_HTML`].
pub fn compose(
    articles: &[DigestArticle],
    discussions: &[ActiveDiscussion],
    day: NaiveDate,
    site: &Site,
    lang: Lang,
) -> Result<Content, ApiError> {
    let date = i18n::date(lang, day);
    let text = |id: &str, args: &[(&str, Arg)]| i18n::text(lang, id, args).unwrap_or_default();
    let discussions: Vec<_> = discussions
        .iter()
        .map(|d| {
            let place = site::Place {
                discussion_id: d.id,
                article_slug: d.article_slug.as_deref(),
            };
            context! { title => d.title, comments => d.comments, link => site.page_url(place) }
        })
        .collect();
    let address_mark = format!("tribune-subscriber-{}", random_token());
    let unsubscribe_mark = format!("tribune-subscriber-{}", random_token());
    let mut shown = articles.len();
    loop {
        let items: Vec<_> = articles[..shown]
            .iter()
            .map(|a| {
                context! {
                    title => a.title, lead => a.lead, link => site.article_url(&a.slug),
                    image_url => a.image_url, image_credit => a.image_credit,
                    views => a.views, replies => a.replies,
                }
            })
            .collect();
        let subject = text("digest-subject", &[("date", Arg::Text(date.clone()))]);
        let preheader = text(
            "digest-preheader",
            &[
                ("count", Arg::Number(shown as i64)),
                ("site", Arg::Text(site.name.clone())),
                ("date", Arg::Text(date.clone())),
            ],
        );
        let parts = templates::render(
            "digest",
            &context! {
                lang => lang.as_str(), subject, preheader, date,
                site_name => site.name, site_url => site.public_url, logo_url => site.logo_url,
                articles => items, discussions, email => address_mark,
                unsubscribe => unsubscribe_mark,
            },
        )?;
        // A site's template must show the link as it is: a filter would lose it, and every
        // subscriber would get a digest they cannot leave.
        if !(parts.html.contains(&unsubscribe_mark) && parts.text.contains(&unsubscribe_mark)) {
            return Err(ApiError::internal(anyhow::anyhow!(
                "the digest templates must show `unsubscribe` unfiltered in both parts"
            )));
        }
        if parts.html.len() <= MAX_HTML || shown <= 1 {
            return Ok(Content {
                subject,
                text: parts.text,
                html: parts.html,
                address_mark,
                unsubscribe_mark,
            });
        }
        shown -= 1;
    }
}

impl Content {
    /// The digest as a sample subscriber gets it (`tribune newsletter preview`).
    pub fn for_preview(&self, site: &Site) -> Content {
        let unsubscribe = format!(
            "{}/api/v1/newsletter/unsubscribe?token=preview",
            site.public_url
        );
        Content {
            subject: self.subject.clone(),
            text: self.personal(&self.text, "subscriber@example.com", &unsubscribe),
            html: self.personal(
                &self.html,
                &html_escape("subscriber@example.com"),
                &html_escape(&unsubscribe),
            ),
            address_mark: self.address_mark.clone(),
            unsubscribe_mark: self.unsubscribe_mark.clone(),
        }
    }

    /// `part` with a subscriber's address and unsubscribe link in their places.
    fn personal(&self, part: &str, address: &str, unsubscribe: &str) -> String {
        part.replace(&self.address_mark, address)
            .replace(&self.unsubscribe_mark, unsubscribe)
    }
}

fn mail_for(
    content: &Content,
    recipient: &Recipient,
    day: NaiveDate,
    site: &Site,
    at: NaiveDateTime,
) -> NewMail {
    let unsubscribe = format!(
        "{}/api/v1/newsletter/unsubscribe?token={}",
        site.public_url, recipient.unsubscribe_token
    );
    NewMail {
        dedup_key: format!("digest:{day}:{}", recipient.id),
        recipient: recipient.email.clone(),
        subject: content.subject.clone(),
        body_text: content.personal(&content.text, &recipient.email, &unsubscribe),
        body_html: Some(content.personal(
            &content.html,
            &html_escape(&recipient.email),
            &html_escape(&unsubscribe),
        )),
        next_attempt_at: at,
        created_at: at,
        list_unsubscribe: Some(unsubscribe),
        subscriber_id: Some(recipient.id),
        digest_day: Some(day.to_string()),
        secret: None,
    }
}

/// What the digest of `day` holds: its articles (none: no digest) and most active discussions.
pub fn news_of(
    conn: &mut DbConn,
    day: NaiveDate,
    hour: u8,
) -> Result<(Vec<DigestArticle>, Vec<ActiveDiscussion>), ApiError> {
    let (from, to) = window(day, hour);
    let articles = repo::articles_between(conn, from, to, MAX_ARTICLES)?;
    let discussions = repo::most_active(conn, from, to, MAX_DISCUSSIONS)?;
    Ok((articles, discussions))
}

/// Writes the digest of `day` (sent at `hour` UTC) into the outbox for every confirmed
/// subscriber: nothing when no article was published in its window. Safe to run again, or in
/// several processes at once: each subscriber's mail has one key.
pub fn enqueue_digest(
    conn: &mut DbConn,
    day: NaiveDate,
    hour: u8,
    site: &Site,
) -> Result<DigestRun, ApiError> {
    let (_, to) = window(day, hour);
    if to > now() {
        // Its news is not all in yet; a run now would end the day early.
        return Err(ApiError::BadRequest(format!(
            "the digest of {day} is due at {to} UTC, not before"
        )));
    }
    let (articles, discussions) = news_of(conn, day, hour)?;
    let day_text = day.to_string();
    repo::start_digest(conn, &day_text, now())?;
    if articles.is_empty() {
        repo::finish_digest(conn, &day_text, 0, 0, now())?;
        return Ok(DigestRun {
            articles: 0,
            enqueued: 0,
        });
    }
    // One rendering a language, made when its first reader comes.
    let mut contents: HashMap<Lang, Content> = HashMap::new();
    let mut after = 0;
    let mut enqueued = 0u64;
    loop {
        let (last, added) = transaction(conn, |conn| {
            let recipients = repo::confirmed_after(conn, after, BATCH)?;
            let at = now();
            let mut mails = Vec::with_capacity(recipients.len());
            for r in &recipients {
                let lang = r
                    .language
                    .as_deref()
                    .and_then(Lang::parse)
                    .unwrap_or(site.default_language);
                let content = match contents.entry(lang) {
                    std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(compose(&articles, &discussions, day, site, lang)?)
                    }
                };
                mails.push(mail_for(content, r, day, site, at));
            }
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
    site: Site,
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
                let site = site.clone();
                match db
                    .run(move |conn| enqueue_digest(conn, day, hour, &site))
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
            image_url: None,
            image_credit: None,
            views: 1,
            replies: 2,
        }];
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let source = crate::config::Source::from_pairs([(
            "TRIBUNE_ARTICLE_URL",
            "https://news.example/news/{slug}",
        )]);
        let settings = crate::config::Settings::from_source(&source).unwrap();
        let site = Site::from_settings(&settings);
        let content = compose(&articles, &[], day, &site, Lang::Ru).unwrap();
        assert!(content.html.contains("&lt;script&gt;"), "{}", content.html);
        assert!(content.html.contains("x &amp; y"));
        assert!(
            content.text.contains("https://news.example/news/a"),
            "{}",
            content.text
        );
        assert!(content.text.contains("2 комментария"), "{}", content.text);
        assert_eq!(content.subject, "Новости за 28 ноября 2026");
    }
}
