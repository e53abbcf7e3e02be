-- Bearer tokens of the anchoring service's producers, stored as sha256 hashes (a token is 32
-- random bytes: a plain hash is as strong as a slow one here, and checks in microseconds).
CREATE TABLE bctrace_tokens(
    name TEXT PRIMARY KEY,
    hash BYTEA NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
