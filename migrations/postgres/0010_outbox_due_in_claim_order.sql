-- The worker claims due messages in (next_attempt_at, id) order, LIMIT 100. With id missing from
-- the index, every claim read and sorted every due message to find the first 100: with a backlog
-- of 20,000 a claim cost 70 µs per message it returned, against 16 µs with the index in the
-- claim's order (docs/benchmarks.md, 2026-12-07 fifth session).
CREATE INDEX outbox_due_in_order ON outbox (state, next_attempt_at, id);
DROP INDEX outbox_due;
