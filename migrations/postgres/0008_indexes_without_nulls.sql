-- Indexes hold only the accounts that have the value. A school's roster
-- creates accounts without an e-mail and mostly without a login, and each
-- such NULL still took an entry in these indexes: a million-row import
-- (#9) wrote two million entries that no lookup can ever find. Lookups by
-- e-mail or login (`= $1`, `IN (...)`) imply NOT NULL and use the partial
-- indexes as before; a login stays unique.
DROP INDEX accounts_email;
CREATE INDEX accounts_email ON accounts (email) WHERE email IS NOT NULL;
ALTER TABLE accounts DROP CONSTRAINT accounts_login_key;
CREATE UNIQUE INDEX accounts_login ON accounts (login) WHERE login IS NOT NULL;
