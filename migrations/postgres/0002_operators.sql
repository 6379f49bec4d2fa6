-- Support staff: an account may hold an operator role for the /ops console,
-- granted (and audited) separately from its diary role.
CREATE TABLE operators (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id),
    role        TEXT NOT NULL CHECK (role IN ('support', 'privileged_support')),
    granted_at  BIGINT NOT NULL,
    granted_by  TEXT NOT NULL
);
