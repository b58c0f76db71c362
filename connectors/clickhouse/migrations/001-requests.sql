-- Every valid request event (topic requests.valid), one row per source offset.
-- Ordered by (service, ts): dashboards filter by service and a time range.
CREATE TABLE IF NOT EXISTS requests
(
    event_id     String CODEC(ZSTD(1)),
    ts           DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    service      LowCardinality(String),
    endpoint     LowCardinality(String),
    method       LowCardinality(String),
    status       UInt16 CODEC(T64, ZSTD(1)),
    latency_ms   Float64 CODEC(Gorilla, ZSTD(1)),
    bytes_out    UInt64 CODEC(T64, ZSTD(1)),
    customer_id  LowCardinality(String),
    region       LowCardinality(String),
    ingested_at  DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    _topic       LowCardinality(String),
    _partition   UInt16,
    _offset      UInt64 CODEC(Delta, ZSTD(1)),
    _inserted_at DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    -- The sink reads max(_offset) per source partition at every assignment; this keeps that cheap.
    PROJECTION source_offsets (SELECT _topic, _partition, max(_offset) GROUP BY _topic, _partition)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (service, ts)
-- Remembers the last inserts' deduplication tokens, so a retried insert is dropped (non-replicated).
SETTINGS non_replicated_deduplication_window = 1000;
