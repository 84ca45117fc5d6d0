-- Atlas service accounts of an organization: OAuth2 clients (client credentials) acting with
-- roles of their own. Secrets and access tokens are stored only as keyed digests.
CREATE TABLE service_accounts (
    client_id   TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    roles       TEXT NOT NULL CHECK (roles <> ''),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX service_accounts_by_org ON service_accounts (org_id, created_at);

CREATE TABLE service_account_secrets (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    secret_digest TEXT NOT NULL,
    masked        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    last_used_at  TEXT,
    CONSTRAINT service_account_secrets_digest_unique UNIQUE (secret_digest)
);
CREATE INDEX service_account_secrets_by_client ON service_account_secrets (client_id, created_at);

-- Access tokens issued at /api/oauth/token (one hour); purged once expired.
CREATE TABLE oauth_tokens (
    token_digest TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX oauth_tokens_by_client ON oauth_tokens (client_id);
