-- IP access lists of API keys: when a key has entries, requests signed with it are accepted
-- only from an address inside one of them. cidr is the canonical network (an address alone is
-- its /32 or /128); ip_address is set when the entry was given as one address.
CREATE TABLE api_key_access_list (
    key_id     TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    cidr       TEXT NOT NULL,
    ip_address TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (key_id, cidr)
);
