DROP TRIGGER users_renamed_thread_version;
DROP TRIGGER comments_gone_thread_version;
DROP TRIGGER comments_changed_thread_version;
DROP TRIGGER comments_new_thread_version;
ALTER TABLE discussions DROP COLUMN thread_version;
