-- Searches limited to articles or topics walk the discussions' own documents newest first
-- (a few percent of all documents) instead of every comment's: src/search/repo.rs.
CREATE INDEX search_documents_discussions_newest ON search_documents (id) WHERE comment_id IS NULL;
