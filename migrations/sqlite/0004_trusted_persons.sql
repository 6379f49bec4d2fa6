-- A lightweight account role for trusted persons (a grandmother a parent
-- lets see a child's diary), created at their first State Services login.
--
-- SQLite cannot ALTER a CHECK constraint, and sqlx runs every migration in
-- a transaction, where foreign keys cannot be switched off for a table
-- rebuild. Widening a CHECK (every stored row passes the new one) changes
-- nothing on disk, so SQLite's documented procedure for such changes is
-- used: edit the stored CREATE TABLE text, then bump the schema cookie (a
-- throwaway DDL statement does) so that every connection re-reads it. The
-- throwaway table also checks that the edit happened (CHECK fails if not).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql,
    'CHECK (role IN (''pupil'', ''parent'', ''teacher'', ''school_admin''))',
    'CHECK (role IN (''pupil'', ''parent'', ''teacher'', ''school_admin'', ''trusted''))')
WHERE type = 'table' AND name = 'accounts';
PRAGMA writable_schema = OFF;
CREATE TABLE migration_guard (edited INTEGER NOT NULL CHECK (edited = 1));
INSERT INTO migration_guard (edited)
    SELECT instr(sql, '''trusted''') > 0 FROM sqlite_schema
    WHERE type = 'table' AND name = 'accounts';
DROP TABLE migration_guard;
