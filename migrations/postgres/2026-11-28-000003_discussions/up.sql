-- Every thread is a discussion: an article's, or a topic a reader started. The feed reads only
-- this table, in the order of discussions_feed; its counters are kept here, moved in the same
-- transaction as what moves them (views: by the buffered flusher, as deltas).
CREATE TABLE discussions (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('article', 'topic')),
    title            TEXT NOT NULL,
    body             TEXT,
    body_html        TEXT,
    author_id        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    article_slug     TEXT,
    views            BIGINT NOT NULL DEFAULT 0,
    replies          BIGINT NOT NULL DEFAULT 0,
    pinned           BOOLEAN NOT NULL DEFAULT FALSE,
    locked           BOOLEAN NOT NULL DEFAULT FALSE,
    -- Readers see a discussion from this instant on (an article's publication time).
    visible_from     TIMESTAMP NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    last_activity_at TIMESTAMP NOT NULL,
    edited_at        TIMESTAMP
);
CREATE INDEX discussions_feed ON discussions (pinned, last_activity_at, id);

CREATE TABLE articles (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    discussion_id BIGINT NOT NULL UNIQUE REFERENCES discussions (id),
    slug          TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    lead          TEXT NOT NULL,
    body          TEXT NOT NULL,
    dateline      TEXT,
    source        TEXT,
    image_url     TEXT,
    image_credit  TEXT,
    rights_notice TEXT,
    author_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    published_at  TIMESTAMP NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX articles_published ON articles (published_at, id);

-- The "mentions" of an article; tag_key is the lowercased tag that ?tag= matches.
CREATE TABLE article_tags (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    tag_key    TEXT NOT NULL,
    PRIMARY KEY (article_id, tag_key)
);
CREATE INDEX article_tags_by_tag ON article_tags (tag_key, article_id);
