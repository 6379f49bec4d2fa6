-- The school side and the people the automatic match cannot serve: roster
-- keys and classes, school-scoped operator roles, parent-pupil
-- relationships, per-school API tokens, reissuable activation codes that
-- remember an abandoned wizard, and one-time e-mail tokens.

-- A school administrator holds an operator role limited to one school.
ALTER TABLE operators DROP CONSTRAINT operators_role_check;
ALTER TABLE operators ADD CONSTRAINT operators_role_check
    CHECK (role IN ('support', 'privileged_support', 'school_admin'));
ALTER TABLE operators ADD COLUMN school_id TEXT REFERENCES schools (id);
ALTER TABLE operators ADD CONSTRAINT operators_school_scope
    CHECK ((role = 'school_admin') = (school_id IS NOT NULL));

-- The school's own key for a person (re-importing a roster updates by it)
-- and the class a pupil is in.
ALTER TABLE accounts ADD COLUMN roster_key TEXT;
ALTER TABLE accounts ADD COLUMN class_name TEXT;
CREATE UNIQUE INDEX accounts_roster_key ON accounts (school_id, roster_key);
CREATE INDEX accounts_class ON accounts (school_id, class_name);
-- Paging through a school's people in id order (codes for a whole school).
CREATE INDEX accounts_school_id ON accounts (school_id, id);

CREATE TABLE relationships (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT NOT NULL REFERENCES accounts (id),
    pupil_id    TEXT NOT NULL REFERENCES accounts (id),
    status      TEXT NOT NULL CHECK (status IN ('proposed', 'confirmed', 'declined', 'revoked')),
    -- How it was confirmed: parent_accepted, esia_kids, operator.
    basis       TEXT,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    decided_at  BIGINT,
    CONSTRAINT relationships_pair_unique UNIQUE (parent_id, pupil_id)
);
CREATE INDEX relationships_pupil ON relationships (pupil_id);

CREATE TABLE school_tokens (
    id          TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (id),
    token_hash  TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX school_tokens_school ON school_tokens (school_id);

-- Reissuing a code revokes the previous one; the wizard's answers so far
-- (never the password in clear) are kept with the code so an abandoned
-- wizard resumes.
ALTER TABLE activation_codes ADD COLUMN revoked_at BIGINT;
ALTER TABLE activation_codes ADD COLUMN progress_json TEXT;

CREATE TABLE email_tokens (
    token_hash  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password')),
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX email_tokens_account ON email_tokens (account_id);
-- (school_id) alone is a prefix of the indexes above: one index less to
-- maintain on every roster write.
DROP INDEX accounts_school;
-- Recovery finds accounts by their confirmed e-mail.
CREATE INDEX accounts_email ON accounts (email);
