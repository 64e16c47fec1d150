ALTER TABLE discussions DROP COLUMN pending;
ALTER TABLE discussions DROP COLUMN premoderated;
DROP TABLE comment_holds;
DROP TABLE word_rules;
DELETE FROM comments WHERE status IN ('pending', 'rejected');
ALTER TABLE comments DROP CONSTRAINT comments_status_check;
ALTER TABLE comments ADD CONSTRAINT comments_status_check
    CHECK (status IN ('visible', 'hidden', 'deleted'));
