-- Who holds a mail's claim: a sending worker's random id. The claim's lease (locked_until) is
-- short and renewed while that worker lives; only the holder may record the outcome.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
