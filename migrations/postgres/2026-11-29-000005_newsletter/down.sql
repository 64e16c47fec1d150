DROP TABLE newsletter_digests;
ALTER TABLE outbox DROP COLUMN subscriber_id;
ALTER TABLE outbox DROP COLUMN list_unsubscribe;
DROP TABLE newsletter_subscribers;
