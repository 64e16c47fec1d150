-- Full-text search: one row per searchable document (an article, a topic, a comment) with its
-- index terms, written by the program in the transaction that writes the document
-- (src/search: the program stems the words, Russian and English, the same way for both
-- backends, so the database only indexes space-separated terms). `search_fts` is an FTS5
-- index over these rows (external content), kept in step by the triggers below.
--
-- What a reader may see is decided when searching, by joining the documents' own rows
-- (a hidden comment, a scheduled article): hiding and restoring need no index change.
-- Removal follows the documents: a deleted discussion or comment takes its row with it
-- (foreign keys), a comment whose text is erased loses it (trigger below).
--
-- The rows are filled for existing data by the program after this migration (the
-- `search_index` setting says the index must be rebuilt; `tribune search reindex` does the
-- same by hand).
CREATE TABLE search_documents (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('article', 'topic', 'comment')),
    discussion_id BIGINT NOT NULL REFERENCES discussions (id) ON DELETE CASCADE,
    comment_id    BIGINT UNIQUE REFERENCES comments (id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL,
    title_terms   TEXT NOT NULL,
    body_terms    TEXT NOT NULL
);
CREATE UNIQUE INDEX search_documents_discussion ON search_documents (discussion_id) WHERE comment_id IS NULL;
CREATE INDEX search_documents_of_discussion ON search_documents (discussion_id);

CREATE VIRTUAL TABLE search_fts USING fts5(
    title_terms, body_terms,
    content = 'search_documents', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER search_documents_indexed AFTER INSERT ON search_documents BEGIN
    INSERT INTO search_fts (rowid, title_terms, body_terms)
        VALUES (NEW.id, NEW.title_terms, NEW.body_terms);
END;
CREATE TRIGGER search_documents_removed AFTER DELETE ON search_documents BEGIN
    INSERT INTO search_fts (search_fts, rowid, title_terms, body_terms)
        VALUES ('delete', OLD.id, OLD.title_terms, OLD.body_terms);
END;
CREATE TRIGGER comments_erased_search AFTER UPDATE OF body ON comments
    WHEN NEW.body IS NULL
BEGIN
    DELETE FROM search_documents WHERE comment_id = NEW.id;
END;

INSERT INTO settings (key, value) VALUES ('search_index', 'rebuild')
    ON CONFLICT (key) DO UPDATE SET value = 'rebuild';
