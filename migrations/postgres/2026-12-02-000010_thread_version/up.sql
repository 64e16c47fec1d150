-- A thread's version: bumped by every change to a comment of the discussion (new, edited,
-- voted on, hidden, restored, deleted, its author gone) and to the name of anyone who
-- commented there. Thread pages are cached by (discussion, version): a reader gets a page
-- from memory only if it was built at the version the database holds now, so a cached page
-- is never stale, on one process or many. Triggers keep it, so that no write path (the API,
-- the command line, an import) can forget to.
--
-- The bump locks the discussion's row: every writer of comments locks the discussion first
-- (the one lock order: discussion, comment, account), so the trigger never waits on it.
-- Statement-level, with transition tables: a multi-row insert bumps each discussion once.
ALTER TABLE discussions ADD COLUMN thread_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION tribune_bump_thread_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE discussions d SET thread_version = d.thread_version + 1
        WHERE d.id IN (SELECT discussion_id FROM changed_new);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE discussions d SET thread_version = d.thread_version + 1
        WHERE d.id IN (SELECT discussion_id FROM changed_old);
    ELSE
        UPDATE discussions d SET thread_version = d.thread_version + 1
        WHERE d.id IN (SELECT discussion_id FROM changed_new
                       UNION SELECT discussion_id FROM changed_old);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER comments_new_thread_version AFTER INSERT ON comments
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION tribune_bump_thread_versions();
CREATE TRIGGER comments_changed_thread_version AFTER UPDATE ON comments
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION tribune_bump_thread_versions();
CREATE TRIGGER comments_gone_thread_version AFTER DELETE ON comments
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION tribune_bump_thread_versions();

CREATE FUNCTION tribune_renamed_thread_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE discussions SET thread_version = thread_version + 1
    WHERE id IN (SELECT discussion_id FROM comments WHERE author_id = NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER users_renamed_thread_version AFTER UPDATE OF username, display_name ON users
    FOR EACH ROW
    WHEN (OLD.username IS DISTINCT FROM NEW.username
          OR OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION tribune_renamed_thread_versions();
