-- Premoderation (see `premoderation`): comments may be `pending` (held for a moderator, seen
-- only by their author and moderators, counted nowhere) or `rejected` (seen by moderators
-- only). The old rows all pass the new check. Migrations run in one transaction, so the
-- table stays locked while VALIDATE reads it: on a site with millions of comments, run
-- `tribune migrate` at a quiet moment (it takes seconds per million rows).
ALTER TABLE comments DROP CONSTRAINT comments_status_check;
ALTER TABLE comments ADD CONSTRAINT comments_status_check
    CHECK (status IN ('visible', 'hidden', 'deleted', 'pending', 'rejected')) NOT VALID;
ALTER TABLE comments VALIDATE CONSTRAINT comments_status_check;

-- Word rules: a word or phrase (`phrase` as the admin wrote it; `folded` as it is matched:
-- whole words, lowercase, `ё` as `е`, Latin and Cyrillic look-alikes as one letter, see
-- `premoderation::domain::fold`) and what a comment or topic containing it gets: `reject`
-- (refused with `reason`, the public text; never the word) or `hold` (premoderated).
CREATE TABLE word_rules (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phrase     TEXT NOT NULL,
    folded     TEXT NOT NULL UNIQUE,
    action     TEXT NOT NULL CHECK (action IN ('reject', 'hold')),
    reason     TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);

-- Why each held comment was held, and what a moderator decided: the premoderation queue is
-- the undecided rows (oldest first) whose comment is still `pending`; an author's history
-- (approved, rejected) is counted here. `rule_id` has no foreign key: a rule may be deleted
-- while comments it held wait; `detail` keeps what the rule was.
CREATE TABLE comment_holds (
    comment_id  BIGINT PRIMARY KEY REFERENCES comments (id) ON DELETE CASCADE,
    author_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('word_rule', 'first_comments', 'new_account_link', 'discussion')),
    rule_id     BIGINT,
    detail      TEXT,
    held_at     TIMESTAMP NOT NULL,
    decision    TEXT CHECK (decision IN ('approved', 'rejected')),
    decided_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    decided_at  TIMESTAMP
);
CREATE INDEX comment_holds_queue ON comment_holds (held_at, comment_id) WHERE decision IS NULL;
CREATE INDEX comment_holds_by_author ON comment_holds (author_id, decision);

-- `premoderated`: every comment here is held (a moderator's switch). `pending`: how many of its
-- comments wait for a moderator; thread pages read it with the thread's version, and build a
-- reader's own page (with their pending comments) only when it is not 0.
ALTER TABLE discussions ADD COLUMN premoderated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE discussions ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
