-- Delivery bookkeeping. `org_id`: the organization a message belongs to, whose owners may see and
-- re-queue it (NULL for a person's own mail: verification, password reset). `purpose`: what the
-- message is for; send limits count invitation e-mails. `recipient` is stored normalized from now
-- on (the address as typed stays in the encrypted payload).
ALTER TABLE outbox ADD COLUMN org_id TEXT REFERENCES organizations (id) ON DELETE SET NULL;
ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'other';
CREATE INDEX outbox_by_recipient ON outbox (recipient, purpose, created_at);
CREATE INDEX outbox_by_org ON outbox (org_id, purpose, created_at);
