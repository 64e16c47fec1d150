//! What a batch's records became (`import_keys`), read in a few statements at the batch's start
//! and written in a few at its end, so that placing a post costs no round trip of its own.

use std::collections::{BTreeSet, HashMap};

use super::domain::{Post, Record};
use super::repo::{self, Kind};
use crate::db::DbConn;

/// What a record became.
#[derive(Debug, Clone)]
pub enum Key {
    /// A discussion, comment or account here.
    Made(i64),
    /// Skipped (spam, unapproved, ...): never imported.
    Skipped,
    /// A thread not yet needed, or a post waiting for its parent or thread: the record.
    Data(String),
    /// A post placed in this batch, at this index of its comments.
    Pending(usize),
}

pub struct Keys<'s> {
    source: &'s str,
    known: HashMap<(Kind, String), Key>,
    /// Changed by this batch.
    changed: BTreeSet<(Kind, String)>,
}

impl<'s> Keys<'s> {
    /// What every record that the batch's records name became (threads, posts and their
    /// parents, authors).
    pub fn read<'r>(
        conn: &mut DbConn,
        source: &'s str,
        records: impl Iterator<Item = &'r Record>,
    ) -> diesel::QueryResult<Self> {
        let mut wanted: HashMap<Kind, Vec<String>> = HashMap::new();
        for record in records {
            match record {
                Record::Thread(thread) => wanted
                    .entry(Kind::Thread)
                    .or_default()
                    .push(thread.id.clone()),
                Record::Post(post) => Self::named_by(post, &mut wanted),
            }
        }
        Self::fetch(conn, source, wanted)
    }

    /// The same for posts read back from `import_keys` (those that waited).
    pub fn read_posts(
        conn: &mut DbConn,
        source: &'s str,
        posts: &[Post],
    ) -> diesel::QueryResult<Self> {
        let mut wanted = HashMap::new();
        for post in posts {
            Self::named_by(post, &mut wanted);
        }
        Self::fetch(conn, source, wanted)
    }

    fn named_by(post: &Post, wanted: &mut HashMap<Kind, Vec<String>>) {
        let posts = wanted.entry(Kind::Post).or_default();
        posts.push(post.id.clone());
        posts.extend(post.parent_id.clone());
        wanted
            .entry(Kind::Thread)
            .or_default()
            .push(post.thread_id.clone());
        wanted
            .entry(Kind::Author)
            .or_default()
            .push(post.author.key());
    }

    fn fetch(
        conn: &mut DbConn,
        source: &'s str,
        mut wanted: HashMap<Kind, Vec<String>>,
    ) -> diesel::QueryResult<Self> {
        let mut known = HashMap::new();
        for (kind, ids) in &mut wanted {
            ids.sort_unstable();
            ids.dedup();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            for (id, local_id, data) in repo::get_many(conn, source, *kind, &ids)? {
                let key = match (local_id, data) {
                    (Some(local), _) => Key::Made(local),
                    (None, None) => Key::Skipped,
                    (None, Some(data)) => Key::Data(data),
                };
                known.insert((*kind, id), key);
            }
        }
        Ok(Keys {
            source,
            known,
            changed: BTreeSet::new(),
        })
    }

    pub fn get(&self, kind: Kind, id: &str) -> Option<&Key> {
        self.known.get(&(kind, id.to_owned()))
    }

    pub fn set(&mut self, kind: Kind, id: &str, key: Key) {
        self.known.insert((kind, id.to_owned()), key);
        self.changed.insert((kind, id.to_owned()));
    }

    /// Writes what changed, the posts placed in this batch as the comments `ids` (in the
    /// batch's order).
    pub fn write(&self, conn: &mut DbConn, ids: &[i64]) -> diesel::QueryResult<()> {
        let rows: Vec<(Kind, &str, Option<i64>, Option<&str>)> = self
            .changed
            .iter()
            .map(|(kind, id)| {
                let (local_id, data) = match &self.known[&(*kind, id.clone())] {
                    Key::Made(local) => (Some(*local), None),
                    Key::Pending(index) => (Some(ids[*index]), None),
                    Key::Skipped => (None, None),
                    Key::Data(data) => (None, Some(data.as_str())),
                };
                (*kind, id.as_str(), local_id, data)
            })
            .collect();
        repo::put_many(conn, self.source, &rows)
    }
}
