-- Keys compare byte by byte. Ids, hashes, SNILS, logins and the like were
-- compared under the database's linguistic collation (strcoll on every
-- step of every index search and insert), which orders them no better and
-- costs a bulk import (#9) about a sixth of its index work, more under
-- ru_RU or en_US than under C.UTF-8. Byte order is also what SQLite uses
-- for these columns, and it keeps time-ordered (v7) ids in time order.
-- Names are left alone: people see them sorted.
ALTER TABLE schools ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE accounts
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN school_id TYPE TEXT COLLATE "C",
    ALTER COLUMN roster_key TYPE TEXT COLLATE "C",
    ALTER COLUMN class_name TYPE TEXT COLLATE "C",
    ALTER COLUMN snils TYPE TEXT COLLATE "C",
    ALTER COLUMN login TYPE TEXT COLLATE "C",
    ALTER COLUMN email TYPE TEXT COLLATE "C";
ALTER TABLE federated_links
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN provider TYPE TEXT COLLATE "C",
    ALTER COLUMN subject TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE activation_codes
    ALTER COLUMN code_hash TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE link_attempts
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN reference_code TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN subject_hash TYPE TEXT COLLATE "C",
    ALTER COLUMN snils_hash TYPE TEXT COLLATE "C";
ALTER TABLE audit_log
    ALTER COLUMN target_kind TYPE TEXT COLLATE "C",
    ALTER COLUMN target_id TYPE TEXT COLLATE "C";
ALTER TABLE operators
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN school_id TYPE TEXT COLLATE "C";
ALTER TABLE relationships
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN parent_id TYPE TEXT COLLATE "C",
    ALTER COLUMN pupil_id TYPE TEXT COLLATE "C",
    ALTER COLUMN holder_id TYPE TEXT COLLATE "C";
ALTER TABLE school_tokens
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN school_id TYPE TEXT COLLATE "C",
    ALTER COLUMN token_hash TYPE TEXT COLLATE "C";
ALTER TABLE email_tokens
    ALTER COLUMN token_hash TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE invitations
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN inviter_id TYPE TEXT COLLATE "C",
    ALTER COLUMN pupil_id TYPE TEXT COLLATE "C",
    ALTER COLUMN grantee_id TYPE TEXT COLLATE "C",
    ALTER COLUMN relationship_id TYPE TEXT COLLATE "C",
    ALTER COLUMN match_hash TYPE TEXT COLLATE "C",
    ALTER COLUMN status TYPE TEXT COLLATE "C";
ALTER TABLE notifications
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN kind TYPE TEXT COLLATE "C",
    ALTER COLUMN subject_id TYPE TEXT COLLATE "C";
