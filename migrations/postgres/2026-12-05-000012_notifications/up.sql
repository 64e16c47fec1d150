-- A reader's notifications (see `notifications`). Every kind is about one comment: a reply to
-- the reader's comment, a comment in the reader's topic, a mention, a moderator hiding or
-- deleting the reader's comment, or the reader's report of a comment resolved (`detail`: the
-- resolution). `actor_id`: who did it (none for moderators' acts). `mail`: waiting to be
-- mailed, `soon` (the 15-minute batches) or `daily`; NULL once mailed or when not mailed.
--
-- Every index here costs each comment that notifies (about a tenth of a comment's cost each on
-- SQLite, measured), so there are three: the table, the inbox, the mail queue. `comment_id`
-- has no foreign key: a comment is deleted only with its discussion, and its notifications
-- then stay invisible (the inbox joins the comment) until retention removes them; with a
-- cascade, every deleted comment would need an index here. `actor_id` has no index: accounts
-- are not deleted (an erasure that deletes them must add one). Unread notifications are found
-- through the inbox index (a reader's own rows, newest first).
CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('reply', 'topic_comment', 'mention', 'comment_hidden', 'comment_deleted', 'report_resolved')),
    actor_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    comment_id  BIGINT NOT NULL,
    detail      TEXT,
    created_at  TIMESTAMP NOT NULL,
    read_at     TIMESTAMP,
    mail        TEXT CHECK (mail IN ('soon', 'daily'))
);
-- The inbox (and the unread), newest first; the mail worker's scan; the purge of read ones
-- (entries made when read, not when written).
CREATE INDEX notifications_inbox ON notifications (user_id, id);
CREATE INDEX notifications_to_mail ON notifications (mail, created_at) WHERE mail IS NOT NULL;
CREATE INDEX notifications_read ON notifications (read_at) WHERE read_at IS NOT NULL;

-- A reader's mail choices, one row once they chose or got a first notification mail:
-- `replies` (replies and comments in their topics) and `mentions`, each `immediately`, `daily`
-- or `off`; the token of the one-click unsubscribe links in those mails; when the last one went.
CREATE TABLE notification_settings (
    user_id           BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    replies           TEXT NOT NULL CHECK (replies IN ('immediately', 'daily', 'off')),
    mentions          TEXT NOT NULL CHECK (mentions IN ('immediately', 'daily', 'off')),
    unsubscribe_token TEXT NOT NULL UNIQUE,
    last_mailed_at    TIMESTAMP
);

-- Who a reader muted: their comments notify that reader of nothing and are marked in thread
-- pages that reader reads.
CREATE TABLE mutes (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    muted_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, muted_id)
);
CREATE INDEX mutes_by_muted ON mutes (muted_id);

-- Single-use tickets that open a reader's own live stream (browsers' EventSource cannot send an
-- Authorization header): the SHA-256 of the ticket, whose it is, until when.
CREATE TABLE stream_tickets (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX stream_tickets_by_user ON stream_tickets (user_id);
CREATE INDEX stream_tickets_by_expiry ON stream_tickets (expires_at);
