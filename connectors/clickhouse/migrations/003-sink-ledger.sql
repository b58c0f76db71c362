-- The sink's write ledger: one row per (target table, source partition, batch) and state. An 'intent'
-- is written before the batch's insert into the target, a 'done' after it (with the offsets ClickHouse
-- refused). An insert can land partially (one part per table partition, committed one by one), so the
-- resume point is the ledger, not max(_offset): an intent without its done is checked row by row.
-- No PARTITION BY: each ledger insert is one part, so it lands whole or not at all.
CREATE TABLE IF NOT EXISTS tributary_sink_ledger
(
    target           LowCardinality(String),
    topic            LowCardinality(String),
    partition        UInt16,
    seq              UInt64,
    state            Enum8('intent' = 1, 'done' = 2),
    first_offset     UInt64,
    last_offset      UInt64,
    rows             UInt32,
    token            String,
    writer           String,
    rejected_offsets Array(UInt64),
    rejected_details Array(String),
    written_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (target, topic, partition, seq, state)
-- Old entries go after a week; a partition idle that long resumes from its table (max(_offset)).
TTL toDateTime(written_at) + INTERVAL 7 DAY;
-- Which sink copy owns a source partition (server mode, several copies): the latest claim wins; a copy
-- checks that it still holds its claims before each batch, and a new owner waits out an insert lease.
CREATE TABLE IF NOT EXISTS tributary_sink_claims
(
    topic      LowCardinality(String),
    partition  UInt16,
    writer     String,
    claimed_at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = MergeTree
ORDER BY (topic, partition, claimed_at)
TTL toDateTime(claimed_at) + INTERVAL 30 DAY;
