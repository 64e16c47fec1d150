DROP INDEX password_resets_expiry;
DROP INDEX sessions_expiry;
ALTER TABLE audit_log DROP COLUMN previous;
ALTER TABLE newsletter_subscribers DROP COLUMN confirm_window_at;
ALTER TABLE newsletter_subscribers DROP COLUMN confirm_count;
ALTER TABLE newsletter_subscribers DROP COLUMN confirm_user_id;
DROP INDEX outbox_sent;
ALTER TABLE outbox DROP COLUMN secret;
DROP TABLE rate_counters;
