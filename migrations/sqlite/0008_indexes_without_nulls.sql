-- The e-mail index holds only the accounts that have one. A school's
-- roster creates accounts without an e-mail, and each NULL still took an
-- entry: a million-row import (#9) wrote a million entries that no lookup
-- can ever find. A lookup by e-mail (`= ?`) implies NOT NULL and uses the
-- partial index as before. (The login's uniqueness is a column constraint
-- here, whose index cannot be replaced without rebuilding the table.)
DROP INDEX accounts_email;
CREATE INDEX accounts_email ON accounts (email) WHERE email IS NOT NULL;
