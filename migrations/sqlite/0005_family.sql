-- Who may see whose diary (#10): parent-child confirmation, trusted-person
-- invitations and the notification centre.
--
-- federated_links gains the method 'invitation' (a trusted person's
-- lightweight account, linked at the first State Services login that
-- matched a parent's invitation). As in 0004: widening a CHECK changes
-- nothing on disk, so the stored CREATE TABLE text is edited and the schema
-- cookie bumped by a throwaway table that also checks the edit happened.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (method IN (''auto_snils'', ''credentials'', ''activation_code'', ''operator''))',
    'CHECK (method IN (''auto_snils'', ''credentials'', ''activation_code'', ''operator'', ''invitation''))')
WHERE type = 'table' AND name = 'federated_links';
PRAGMA writable_schema = OFF;
CREATE TABLE migration_guard_0005 (edited INTEGER NOT NULL CHECK (edited = 1));
INSERT INTO migration_guard_0005 (edited)
    SELECT instr(sql, '''invitation''') > 0 FROM sqlite_schema
    WHERE type = 'table' AND name = 'federated_links';
DROP TABLE migration_guard_0005;

-- The account that holds a confirmed parent-child link: the parent persona
-- itself, or the parent's own account at another school (same person by
-- SNILS and full name) that accepted the school's invitation. Access
-- checks look relationships up by it.
ALTER TABLE relationships ADD COLUMN holder_id TEXT REFERENCES accounts (id);
ALTER TABLE relationships ADD COLUMN decided_by TEXT;
UPDATE relationships SET holder_id = parent_id WHERE status = 'confirmed';
CREATE INDEX relationships_holder ON relationships (holder_id);

-- A parent's invitation of a trusted person for some services of one
-- child. The invitee is matched by surname plus the HMAC of their SNILS or
-- mobile phone (App::lookup_hash); neither is stored in clear. `hint` is
-- what the parent's list shows (the last digits).
CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    inviter_id       TEXT NOT NULL REFERENCES accounts (id),
    pupil_id         TEXT NOT NULL REFERENCES accounts (id),
    relationship_id  TEXT NOT NULL REFERENCES relationships (id),
    invitee_surname  TEXT NOT NULL,
    match_kind       TEXT NOT NULL CHECK (match_kind IN ('snils', 'phone')),
    match_hash       TEXT NOT NULL,
    hint             TEXT NOT NULL,
    services         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    grantee_id       TEXT REFERENCES accounts (id),
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    decided_at       INTEGER,
    opens_at         INTEGER,
    revoked_at       INTEGER,
    revoked_by       TEXT
);
CREATE INDEX invitations_match ON invitations (match_hash, status);
CREATE INDEX invitations_inviter ON invitations (inviter_id);
CREATE INDEX invitations_pupil ON invitations (pupil_id);
CREATE INDEX invitations_grantee ON invitations (grantee_id);

-- The notification centre: invitations to answer and notices. One row per
-- (account, kind, subject), so notices derived from time (access opened,
-- invitation expired) can be written by whoever notices first.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    kind         TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    params_json  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER,
    CONSTRAINT notifications_once UNIQUE (account_id, kind, subject_id)
);
CREATE INDEX notifications_account ON notifications (account_id, created_at);
