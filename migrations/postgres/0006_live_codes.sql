-- Bulk code issuing (#9): each batch revokes the earlier unused codes of its
-- accounts. This index holds just those codes, so the revocation is a probe
-- per account however the planner estimates the table: without statistics
-- (a table filled within the last minute) `account_id IN (500 ids)` on the
-- plain account index is estimated to match most rows and read them all.
CREATE INDEX activation_codes_live ON activation_codes (account_id)
    WHERE used_at IS NULL AND revoked_at IS NULL;
