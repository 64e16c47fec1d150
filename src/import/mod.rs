//! `tribune import disqus|wordpress FILE [--map FILE.csv]`: an existing site's comments,
//! brought in from its vendor's export.
//!
//! The file is read as a stream, one record at a time ([`xml`]); records are loaded in
//! batches of [`BATCH`], each in one transaction with what it made remembered in
//! `import_keys` (thread → discussion, post → comment, author → account). So importing the
//! same file again adds nothing, and an import killed half-way, started again, finishes the job
//! without duplicates. A reply that comes before its parent (or a post before its thread)
//! waits in `import_keys` and is placed once its parent is in, at the end at the latest; one
//! whose parent never comes (not in the export, or spam) becomes a root. Counters are
//! moved by what each batch added, in its transaction.
//!
//! Threads are matched to the site's articles by slug: the `--map` file first (`thread,slug`
//! rows: a thread's address, old identifier or export id, and an article's slug), then the
//! old system's own slug, then the last segment of the page's address; a thread that matches
//! none gets an article of its own, dated when the thread began.

mod disqus;
mod domain;
mod keys;
mod repo;
mod wordpress;
mod xml;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDateTime;

use crate::comments::{CommentStatus, ImportedParent};
use crate::db::DbConn;
use crate::error::ApiError;
use domain::{MAX_BODY, Post, PostState, Record, Thread};
pub use domain::{Summary, Vendor};
use keys::{Key, Keys};
use repo::Kind;

/// Records per transaction.
pub const BATCH: usize = 1000;

/// Imports `file` into the database: the summary, or why it stopped (with the summary of what
/// the complete batches before it hold).
pub fn run(
    conn: &mut DbConn,
    vendor: Vendor,
    file: &Path,
    map: Option<&Path>,
) -> Result<Summary, (anyhow::Error, Summary)> {
    let mut summary = Summary::default();
    match load_file(conn, vendor, file, map, &mut summary) {
        Ok(()) => Ok(summary),
        Err(e) => Err((e, summary)),
    }
}

fn load_file(
    conn: &mut DbConn,
    vendor: Vendor,
    path: &Path,
    map: Option<&Path>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let loader = Loader {
        source: vendor.as_str(),
        map: match map {
            Some(map) => read_map(map).with_context(|| format!("the map {}", map.display()))?,
            None => HashMap::new(),
        },
    };
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let mut file =
        xml::XmlFile::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .expect("a valid template"),
    );
    let names: &[&str] = match vendor {
        Vendor::Disqus => &disqus::RECORDS,
        Vendor::Wordpress => &wordpress::RECORDS,
    };
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let stop = |at: u64, reason: String| {
            let line = xml::line_at(path, at).unwrap_or(0);
            anyhow::anyhow!(
                "{}: line {line}: {reason}. Nothing after the last complete batch was imported \
                 ({} batches of {BATCH} records are); import the file again once it is fixed \
                 to finish, without duplicates",
                path.display(),
                summary.batches,
            )
        };
        let node = match file.next_record(names) {
            Ok(Some(node)) => node,
            Ok(None) => break,
            Err(e) => return Err(stop(e.at, e.reason)),
        };
        let records = match vendor {
            Vendor::Disqus => disqus::record(&node),
            Vendor::Wordpress => wordpress::record(&node),
        }
        .map_err(|reason| stop(file.position(), reason))?;
        batch.extend(records);
        if batch.len() >= BATCH {
            loader.load(conn, &batch, summary)?;
            batch.clear();
            bar.set_position(file.position());
            bar.set_message(format!("{} comments", summary.comments));
        }
    }
    loader.load(conn, &batch, summary)?;
    loader.place_waiting(conn, summary)?;
    bar.finish_and_clear();
    Ok(())
}

/// The `--map` file: `thread,slug` rows (a header row `thread,slug` may come first).
fn read_map(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_path(path)?;
    let mut map = HashMap::new();
    for (i, row) in reader.records().enumerate() {
        let row = row?;
        let (Some(thread), Some(slug), None) = (row.get(0), row.get(1), row.get(2)) else {
            anyhow::bail!("row {}: want two columns, thread and slug", i + 1);
        };
        if i == 0 && thread == "thread" && slug == "slug" {
            continue;
        }
        map.insert(thread.trim_end_matches('/').to_owned(), slug.to_owned());
    }
    Ok(map)
}

struct Loader {
    source: &'static str,
    map: HashMap<String, String>,
}

/// Where a post goes, or why not yet.
enum Placed {
    Done,
    /// Its thread or parent is not in yet.
    Waits,
}

/// What a post whose thread or parent is not in yet does.
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    /// Reading the file: it waits.
    Stream,
    /// Over the waiting ones: it waits again.
    Retry,
    /// When retrying places nothing more: a post whose parent never comes (not in the export)
    /// becomes a root, and one whose thread never comes is skipped; one whose parent waits too
    /// waits for it (its parent may become a root, then it is its reply).
    Final,
    /// When that places nothing either (parents waiting on each other): roots, whatever waits.
    Force,
}

impl Loader {
    /// One batch, in one transaction, with the counters it moves.
    fn load(
        &self,
        conn: &mut DbConn,
        batch: &[Record],
        summary: &mut Summary,
    ) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut counts = Summary::default();
        crate::db::transaction(conn, |conn| {
            let mut keys = Keys::read(conn, self.source, batch.iter())?;
            let mut placing = Placing::default();
            for record in batch {
                match record {
                    Record::Thread(thread) => self.remember_thread(&mut keys, thread)?,
                    Record::Post(post) => {
                        let placed = self.place(
                            conn,
                            &mut keys,
                            post,
                            Pass::Stream,
                            &mut placing,
                            &mut counts,
                        )?;
                        if let Placed::Waits = placed {
                            let data = serde_json::to_string(post).map_err(ApiError::internal)?;
                            keys.set(Kind::Post, &post.id, Key::Data(data));
                        }
                    }
                }
            }
            counts.orphans += placing.finish(conn, &keys)?;
            Ok::<_, ApiError>(())
        })
        .map_err(explain)?;
        add(summary, counts);
        summary.batches += 1;
        // After batches 1, 2, 4, 8, ...: the table's statistics keep up with its size.
        if summary.batches.is_power_of_two() {
            repo::analyze(conn).map_err(|e| explain(e.into()))?;
        }
        Ok(())
    }

    /// Places the posts that waited: again while that places some; then those whose parent or
    /// thread never comes; then, if only posts waiting on each other are left, those as roots.
    fn place_waiting(&self, conn: &mut DbConn, summary: &mut Summary) -> anyhow::Result<()> {
        loop {
            let mut placed = 0;
            for pass in [Pass::Retry, Pass::Final, Pass::Force] {
                placed = self.sweep(conn, pass, summary)?;
                if placed > 0 {
                    break;
                }
            }
            if placed == 0 {
                return Ok(());
            }
        }
    }

    /// One pass over every waiting post, a batch a transaction: how many it placed or skipped.
    fn sweep(&self, conn: &mut DbConn, pass: Pass, summary: &mut Summary) -> anyhow::Result<u64> {
        let done = |s: &Summary| s.comments + s.skipped.values().sum::<u64>();
        let before = done(summary);
        let mut after = String::new();
        loop {
            let waiting = repo::waiting(conn, self.source, &after, BATCH as i64)
                .map_err(|e| explain(e.into()))?;
            let Some((last, _)) = waiting.last() else {
                break;
            };
            after = last.clone();
            let posts = waiting
                .iter()
                .map(|(_, data)| serde_json::from_str(data))
                .collect::<Result<Vec<Post>, _>>()?;
            let mut counts = Summary::default();
            crate::db::transaction(conn, |conn| {
                let mut keys = Keys::read_posts(conn, self.source, &posts)?;
                let mut placing = Placing::default();
                for post in &posts {
                    self.place(conn, &mut keys, post, pass, &mut placing, &mut counts)?;
                }
                counts.orphans += placing.finish(conn, &keys)?;
                Ok::<_, ApiError>(())
            })
            .map_err(explain)?;
            add(summary, counts);
        }
        Ok(done(summary) - before)
    }

    fn remember_thread(&self, keys: &mut Keys, thread: &Thread) -> Result<(), ApiError> {
        if keys.get(Kind::Thread, &thread.id).is_none() {
            let data = serde_json::to_string(thread).map_err(ApiError::internal)?;
            keys.set(Kind::Thread, &thread.id, Key::Data(data));
        }
        Ok(())
    }

    /// Decides where one post goes (unless it was imported already, or must wait), making its
    /// thread's discussion and its author's account when they are new.
    fn place<'p>(
        &self,
        conn: &mut DbConn,
        keys: &mut Keys,
        post: &'p Post,
        pass: Pass,
        placing: &mut Placing<'p>,
        summary: &mut Summary,
    ) -> Result<Placed, ApiError> {
        match keys.get(Kind::Post, &post.id) {
            // Imported or skipped by an earlier run, or earlier in this batch.
            Some(Key::Made(_) | Key::Skipped | Key::Pending(_)) => {
                summary.already += 1;
                return Ok(Placed::Done);
            }
            // Waiting: only a pass over the waiting ones takes it on.
            Some(Key::Data(_)) if pass == Pass::Stream => {
                summary.already += 1;
                return Ok(Placed::Done);
            }
            _ => {}
        }
        let skip = |keys: &mut Keys, summary: &mut Summary, reason| {
            summary.skip(reason);
            keys.set(Kind::Post, &post.id, Key::Skipped);
            Ok(Placed::Done)
        };
        let status = match post.state {
            PostState::Approved => CommentStatus::Visible,
            PostState::Deleted => CommentStatus::Deleted,
            PostState::Spam => return skip(keys, summary, "spam"),
            PostState::Unapproved => return skip(keys, summary, "never approved"),
            PostState::Pingback => return skip(keys, summary, "pingbacks or trackbacks"),
        };
        if post.body.len() > MAX_BODY {
            return skip(keys, summary, "longer than 100 KB");
        }
        let Some(discussion_id) = self.home(conn, keys, &post.thread_id, summary)? else {
            return if matches!(pass, Pass::Final | Pass::Force) {
                skip(keys, summary, "of threads not in the export")
            } else {
                Ok(Placed::Waits)
            };
        };
        let parent = match &post.parent_id {
            None => ImportedParent::Root,
            Some(parent) => match keys.get(Kind::Post, parent) {
                Some(Key::Made(id)) => ImportedParent::Comment(*id),
                Some(Key::Pending(index)) => ImportedParent::Earlier(*index),
                // Skipped (spam), or never coming.
                Some(Key::Skipped) => {
                    summary.orphans += 1;
                    ImportedParent::Root
                }
                None if pass == Pass::Final => {
                    summary.orphans += 1;
                    ImportedParent::Root
                }
                _ if pass == Pass::Force => {
                    summary.orphans += 1;
                    ImportedParent::Root
                }
                _ => return Ok(Placed::Waits),
            },
        };
        placing.lock(conn, discussion_id)?;
        let author_id = match status {
            CommentStatus::Visible => Some(self.author(conn, keys, post, summary)?),
            _ => None,
        };
        keys.set(Kind::Post, &post.id, Key::Pending(placing.comments.len()));
        placing.comments.push(crate::comments::ImportedComment {
            discussion_id,
            parent,
            author_id,
            body: (status == CommentStatus::Visible).then_some(post.body.as_str()),
            status,
            created_at: post.created_at,
        });
        summary.comments += 1;
        summary.deleted += u64::from(status == CommentStatus::Deleted);
        if let Some(author) = author_id {
            placing.added(discussion_id, author, post.created_at);
        }
        Ok(Placed::Done)
    }

    /// The discussion a thread's posts go to: matched or made on its first post.
    fn home(
        &self,
        conn: &mut DbConn,
        keys: &mut Keys,
        thread_id: &str,
        summary: &mut Summary,
    ) -> Result<Option<i64>, ApiError> {
        let thread: Thread = match keys.get(Kind::Thread, thread_id) {
            Some(Key::Made(id)) => return Ok(Some(*id)),
            Some(Key::Data(data)) => serde_json::from_str(data).map_err(ApiError::internal)?,
            _ => return Ok(None),
        };
        let mapped = [Some(&thread.id), thread.link.as_ref(), thread.slug.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|key| self.map.get(key.trim_end_matches('/')))
            .cloned();
        let candidates = mapped.into_iter().chain(domain::slug_candidates(&thread));
        let mut found = None;
        for slug in candidates {
            if let Some(id) = crate::articles::discussion_of(conn, &slug)? {
                found = Some(id);
                break;
            }
        }
        let id = match found {
            Some(id) => {
                summary.threads_matched += 1;
                id
            }
            None => {
                summary.threads_created += 1;
                let slug = domain::slug_candidates(&thread)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| thread.title.clone());
                let title: String = thread.title.chars().take(300).collect();
                crate::articles::create_imported(
                    conn,
                    &crate::articles::ImportedArticle {
                        slug: &slug,
                        title: &title,
                        at: thread.created_at,
                    },
                )?
            }
        };
        keys.set(Kind::Thread, thread_id, Key::Made(id));
        Ok(Some(id))
    }

    fn author(
        &self,
        conn: &mut DbConn,
        keys: &mut Keys,
        post: &Post,
        summary: &mut Summary,
    ) -> Result<i64, ApiError> {
        let key = post.author.key();
        if let Some(Key::Made(id)) = keys.get(Kind::Author, &key) {
            return Ok(*id);
        }
        let id = crate::accounts::import_author(
            conn,
            &crate::accounts::ImportedAuthor {
                name: &post.author.name,
                username: post.author.username.as_deref(),
                email: post.author.email.as_deref(),
            },
        )?;
        keys.set(Kind::Author, &key, Key::Made(id));
        summary.accounts += 1;
        Ok(id)
    }
}

/// What a transaction placed: the comments to insert, the discussions it locked (in the order
/// first met), and the visible comments it added to each discussion (with the latest's date)
/// and each author, for the counters at its end.
#[derive(Default)]
struct Placing<'p> {
    comments: Vec<crate::comments::ImportedComment<'p>>,
    discussions: BTreeMap<i64, Option<(i64, NaiveDateTime)>>,
    authors: BTreeMap<i64, i64>,
}

impl Placing<'_> {
    fn lock(&mut self, conn: &mut DbConn, discussion_id: i64) -> Result<(), ApiError> {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            self.discussions.entry(discussion_id)
        {
            crate::discussions::lock(conn, discussion_id)?;
            slot.insert(None);
        }
        Ok(())
    }

    fn added(&mut self, discussion_id: i64, author_id: i64, at: NaiveDateTime) {
        let entry = self.discussions.entry(discussion_id).or_default();
        *entry = Some(match *entry {
            Some((n, latest)) => (n + 1, latest.max(at)),
            None => (1, at),
        });
        *self.authors.entry(author_id).or_default() += 1;
    }

    /// Inserts the comments, records what every record became, moves the counters. Returns
    /// how many replies became roots because their parent was no longer here.
    fn finish(&self, conn: &mut DbConn, keys: &Keys) -> Result<u64, ApiError> {
        let imported = crate::comments::import(conn, &self.comments)?;
        keys.write(conn, &imported.ids)?;
        let discussions: Vec<(i64, i64, NaiveDateTime)> = self
            .discussions
            .iter()
            .filter_map(|(&id, added)| added.map(|(n, at)| (id, n, at)))
            .collect();
        let authors: Vec<(i64, i64)> = self.authors.iter().map(|(&id, &n)| (id, n)).collect();
        crate::comments::count_imported(conn, &discussions, &authors)?;
        Ok(imported.orphans)
    }
}

fn add(summary: &mut Summary, counts: Summary) {
    summary.threads_matched += counts.threads_matched;
    summary.threads_created += counts.threads_created;
    summary.comments += counts.comments;
    summary.deleted += counts.deleted;
    summary.accounts += counts.accounts;
    summary.already += counts.already;
    summary.orphans += counts.orphans;
    for (reason, n) in counts.skipped {
        *summary.skipped.entry(reason).or_default() += n;
    }
}

fn explain(error: ApiError) -> anyhow::Error {
    match error {
        ApiError::Internal(cause) | ApiError::Unavailable(cause) => cause,
        other => anyhow::anyhow!("{other}"),
    }
}

/// Parses an export's date: RFC 3339 (Disqus) or `YYYY-MM-DD HH:MM:SS` in UTC (WordPress'
/// `_gmt` dates).
fn date(text: Option<&str>, element: &str) -> Result<NaiveDateTime, String> {
    let text = text.ok_or_else(|| format!("a <{element}> without its date"))?;
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|d| d.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .map_err(|_| format!("a <{element}> dated `{text}`, which is not a date"))
}
