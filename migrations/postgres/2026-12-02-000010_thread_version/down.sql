DROP TRIGGER users_renamed_thread_version ON users;
DROP FUNCTION tribune_renamed_thread_versions();
DROP TRIGGER comments_gone_thread_version ON comments;
DROP TRIGGER comments_changed_thread_version ON comments;
DROP TRIGGER comments_new_thread_version ON comments;
DROP FUNCTION tribune_bump_thread_versions();
ALTER TABLE discussions DROP COLUMN thread_version;
