DROP TABLE newsletter_digests;
DROP INDEX outbox_by_digest;
ALTER TABLE outbox DROP COLUMN digest_day;
ALTER TABLE outbox DROP COLUMN subscriber_id;
ALTER TABLE outbox DROP COLUMN list_unsubscribe;
DROP TABLE newsletter_subscribers;
