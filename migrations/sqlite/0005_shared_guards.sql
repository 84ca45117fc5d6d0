-- Short-lived state that every instance on one database must share (PostgreSQL deployments run
-- several): the HMAC signatures already accepted, and the per-client request counters of the
-- unauthenticated endpoints. Rows are purged once expired; nothing here outlives a few minutes
-- of use, and `usher admin migrate-data` does not copy it.
CREATE TABLE replay_guard (
    digest     TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX replay_guard_expiry ON replay_guard (expires_at);

CREATE TABLE rate_counters (
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_counters_window ON rate_counters (window_start);

-- Facts about the deployment as a whole. `master_key_check`: a value encrypted under the master
-- key by the first instance to start; an instance with another key refuses to start rather than
-- fail to decrypt secrets one request at a time.
CREATE TABLE deployment (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
