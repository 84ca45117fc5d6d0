-- Atlas programmatic API keys: the 24-hex id Atlas clients address a key by (`apiUserId`). Keys
-- made through the SOLAPI face or usher's own have none and are not listed by Atlas.
ALTER TABLE api_keys ADD COLUMN atlas_id TEXT;
CREATE UNIQUE INDEX api_keys_atlas_id ON api_keys (atlas_id) WHERE atlas_id IS NOT NULL;
