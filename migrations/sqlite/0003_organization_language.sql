-- The language of the e-mails an organization sends (invitations); NULL: the server's default
-- (`mail_language`).
ALTER TABLE organizations ADD COLUMN language TEXT CHECK (language IN ('en', 'ko'));
