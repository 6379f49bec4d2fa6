-- esia-link foundation schema (SQLite). Ids are UUID text, times are unix
-- milliseconds, flags are 0/1: the same shapes as the PostgreSQL schema so
-- one set of queries serves both.

CREATE TABLE regions (
    code          INTEGER PRIMARY KEY,
    name_ru       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    esia_enabled  INTEGER NOT NULL DEFAULT 0 CHECK (esia_enabled IN (0, 1)),
    updated_at    INTEGER NOT NULL
);

CREATE TABLE schools (
    id           TEXT PRIMARY KEY,
    region_code  INTEGER NOT NULL REFERENCES regions (code),
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    school_id       TEXT REFERENCES schools (id),
    role            TEXT NOT NULL CHECK (role IN ('pupil', 'parent', 'teacher', 'school_admin')),
    surname         TEXT NOT NULL,
    given_name      TEXT NOT NULL,
    patronymic      TEXT,
    birth_date      TEXT,
    snils           TEXT CHECK (snils IS NULL OR length(snils) = 11),
    login           TEXT UNIQUE,
    password_hash   TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'blocked')),
    email           TEXT,
    email_verified  INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    phone           TEXT,
    phone_verified  INTEGER NOT NULL DEFAULT 0 CHECK (phone_verified IN (0, 1)),
    login_changed   INTEGER NOT NULL DEFAULT 0 CHECK (login_changed IN (0, 1)),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Not unique on purpose: two accounts with one SNILS is a school data error
-- that the link decision must see and report.
CREATE INDEX accounts_snils ON accounts (snils);
CREATE INDEX accounts_school ON accounts (school_id);

CREATE TABLE federated_links (
    id             TEXT PRIMARY KEY,
    provider       TEXT NOT NULL,
    subject        TEXT NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    method         TEXT NOT NULL CHECK (method IN ('auto_snils', 'credentials', 'activation_code', 'operator')),
    tier_at_link   TEXT NOT NULL,
    linked_at      INTEGER NOT NULL,
    last_login_at  INTEGER,
    CONSTRAINT links_identity_unique UNIQUE (provider, subject),
    CONSTRAINT links_account_unique UNIQUE (provider, account_id)
);

CREATE TABLE activation_codes (
    code_hash   TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_by  TEXT NOT NULL
);
CREATE INDEX activation_codes_account ON activation_codes (account_id);

CREATE TABLE link_attempts (
    id              TEXT PRIMARY KEY,
    reference_code  TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    provider        TEXT NOT NULL,
    subject_masked  TEXT,
    subject_hash    TEXT,
    account_id      TEXT,
    outcome         TEXT NOT NULL,
    region_code     INTEGER,
    tier            TEXT,
    idp_error       TEXT,
    details_json    TEXT NOT NULL,
    snils_hash      TEXT
);
CREATE INDEX link_attempts_account ON link_attempts (account_id);
CREATE INDEX link_attempts_subject ON link_attempts (subject_hash);
CREATE INDEX link_attempts_snils ON link_attempts (snils_hash);
CREATE INDEX link_attempts_created ON link_attempts (created_at);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_kind   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    reason        TEXT,
    details_json  TEXT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target_kind, target_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
