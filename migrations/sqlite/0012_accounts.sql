-- Accounts (issue 23): whether an account's owner proved its mailbox, the per-user budget of
-- wrong current passwords, and whether an invitation went by mail.

-- NULL: made through a link shown to an inviter, never mailed, so nobody proved the address.
-- Existing accounts (operator-made, demo, accepted before this) count as verified.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
UPDATE users SET email_verified_at = created_at;

-- Wrong current passwords (password change) in the window that started at `..._since`.
ALTER TABLE users ADD COLUMN password_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_failures_since INTEGER;

-- When the invitation was mailed to its address (NULL: its link was shown to the inviter).
ALTER TABLE invitations ADD COLUMN mailed_at INTEGER;
-- The daily cap counts a tenant's invitations by creation time.
CREATE INDEX invitations_tenant_created ON invitations (tenant_id, created_at);
-- Demoting or removing an inviter withdraws what they sent.
CREATE INDEX invitations_inviter ON invitations (tenant_id, invited_by_user);
