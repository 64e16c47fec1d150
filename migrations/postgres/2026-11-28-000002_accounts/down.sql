DROP TABLE outbox;
DROP TABLE password_resets;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
