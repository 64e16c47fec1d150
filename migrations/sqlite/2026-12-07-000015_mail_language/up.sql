-- The language a subscriber asked in (their subscription request's Accept-Language): their
-- digests are written in it. NULL: the site's default language.
ALTER TABLE newsletter_subscribers ADD COLUMN language TEXT;
