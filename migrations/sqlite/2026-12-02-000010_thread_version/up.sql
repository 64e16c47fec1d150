-- A thread's version: bumped by every change to a comment of the discussion (new, edited,
-- voted on, hidden, restored, deleted, its author gone) and to the name of anyone who
-- commented there. Thread pages are cached by (discussion, version): a reader gets a page
-- from memory only if it was built at the version the database holds now, so a cached page
-- is never stale, on one process or many. Triggers keep it, so that no write path (the API,
-- the command line, an import) can forget to.
ALTER TABLE discussions ADD COLUMN thread_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER comments_new_thread_version AFTER INSERT ON comments
BEGIN
    UPDATE discussions SET thread_version = thread_version + 1 WHERE id = NEW.discussion_id;
END;

CREATE TRIGGER comments_changed_thread_version AFTER UPDATE ON comments
BEGIN
    UPDATE discussions SET thread_version = thread_version + 1
    WHERE id IN (OLD.discussion_id, NEW.discussion_id);
END;

CREATE TRIGGER comments_gone_thread_version AFTER DELETE ON comments
BEGIN
    UPDATE discussions SET thread_version = thread_version + 1 WHERE id = OLD.discussion_id;
END;

CREATE TRIGGER users_renamed_thread_version
AFTER UPDATE OF username, display_name ON users
WHEN OLD.username IS NOT NEW.username OR OLD.display_name IS NOT NEW.display_name
BEGIN
    UPDATE discussions SET thread_version = thread_version + 1
    WHERE id IN (SELECT discussion_id FROM comments WHERE author_id = NEW.id);
END;
