ALTER TABLE newsletter_subscribers DROP COLUMN language;
