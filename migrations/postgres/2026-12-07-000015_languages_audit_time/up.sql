-- The language a subscriber asked in (their subscription request's Accept-Language): their
-- digests are written in it. NULL: the site's default language.
ALTER TABLE newsletter_subscribers ADD COLUMN language TEXT;
-- The language an account chose for its mails (PATCH /api/v1/me); NULL: each request's, and
-- the site's for mails no request asked for (notifications).
ALTER TABLE users ADD COLUMN language TEXT;
-- The console's audit log by dates (since/until).
CREATE INDEX audit_log_by_time ON audit_log (created_at, id);
