-- Erasure (see `privacy`): an erased account keeps its row, without personal data, so that
-- the audit log's ids, reports and old comments still point somewhere; `erased_at` says when.
-- Its `username_key` stays taken for TRIBUNE_ERASED_USERNAME_DAYS, then the purge frees it.
ALTER TABLE users ADD COLUMN erased_at TIMESTAMP;
CREATE INDEX users_erased ON users (erased_at) WHERE erased_at IS NOT NULL;

-- Imports (see `import`): what each record of an export became here, so that importing the
-- same file again (or again after a kill) adds nothing. `kind` is `thread`, `post` or
-- `author`; `local_id` the discussion, comment or account (NULL while a thread is known but
-- has no home yet, or a post waits for its parent); `data` a waiting record, as JSON.
CREATE TABLE import_keys (
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('thread', 'post', 'author')),
    external_id TEXT NOT NULL,
    local_id    BIGINT,
    data        TEXT,
    PRIMARY KEY (source, kind, external_id)
);
CREATE INDEX import_keys_waiting ON import_keys (source, kind) WHERE local_id IS NULL;
