DROP TABLE comment_reports;
DROP TABLE comment_votes;
DROP TABLE comments;
