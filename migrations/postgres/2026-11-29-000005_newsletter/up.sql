-- Newsletter subscribers, one row per address (`email_key`: the address lowercased).
-- `status`: pending (waiting for the confirmation link), confirmed, unsubscribed, or bouncing
-- (the digest failed permanently again and again). A pending row holds its confirmation:
-- the SHA-256 of the token in the mail (single use, `confirm_expires_at`), and when the last
-- confirmation mail went (`confirm_sent_at`: one at most every 10 minutes).
-- `unsubscribe_token` goes into every mail's unsubscribe link, so it is kept as is: it can
-- only unsubscribe this address.
CREATE TABLE newsletter_subscribers (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email              TEXT NOT NULL,
    email_key          TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bouncing')),
    -- The account whose email this is, set when its owner confirms a request made through
    -- /me/newsletter (`pending_user_id`): an account's email is not verified at registration.
    user_id            BIGINT REFERENCES users (id) ON DELETE SET NULL,
    pending_user_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    confirm_token_hash TEXT UNIQUE,
    confirm_expires_at TIMESTAMP,
    confirm_sent_at    TIMESTAMP,
    unsubscribe_token  TEXT NOT NULL UNIQUE,
    bounces            INTEGER NOT NULL DEFAULT 0,
    created_at         TIMESTAMP NOT NULL,
    confirmed_at       TIMESTAMP,
    unsubscribed_at    TIMESTAMP
);
-- The digest reads confirmed subscribers in id order, in batches; the admin list by status.
CREATE INDEX newsletter_subscribers_by_status ON newsletter_subscribers (status, id);
CREATE INDEX newsletter_subscribers_by_user ON newsletter_subscribers (user_id);

-- Newsletter mails carry their one-click unsubscribe link (the `List-Unsubscribe` and
-- `List-Unsubscribe-Post` headers) and their subscriber (a permanent failure counts as a bounce).
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT;
ALTER TABLE outbox ADD COLUMN subscriber_id BIGINT;
ALTER TABLE outbox ADD COLUMN digest_day TEXT;
CREATE INDEX outbox_by_digest ON outbox (digest_day, status) WHERE digest_day IS NOT NULL;

-- One row per digest day: when its run started and finished (a run that did not finish is
-- resumed; the outbox keys `digest:<day>:<subscriber>` make every run idempotent).
CREATE TABLE newsletter_digests (
    day         TEXT PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    articles    INTEGER NOT NULL DEFAULT 0,
    enqueued    BIGINT NOT NULL DEFAULT 0
);
