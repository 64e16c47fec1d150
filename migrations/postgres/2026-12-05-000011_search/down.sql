DROP TRIGGER comments_erased_search ON comments;
DROP FUNCTION search_forget_erased_comment();
DROP TABLE search_documents;
DELETE FROM settings WHERE key = 'search_index';
