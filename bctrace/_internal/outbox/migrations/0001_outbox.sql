-- The outbox: the same three tables as the SQLite outbox, named bctrace_* so that the
-- database can be shared with other applications.
CREATE TABLE bctrace_batches(
    id BIGSERIAL PRIMARY KEY,
    root BYTEA NOT NULL,
    chains TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX bctrace_batches_open ON bctrace_batches(id) WHERE NOT done;
CREATE TABLE bctrace_records(
    id BIGSERIAL PRIMARY KEY,
    digest BYTEA NOT NULL UNIQUE,
    trace TEXT NOT NULL,
    seq INTEGER NOT NULL,
    record TEXT NOT NULL,
    bundle_path TEXT,
    batch BIGINT REFERENCES bctrace_batches(id),
    UNIQUE(trace, seq)
);
CREATE INDEX bctrace_records_batch ON bctrace_records(batch);
CREATE INDEX bctrace_records_pending ON bctrace_records(id) WHERE batch IS NULL;
CREATE TABLE bctrace_anchors(
    batch BIGINT NOT NULL REFERENCES bctrace_batches(id),
    chain TEXT NOT NULL,
    receipt TEXT NOT NULL,
    PRIMARY KEY(batch, chain)
);
