-- Members and roles: invitations (single-use, only the token's SHA-256 stored, 7 days,
-- revocable), single-use password-reset links, and each person's last sign-in.
ALTER TABLE users ADD COLUMN last_sign_in_at BIGINT;

CREATE TABLE invitations (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email           TEXT   NOT NULL,
    role            TEXT   NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    token_hash      TEXT   NOT NULL UNIQUE,
    invited_by      TEXT   NOT NULL,
    invited_by_user BIGINT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    accepted_at     BIGINT,
    accepted_by     BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX invitations_tenant ON invitations (tenant_id, id);

CREATE TABLE password_resets (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
