//! Mail: the outbox and the worker that empties it.
//!
//! Features never send mail themselves: they write a row into the `outbox` table in the same
//! transaction as the change that causes it (`repo::enqueue`, with a unique `dedup_key`), then
//! call [`Outbox::wake`]. The worker (one per process) claims due rows, sends them through SMTP
//! (`TRIBUNE_SMTP_URL`) or writes `.eml` files under `TRIBUNE_MAIL_DIR`, at most
//! `TRIBUNE_MAIL_RATE` per second. A 4xx answer or a connection failure is retried with
//! exponential backoff (5 s doubling, at most 1 h apart, 8 attempts in all); a 5xx marks the
//! mail failed. A process killed while sending leaves the mail claimed until its lease
//! (5 minutes) runs out; then another worker sends it again: delivery is at least once.

mod dkim;
pub mod repo;

// What features use to send mail.
pub use repo::{Delivery, NewMail, digest_delivery, enqueue, enqueue_all};

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, SmtpTransport, Transport};
use tokio::sync::{Notify, watch};

use crate::config::Settings;
use crate::db::Db;
use repo::Mail;

const BATCH: i64 = 10;
const MAX_ATTEMPTS: i32 = 8;
/// How long a claim on a mail holds without renewal: a sender that dies leaves its mails to
/// others this long at most.
const LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// How often a live sender renews its claims.
const RENEW_EVERY: Duration = Duration::from_secs(10);
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Where mail goes.
enum Carrier {
    Smtp(SmtpTransport),
    Files(FileTransport),
}

/// Turns outbox rows into messages and hands them to the carrier.
pub struct Mailer {
    carrier: Carrier,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    /// Signs every message when set (`TRIBUNE_DKIM_KEY_FILE`, `TRIBUNE_DKIM_SELECTOR`).
    dkim: Option<lettre::message::dkim::DkimConfig>,
    recipients: Option<Arc<dyn Recipients>>,
}

/// The feature whose mails carry a recipient tag (`NewMail::subscriber_id`: the newsletter's
/// subscribers): asked before each of its mails goes, told how each ended. The mail layer
/// knows nothing of what the tag means.
pub trait Recipients: Send + Sync {
    /// Whether the tagged recipient still wants mail (a digest takes hours to send).
    fn still_wanted(
        &self,
        conn: &mut crate::db::DbConn,
        tag: i64,
    ) -> Result<bool, crate::error::ApiError>;
    /// A mail to the tagged recipient was delivered.
    fn delivered(
        &self,
        conn: &mut crate::db::DbConn,
        tag: i64,
    ) -> Result<(), crate::error::ApiError>;
    /// A mail to the tagged recipient was refused for good (a bounce).
    fn refused(&self, conn: &mut crate::db::DbConn, tag: i64)
    -> Result<(), crate::error::ApiError>;
}

/// Why a send failed.
#[derive(Debug)]
pub enum SendError {
    /// Worth another try later: SMTP 4xx, connection trouble, a full disk.
    Transient(String),
    /// Will never work: SMTP 5xx, an address that is not one.
    Permanent(String),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let mut from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("TRIBUNE_MAIL_FROM: {e}"))?;
        if from.name.is_none() {
            from.name = Some(settings.site_name.clone());
        }
        let reply_to = settings
            .mail_reply_to
            .as_deref()
            .map(str::parse::<Mailbox>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("TRIBUNE_MAIL_REPLY_TO: {e}"))?;
        let carrier = match &settings.smtp_url {
            Some(url) => Carrier::Smtp(
                SmtpTransport::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("TRIBUNE_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(30)))
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&settings.mail_dir).map_err(|e| {
                    anyhow::anyhow!("TRIBUNE_MAIL_DIR {}: {e}", settings.mail_dir.display())
                })?;
                Carrier::Files(FileTransport::new(&settings.mail_dir))
            }
        };
        let dkim = dkim::config(settings, &from)?;
        Ok(Mailer {
            carrier,
            from,
            reply_to,
            dkim,
            recipients: None,
        })
    }

    fn message(&self, mail: &Mail) -> Result<Message, SendError> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| SendError::Permanent(format!("bad recipient: {e}")))?;
        // A Message-ID of the sender's domain (spam filters look at it), unique to this send.
        let message_id = format!(
            "<{}.{}@{}>",
            mail.id,
            crate::auth::tokens::random_token(),
            self.from.email.domain()
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(message_id))
            .date_now();
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if let Some(url) = &mail.list_unsubscribe {
            // RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` to the URL.
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_string(),
                ));
        }
        let reveal = |body: &str| match &mail.secret {
            Some(secret) => body.replace(SECRET, secret),
            None => body.to_string(),
        };
        let message = match &mail.body_html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                reveal(&mail.body_text),
                reveal(html),
            )),
            None => builder.body(reveal(&mail.body_text)),
        };
        let mut message =
            message.map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        Ok(message)
    }

    /// Asks and tells `recipients` about the mails that carry a recipient tag.
    pub fn with_recipients(mut self, recipients: Arc<dyn Recipients>) -> Mailer {
        self.recipients = Some(recipients);
        self
    }

    /// Sends one mail (blocking: call it off the async threads).
    pub fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let message = self.message(mail)?;
        match &self.carrier {
            Carrier::Smtp(smtp) => smtp.send(&message).map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Transient(e.to_string())
                }
            }),
            Carrier::Files(files) => files
                .send(&message)
                .map(|_| ())
                .map_err(|e| SendError::Transient(e.to_string())),
        }
    }
}

/// What a mail body writes where its one-time secret goes (see `NewMail::secret`).
pub const SECRET: &str = "{{secret}}";

/// How often one address may get mails it did not ask for itself (password resets,
/// subscription confirmations: anyone can ask for them): after the first, the next may follow
/// `first_gap` later, each one after twice the gap before, and no more than `per_day` in a day.
#[derive(Debug, Clone, Copy)]
pub struct MailPace {
    pub first_gap: chrono::Duration,
    pub per_day: u32,
}

impl MailPace {
    /// Whether one more may go now, after `sent` in the last day, the last at `last`.
    pub fn allows(
        &self,
        sent: i64,
        last: Option<chrono::NaiveDateTime>,
        now: chrono::NaiveDateTime,
    ) -> bool {
        if sent >= i64::from(self.per_day) {
            return false;
        }
        match last {
            Some(last) if sent > 0 => {
                let doublings = (sent - 1).clamp(0, 20) as i32;
                now - last >= self.first_gap * 2i32.pow(doublings as u32)
            }
            _ => true,
        }
    }
}

/// Deletes every mail to `recipients`, or tagged (`subscriber_id`) with one of `tags`, sent or
/// not: an erased reader's. Returns how many.
pub fn forget(
    conn: &mut crate::db::DbConn,
    recipients: &[String],
    tags: &[i64],
) -> Result<usize, crate::error::ApiError> {
    Ok(repo::forget(conn, recipients, tags)?)
}

/// Deletes sent and failed mails older than `days` (the retention task).
pub fn purge(conn: &mut crate::db::DbConn, days: u32) -> Result<usize, crate::error::ApiError> {
    let before = crate::db::now() - chrono::Duration::days(days.into());
    Ok(repo::purge(conn, before)?)
}

/// The handle features use to tell the worker that mail is waiting.
#[derive(Clone, Default)]
pub struct Outbox {
    notify: Arc<Notify>,
}

impl Outbox {
    /// Call after the transaction that enqueued mail has committed.
    pub fn wake(&self) {
        self.notify.notify_one();
    }
}

/// The delay before attempt `attempts + 1`, or `None` when the mail has had enough attempts.
fn backoff(attempts: i32) -> Option<chrono::Duration> {
    (attempts < MAX_ATTEMPTS).then(|| {
        let seconds = 5i64.saturating_mul(1 << (attempts - 1).clamp(0, 20));
        chrono::Duration::seconds(seconds.min(3600))
    })
}

/// The sending loop; returns when `shutdown` turns true, after finishing the batch in hand.
pub async fn run_worker(
    db: Db,
    mailer: Arc<Mailer>,
    outbox: Outbox,
    rate: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    let gap = Duration::from_secs(1) / rate.max(1);
    let claim = new_claim();
    let renewer = actix_web::rt::spawn(renew_claims(db.clone(), claim.clone()));
    loop {
        if *shutdown.borrow() {
            break;
        }
        let batch = match claim_batch(&db, &claim).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim mail");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                _ = outbox.notify.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        for mail in batch {
            pace(&db, gap).await;
            deliver(&db, &mailer, &claim, mail).await;
        }
    }
    renewer.abort();
    tracing::info!("mail worker stopped");
}

/// Waits for a sending slot: `TRIBUNE_MAIL_RATE` (one per `gap`) for the whole site,
/// counted in the database, so that several sending processes together keep to the
/// provider's limit. Without the database, it keeps to the rate on its own.
async fn pace(db: &Db, gap: Duration) {
    let per_second = (Duration::from_secs(1).as_nanos() / gap.as_nanos().max(1)) as u32;
    loop {
        match db
            .run(move |conn| crate::ratelimit::take_slot(conn, "mail", per_second.max(1)))
            .await
        {
            Ok(true) => return,
            Ok(false) => {
                // The next second.
                let into = chrono::Utc::now().timestamp_subsec_millis();
                let wait = 1000u64.saturating_sub(u64::from(into)).max(1);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            Err(_) => {
                tokio::time::sleep(gap).await;
                return;
            }
        }
    }
}

/// A sender's claim id: random, so that a restarted process never mistakes a dead one's
/// claims for its own.
fn new_claim() -> Arc<str> {
    Arc::from(crate::auth::tokens::random_token())
}

async fn claim_batch(db: &Db, claim: &Arc<str>) -> Result<Vec<Mail>, crate::error::ApiError> {
    let claim = claim.clone();
    db.tx(move |conn| {
        Ok(repo::claim_due(
            conn,
            &claim,
            crate::db::now(),
            BATCH,
            LEASE,
        )?)
    })
    .await
}

/// Renews the sender's claims every [`RENEW_EVERY`] while it lives (the task is aborted when
/// the sender stops; a killed process renews nothing, and its mails are due again within
/// [`LEASE`]).
async fn renew_claims(db: Db, claim: Arc<str>) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let claim = claim.clone();
        let renewed = db
            .run(move |conn| Ok(repo::renew_claims(conn, &claim, crate::db::now() + LEASE)?))
            .await;
        if let Err(error) = renewed {
            tracing::warn!(%error, "cannot renew mail claims");
        }
    }
}

/// SQLite, as `serve` starts: the mails a stopped process left `sending` go out again without
/// waiting for their leases, as soon as it is clear that nobody renews them (a `send-digest`
/// still running does): their leases are read twice, a renewal apart, and those that did not
/// move are taken over.
pub async fn take_over_stale_claims(db: Db) {
    let claims = match db.run(|conn| Ok(repo::sending_claims(conn)?)).await {
        Ok(claims) if !claims.is_empty() => claims,
        _ => return,
    };
    tokio::time::sleep(RENEW_EVERY + Duration::from_secs(2)).await;
    match db
        .run(move |conn| Ok(repo::take_over_unchanged(conn, &claims)?))
        .await
    {
        Ok(0) => {}
        Ok(taken) => tracing::info!(
            mails = taken,
            "mail: took over what a stopped process was sending"
        ),
        Err(error) => tracing::warn!(%error, "mail: cannot take over stale claims"),
    }
}

/// Sends every mail that is due now, `rate` a second at most, and returns how many it tried:
/// for the command line, which may run with no server (and no worker) around.
pub async fn drain(
    db: &Db,
    mailer: Arc<Mailer>,
    rate: u32,
) -> Result<usize, crate::error::ApiError> {
    let gap = Duration::from_secs(1) / rate.max(1);
    let claim = new_claim();
    let renewer = actix_web::rt::spawn(renew_claims(db.clone(), claim.clone()));
    let mut tried = 0;
    let result = loop {
        let batch = match claim_batch(db, &claim).await {
            Ok(batch) => batch,
            Err(e) => break Err(e),
        };
        if batch.is_empty() {
            break Ok(tried);
        }
        for mail in batch {
            pace(db, gap).await;
            deliver(db, &mailer, &claim, mail).await;
            tried += 1;
        }
    };
    renewer.abort();
    result
}

async fn deliver(db: &Db, mailer: &Arc<Mailer>, claim: &Arc<str>, mail: Mail) {
    let (id, key, attempts) = (mail.id, mail.dedup_key.clone(), mail.attempts);
    let claim = claim.clone();
    let tagged = mail.subscriber_id.zip(mailer.recipients.clone());
    if let Some((tag, recipients)) = tagged.clone() {
        // Sending a digest takes hours at the rate limit: whoever unsubscribed (or started
        // bouncing) meanwhile gets nothing more.
        let still = db.run(move |conn| recipients.still_wanted(conn, tag)).await;
        if let Ok(false) = still {
            tracing::info!(mail = %key, "not sent: the subscriber has left");
            let recorded = db
                .run(move |conn| {
                    let left = "not sent: the subscriber has left";
                    Ok(repo::mark_attempt_failed(conn, id, &claim, left, None)?)
                })
                .await;
            if let Err(e) = recorded {
                tracing::error!(mail = %key, error = %e, "cannot record a mail's outcome");
            }
            return;
        }
    }
    let sender = mailer.clone();
    let result = actix_web::rt::task::spawn_blocking(move || sender.send(&mail))
        .await
        .unwrap_or_else(|e| Err(SendError::Transient(format!("send task failed: {e}"))));
    let now = crate::db::now();
    let recorded = match result {
        Ok(()) => {
            tracing::info!(mail = %key, attempts, "mail sent");
            db.run(move |conn| {
                let held = repo::mark_sent(conn, id, &claim, now)?;
                if held && let Some((tag, recipients)) = tagged {
                    recipients.delivered(conn, tag)?;
                }
                Ok(held)
            })
            .await
        }
        Err(SendError::Transient(error)) => {
            let retry_at = backoff(attempts).map(|delay| now + delay);
            tracing::warn!(mail = %key, attempts, %error, gave_up = retry_at.is_none(), "mail not sent");
            db.run(move |conn| {
                Ok(repo::mark_attempt_failed(
                    conn, id, &claim, &error, retry_at,
                )?)
            })
            .await
        }
        Err(SendError::Permanent(error)) => {
            tracing::warn!(mail = %key, attempts, %error, "mail refused for good");
            db.run(move |conn| {
                let held = repo::mark_attempt_failed(conn, id, &claim, &error, None)?;
                if held && let Some((tag, recipients)) = tagged {
                    recipients.refused(conn, tag)?;
                }
                Ok(held)
            })
            .await
        }
    };
    match recorded {
        Ok(true) => {}
        // Another sender took the mail over (this one's lease ran out, e.g. while the database
        // was away): it may go twice, never not at all.
        Ok(false) => {
            tracing::warn!(mail = %key, "the claim on this mail was lost before its outcome was recorded")
        }
        // The lease runs out and the mail is tried again: at least once, never lost.
        Err(e) => tracing::error!(mail = %key, error = %e, "cannot record a mail's outcome"),
    }
}

/// Escapes text for HTML mail bodies.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{MailPace, backoff};

    #[test]
    fn mail_pace_backs_off_and_caps_the_day() {
        let pace = MailPace {
            first_gap: chrono::Duration::minutes(1),
            per_day: 3,
        };
        let now = crate::db::now();
        let ago = |m: i64| Some(now - chrono::Duration::minutes(m));
        assert!(pace.allows(0, None, now));
        assert!(!pace.allows(1, ago(0), now));
        assert!(pace.allows(1, ago(1), now));
        assert!(!pace.allows(2, ago(1), now));
        assert!(pace.allows(2, ago(2), now));
        assert!(!pace.allows(3, ago(600), now));
    }

    #[test]
    fn backoff_doubles_then_gives_up() {
        assert_eq!(backoff(1), Some(chrono::Duration::seconds(5)));
        assert_eq!(backoff(2), Some(chrono::Duration::seconds(10)));
        assert_eq!(backoff(7), Some(chrono::Duration::seconds(320)));
        assert_eq!(backoff(8), None);
    }
}
