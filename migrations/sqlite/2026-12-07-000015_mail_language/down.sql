ALTER TABLE users DROP COLUMN language;
ALTER TABLE newsletter_subscribers DROP COLUMN language;
