-- Rate limits shared by every process: one row per limited key (an address, an account, an
-- account and an address, a mailbox), counted in fixed windows with the previous window kept
-- for a sliding estimate.
-- Rows whose windows are over are removed by the retention task (`tribune purge`).
CREATE TABLE rate_counters (
    key          TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    prev_hits    BIGINT NOT NULL,
    last_at      BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX rate_counters_expiry ON rate_counters (expires_at);

-- Failed logins are counted in rate_counters now (per address, and per account and address).
-- users.failed_logins and failed_logins_since are no longer read or written; they are dropped
-- in a later release, so that processes of the previous release keep working during a rolling
-- deploy.

-- A mail's one-time secret (a reset or confirmation token), kept apart from its body, which
-- holds a placeholder: the link is built at send time and the secret erased once it is sent.
ALTER TABLE outbox ADD COLUMN secret TEXT;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- The account that asked for the current confirmation token: it owns the subscription when
-- that token is used (not whoever asked last).
ALTER TABLE newsletter_subscribers ADD COLUMN confirm_user_id BIGINT;
-- Confirmation mails sent to the address since confirm_window_at (a day at most): they back
-- off and are capped per day.
ALTER TABLE newsletter_subscribers ADD COLUMN confirm_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE newsletter_subscribers ADD COLUMN confirm_window_at TIMESTAMP;

-- The text an edit or deletion replaced, for staff actions on others' content.
ALTER TABLE audit_log ADD COLUMN previous TEXT;

CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX password_resets_expiry ON password_resets (expires_at);
