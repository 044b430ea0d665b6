-- Invitations that have been redeemed: an invitation works once. Keyed by the SHA-256 of
-- the invitation token (never the token itself), so concurrent redemptions of the same
-- invitation cannot both succeed, on one server or several.
CREATE TABLE keyward_invitation_used (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    used BIGINT NOT NULL
);
