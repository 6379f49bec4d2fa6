-- Bulk code issuing (#9): each batch revokes the earlier unused codes of its
-- accounts; this index holds just those codes. Kept in step with the
-- PostgreSQL schema, where the planner needs it.
CREATE INDEX activation_codes_live ON activation_codes (account_id)
    WHERE used_at IS NULL AND revoked_at IS NULL;
