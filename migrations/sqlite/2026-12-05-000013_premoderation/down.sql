ALTER TABLE discussions DROP COLUMN pending;
ALTER TABLE discussions DROP COLUMN premoderated;
DROP TABLE comment_holds;
DROP TABLE word_rules;
DELETE FROM comments WHERE status IN ('pending', 'rejected');
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (status IN (''visible'', ''hidden'', ''deleted'', ''pending'', ''rejected''))',
    'CHECK (status IN (''visible'', ''hidden'', ''deleted''))')
WHERE type = 'table' AND name = 'comments';
PRAGMA writable_schema = RESET;
