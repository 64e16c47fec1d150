DROP INDEX audit_log_by_time;
ALTER TABLE users DROP COLUMN language;
ALTER TABLE newsletter_subscribers DROP COLUMN language;
