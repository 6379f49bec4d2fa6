-- esia-link as the OpenID Provider of the diary's own apps (#28).
--
-- One row per grant a diary app holds: the refresh-token family a redeemed
-- authorization code starts. Access tokens name their family, so revoking
-- the row (a replayed code, a reused refresh token, the end of the person's
-- session) makes every token of the grant inactive. `record` is the
-- provider's family record as JSON; `generation` is repeated outside it so
-- that a rotation is a compare-and-swap. Only hashes of tokens are kept.
CREATE TABLE app_grants (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    offline     INTEGER NOT NULL CHECK (offline IN (0, 1)),
    generation  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    record      TEXT NOT NULL
);
CREATE INDEX app_grants_account ON app_grants (account_id);
CREATE INDEX app_grants_session ON app_grants (session_id);

-- Back-channel logout deliveries still owed to apps: durable, so that a
-- restart or an app that is down loses none. The logout token is minted at
-- each attempt (a retry must not send an expired one). An instance claims a
-- due row by moving `claimed_until` forward, so several instances never
-- send the same delivery at once.
CREATE TABLE app_logout_deliveries (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL,
    claimed_until  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    last_error     TEXT
);
CREATE INDEX app_logout_deliveries_due ON app_logout_deliveries (next_at);
