-- Values the program generates once and keeps (e.g. the JWT signing key when
-- TRIBUNE_JWT_SECRET is unset), so that every process and every restart agree.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
