DROP TABLE import_keys;
DROP INDEX users_erased;
ALTER TABLE users DROP COLUMN erased_at;
