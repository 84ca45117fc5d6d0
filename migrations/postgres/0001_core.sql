-- usher core schema. Same as the SQLite file of the same version, but for INTEGER → BIGINT (so both decode as i64).
-- Ids are 24-hex TEXT, timestamps fixed-width RFC 3339 UTC with milliseconds (TEXT,
-- so they sort and compare as strings on both backends), booleans INTEGER 0/1.

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_normalized    TEXT NOT NULL,
    name                TEXT NOT NULL,
    password_hash       TEXT,
    status              TEXT NOT NULL CHECK (status IN ('UNVERIFIED', 'ACTIVE', 'INACTIVE', 'DELETED')),
    phone_number        TEXT,
    extra_phone_numbers TEXT NOT NULL DEFAULT '[]',
    selected_org_id     TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CONSTRAINT users_email_unique UNIQUE (email_normalized)
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE', 'DELETED')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- roles: space-separated canonical role names (see src/core/roles.rs), never empty.
CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    roles      TEXT NOT NULL CHECK (roles <> ''),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    roles            TEXT NOT NULL CHECK (roles <> ''),
    inviter_id       TEXT REFERENCES users (id) ON DELETE SET NULL,
    state            TEXT NOT NULL CHECK (state IN ('PENDING', 'ACCEPTED', 'CANCELLED', 'REJECTED', 'EXPIRED')),
    token_digest     TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    accepted_by      TEXT REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT invitations_token_unique UNIQUE (token_digest)
);
-- At most one PENDING invitation per (organization, e-mail); terminal ones never block a new one.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, email_normalized) WHERE state = 'PENDING';
CREATE INDEX invitations_by_org ON invitations (org_id, state, created_at);
CREATE INDEX invitations_by_email ON invitations (email_normalized, state);

-- API keys: the secret is needed to verify HMAC signatures (and Digest later), so it is stored
-- encrypted (XChaCha20-Poly1305 under the master key), never in clear. user_id NULL = a key of the
-- organization itself, acting with its own roles.
CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    roles            TEXT NOT NULL,
    description      TEXT NOT NULL,
    secret_encrypted TEXT NOT NULL,
    created_by       TEXT,
    created_at       TEXT NOT NULL,
    last_used_at     TEXT
);
CREATE INDEX api_keys_by_org ON api_keys (org_id);

CREATE TABLE sessions (
    token_digest TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip_address   TEXT NOT NULL,
    device       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Single-use secrets sent by e-mail: password reset and e-mail verification.
CREATE TABLE user_tokens (
    token_digest TEXT PRIMARY KEY,
    id           TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL CHECK (purpose IN ('PASSWORD_RESET', 'EMAIL_VERIFICATION')),
    email        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);
CREATE INDEX user_tokens_by_user ON user_tokens (user_id, purpose);

-- Outbox: written in the same transaction as the change that causes it. payload_encrypted holds the
-- rendered message (it contains a secret link) encrypted under the master key.
CREATE TABLE outbox (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    recipient         TEXT NOT NULL,
    payload_encrypted TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('PENDING', 'SENT', 'PARKED')),
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_attempt_at   TEXT NOT NULL,
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    sent_at           TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    org_id      TEXT,
    actor       TEXT,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL
);
CREATE INDEX audit_events_by_org ON audit_events (org_id, created_at);
