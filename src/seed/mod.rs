//! `tribune seed`: a living demo, and the data the benchmarks run on.
//!
//! Generated content, written for the project: readers with Latin and Cyrillic names, articles
//! with tags and readers' topics in both scripts, activity spread over the last 90 days, view
//! counts skewed like real ones. Counters stay consistent: no comments yet, so `replies` is 0.
//! Rows go in many to a statement and thousands to a transaction. The generator is seeded, so
//! the same arguments give the same data. Every seeded account's password is
//! `SEED_PASSWORD`.

pub mod comments;
pub mod repo;

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::accounts::domain::key;
use crate::db::{Db, DbConn, now, transaction};
use crate::error::ApiError;
use crate::markdown;
use repo::{ArticleRow, DiscussionRow};

/// The password of every seeded account.
pub const SEED_PASSWORD: &str = "tribune-demo-password";
const ROWS_PER_STATEMENT: usize = 500;
const STATEMENTS_PER_TRANSACTION: usize = 10;

pub(crate) const PEOPLE: &[&str] = &[
    "Anna",
    "Boris",
    "Clara",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Irina",
    "Jonas",
    "Анна",
    "Борис",
    "Вера",
    "Глеб",
    "Дарья",
    "Егор",
    "Жанна",
    "Илья",
    "Кира",
    "Лев",
];
pub(crate) const SUBJECTS: &[&str] = &[
    "NATO",
    "The European Commission",
    "Latvia",
    "Finland",
    "Armenia",
    "The Baltic states",
    "Kiev",
    "Israel",
    "The Pentagon",
    "Scandinavia",
    "НАТО",
    "Армения",
    "Финляндия",
    "Министерство обороны",
    "Еврокомиссия",
    "Прибалтика",
    "Израиль",
    "Скандинавия",
];
pub(crate) const VERBS: &[&str] = &[
    "calls for",
    "plans to buy",
    "warns about",
    "doubles",
    "prepares for",
    "discusses",
    "призывает к",
    "планирует закупку",
    "предупреждает о",
    "готовится к",
    "обсуждает",
];
pub(crate) const OBJECTS: &[&str] = &[
    "de-escalation near its borders",
    "new tanks",
    "air patrols over the Baltic",
    "a meeting in Ramstein",
    "naval defence",
    "output of armoured vehicles",
    "деэскалации у границ",
    "новых танков",
    "патрулированию неба",
    "встрече в Рамштайне",
    "защите от нападений с моря",
    "выпуску бронетехники",
];
const TAGS: &[&str] = &[
    "NATO",
    "Latvia",
    "Ukraine",
    "Russia",
    "European Union",
    "Jens Stoltenberg",
    "Baltic Sea",
    "Армения",
    "Финляндия",
    "ВМФ",
    "Калашников",
];

pub(crate) fn pick<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

fn headline(rng: &mut StdRng) -> String {
    format!(
        "{} {} {}",
        pick(rng, SUBJECTS),
        pick(rng, VERBS),
        pick(rng, OBJECTS)
    )
}

/// Views skewed like real ones: most discussions have few, some have thousands.
fn views(rng: &mut StdRng) -> i64 {
    let x: f64 = rng.random();
    (x.powi(4) * 6000.0) as i64
}

/// The mail domain of seeded accounts (reserved: RFC 2606), by which a seed tells its own
/// accounts from a site's.
pub const SEED_DOMAIN: &str = "seed.invalid";

/// How many accounts the database holds that a seed did not make: a real site's. Seeded
/// accounts share one published password, so `tribune seed` refuses such a database.
pub async fn own_accounts(db: &Db) -> Result<i64, ApiError> {
    db.run(|conn| Ok(repo::accounts_not_in(conn, SEED_DOMAIN)?))
        .await
}

/// What a seed run added.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    pub users: u64,
    pub discussions: u64,
    pub comments: u64,
    pub subscribers: u64,
    /// The discussion that got the most comments, and how many.
    pub largest_thread: Option<(i64, u64)>,
}

/// Fills the database: `users` accounts, `discussions` articles and topics, and `comments`
/// comments in them (in the existing discussions when `discussions` is 0).
pub async fn seed(
    db: &Db,
    hasher: &crate::auth::password::Hasher,
    users: u32,
    discussions: u32,
    comments: u64,
    subscribers: u64,
) -> Result<Seeded, ApiError> {
    let hash = hasher.hash(SEED_PASSWORD.to_string()).await?;
    let db = db.clone();
    actix_web::web::block(move || {
        let mut conn = db.get()?;
        let mut rng = StdRng::seed_from_u64(u64::from(users) << 32 | u64::from(discussions));
        let start = now();
        let run = Run {
            start,
            tag: format!("{:x}", start.and_utc().timestamp()),
        };
        let users = seed_users(&mut conn, &mut rng, &run, users, &hash)?;
        let user_ids = repo::user_ids(&mut conn)?;
        let before = if discussions == 0 {
            0
        } else {
            repo::max_discussion_id(&mut conn)?
        };
        let discussions = seed_discussions(&mut conn, &mut rng, &run, discussions, &user_ids)?;
        let (comments, largest_thread) =
            comments::seed(&mut conn, &mut rng, before, &user_ids, comments, start)?;
        let subscribers = seed_subscribers(&mut conn, &run, subscribers)?;
        repo::settle(&mut conn)?;
        Ok(Seeded {
            users,
            discussions,
            comments,
            subscribers,
            largest_thread,
        })
    })
    .await
    .map_err(ApiError::internal)?
}

/// One seeding run: when it started, and the tag that keeps its names apart from other runs'.
struct Run {
    start: NaiveDateTime,
    tag: String,
}

/// Rows in one transaction: a few statements of many rows each.
const PER_TRANSACTION: usize = ROWS_PER_STATEMENT * STATEMENTS_PER_TRANSACTION;

fn seed_users(
    conn: &mut DbConn,
    rng: &mut StdRng,
    run: &Run,
    users: u32,
    hash: &str,
) -> Result<u64, ApiError> {
    let Run { start, tag } = run;
    let user_rows: Vec<repo::UserRow> = (0..users)
        .map(|n| {
            let name = format!("{}_{tag}_{n}", pick(rng, PEOPLE).to_lowercase());
            let email = format!("{name}@{SEED_DOMAIN}");
            let display = pick(rng, PEOPLE).to_string();
            let joined = *start - Duration::days(rng.random_range(90..400));
            (
                name.clone(),
                key(&name),
                email.clone(),
                key(&email),
                display,
                hash.to_string(),
                joined,
            )
        })
        .collect();
    for chunk in user_rows.chunks(PER_TRANSACTION) {
        transaction(conn, |conn| {
            for rows in chunk.chunks(ROWS_PER_STATEMENT) {
                repo::insert_users(conn, rows)?;
            }
            Ok::<_, ApiError>(())
        })?;
    }
    Ok(user_rows.len() as u64)
}

fn seed_discussions(
    conn: &mut DbConn,
    rng: &mut StdRng,
    run: &Run,
    discussions: u32,
    user_ids: &[i64],
) -> Result<u64, ApiError> {
    let mut made = 0u64;
    while made < u64::from(discussions) {
        let batch = (u64::from(discussions) - made).min(PER_TRANSACTION as u64);
        transaction(conn, |conn| {
            let mut rows = Vec::with_capacity(batch as usize);
            let mut articles = Vec::new();
            for n in 0..batch {
                let (row, article) = discussion_row(rng, run, made + n, user_ids);
                rows.push(row);
                articles.extend(article);
            }
            let mut ids = HashMap::with_capacity(articles.len());
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                ids.extend(
                    repo::insert_discussions(conn, chunk)?
                        .into_iter()
                        .map(|(id, slug)| (slug, id)),
                );
            }
            insert_articles(conn, rng, &ids, &articles)?;
            Ok::<_, ApiError>(())
        })?;
        made += batch;
        if made.is_multiple_of(100_000) || made == u64::from(discussions) {
            tracing::info!(discussions = made, "seeding");
        }
    }
    Ok(made)
}

/// Discussion number `n` of the run: an article (three in ten, with the `(slug, title,
/// published)` of its article) or a reader's topic.
fn discussion_row(
    rng: &mut StdRng,
    run: &Run,
    n: u64,
    user_ids: &[i64],
) -> (DiscussionRow, Option<(String, String, NaiveDateTime)>) {
    let start = run.start;
    let created = start - Duration::seconds(rng.random_range(60..90 * 86_400));
    let active =
        created + Duration::seconds(rng.random_range(0..=(start - created).num_seconds().max(1)));
    let title = headline(rng);
    if rng.random_ratio(3, 10) {
        let slug = format!(
            "{}-{}-{n}",
            crate::articles::dto::slug_from_title(&title),
            run.tag
        );
        let article = (slug.clone(), title.clone(), created);
        let row = DiscussionRow {
            kind: crate::discussions::Kind::Article.as_str(),
            title,
            body: None,
            body_html: None,
            author_id: None,
            article_slug: Some(slug),
            views: views(rng),
            created_at: created,
            last_activity_at: created.max(active),
        };
        return (row, Some(article));
    }
    let body = format!(
        "{}?\n\n**{}** — {}.",
        title,
        pick(rng, SUBJECTS),
        pick(rng, OBJECTS)
    );
    let author = user_ids
        .get(rng.random_range(0..user_ids.len().max(1)))
        .copied();
    let row = DiscussionRow {
        kind: crate::discussions::Kind::Topic.as_str(),
        body_html: Some(markdown::to_html(&body)),
        body: Some(body),
        title,
        author_id: author,
        article_slug: None,
        views: views(rng),
        created_at: created,
        last_activity_at: active,
    };
    (row, None)
}

fn seed_subscribers(conn: &mut DbConn, run: &Run, subscribers: u64) -> Result<u64, ApiError> {
    let mut added = 0;
    while added < subscribers {
        let batch = (subscribers - added).min(PER_TRANSACTION as u64);
        transaction(conn, |conn| {
            let mut n = added;
            while n < added + batch {
                let end = (n + ROWS_PER_STATEMENT as u64).min(added + batch);
                repo::insert_subscribers(conn, &run.tag, n..end, run.start)?;
                n = end;
            }
            Ok::<_, ApiError>(())
        })?;
        added += batch;
    }
    Ok(added)
}

fn insert_articles(
    conn: &mut crate::db::DbConn,
    rng: &mut StdRng,
    ids: &HashMap<String, i64>,
    articles: &[(String, String, NaiveDateTime)],
) -> Result<(), ApiError> {
    for chunk in articles.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<ArticleRow> = chunk
            .iter()
            .filter_map(|(slug, title, at)| {
                Some(ArticleRow {
                    discussion_id: *ids.get(slug)?,
                    slug: slug.clone(),
                    lead: format!("{title}. Details in the article."),
                    body: format!("{title}.\n\nThe full story, as the agencies report it."),
                    title: title.clone(),
                    published_at: *at,
                })
            })
            .collect();
        let mut tags = Vec::new();
        for id in repo::insert_articles(conn, &rows)? {
            let first = rng.random_range(0..TAGS.len());
            tags.push((id, TAGS[first].to_string()));
            let second = (first + 1 + rng.random_range(0..TAGS.len() - 1)) % TAGS.len();
            tags.push((id, TAGS[second].to_string()));
        }
        for rows in tags.chunks(ROWS_PER_STATEMENT) {
            repo::insert_tags(conn, rows)?;
        }
    }
    Ok(())
}
