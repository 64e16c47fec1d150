DROP TRIGGER comments_erased_search;
DROP TRIGGER search_documents_removed;
DROP TRIGGER search_documents_indexed;
DROP TABLE search_fts;
DROP TABLE search_documents;
DELETE FROM settings WHERE key = 'search_index';
