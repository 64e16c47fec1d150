//! Whose thread a request is about, and who may see it: a discussion is visible from its
//! `visible_from` on, and before that only to staff who may see unpublished discussions.

use diesel::OptionalExtension;

use crate::articles;
use crate::db::DbConn;
use crate::discussions;
use crate::error::ApiError;

/// Whose comments a request is about: a discussion's, or an article's (its discussion's).
#[derive(Debug, Clone)]
pub(crate) enum Thread {
    Discussion(i64),
    Article(String),
}

pub(crate) fn no_discussion() -> ApiError {
    ApiError::NotFound("no such discussion".into())
}

pub(crate) fn no_comment() -> ApiError {
    ApiError::NotFound("no such comment".into())
}

impl Thread {
    /// The discussion's id (an article's is looked up by its slug).
    pub(crate) fn id(&self, conn: &mut DbConn) -> Result<i64, ApiError> {
        match self {
            Thread::Discussion(id) => Ok(*id),
            Thread::Article(slug) => {
                articles::discussion_of(conn, slug)?.ok_or_else(|| self.missing())
            }
        }
    }

    /// The discussion's id, if it exists and the caller may see it now.
    pub(crate) fn open(&self, conn: &mut DbConn, editor: bool) -> Result<i64, ApiError> {
        let id = self.id(conn)?;
        discussions::by_id(conn, id)
            .optional()?
            .filter(|(d, _)| visible(d, editor))
            .ok_or_else(|| self.missing())?;
        Ok(id)
    }

    /// The discussion's id, its thread's version and how many of its comments are held, if it
    /// exists and the caller may see it now (`staff`: may see unpublished discussions): the one
    /// read a page of threads makes before it is served from memory.
    pub(crate) fn version(
        &self,
        conn: &mut DbConn,
        staff: bool,
    ) -> Result<discussions::ThreadState, ApiError> {
        let state = match self {
            Thread::Discussion(id) => discussions::thread_state(conn, *id)?,
            Thread::Article(slug) => articles::thread_state_of(conn, slug)?,
        };
        state
            .filter(|state| state.visible(staff))
            .ok_or_else(|| self.missing())
    }

    /// The 404 for a thread that does not exist, or not yet for this caller: the same either
    /// way, so that unpublished articles do not show.
    pub(crate) fn missing(&self) -> ApiError {
        match self {
            Thread::Discussion(_) => no_discussion(),
            Thread::Article(_) => ApiError::NotFound("no such article".into()),
        }
    }
}

/// Readers see a discussion from its `visible_from` on (an article's publication); editors
/// see articles before.
pub(crate) fn visible(discussion: &discussions::Discussion, staff: bool) -> bool {
    discussions::visible(discussion, staff)
}
