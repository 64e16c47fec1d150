-- Who has viewed what today, for the whole site: a view counts once per viewer (a hash of the
-- account or address with a site salt) per discussion per UTC day, whatever process served it.
-- Written in batches by each process's view flusher; purged when the day is over.
CREATE TABLE view_marks (
    discussion_id BIGINT NOT NULL,
    day           TEXT NOT NULL,
    viewer        TEXT NOT NULL,
    PRIMARY KEY (discussion_id, day, viewer)
);
CREATE INDEX view_marks_day ON view_marks (day);
