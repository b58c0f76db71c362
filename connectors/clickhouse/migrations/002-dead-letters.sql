-- Every dead letter (topic requests.dlq): what was refused, why, and the original bytes.
-- Ordered by (reason, failed_at): dashboards count dead letters by reason over time.
CREATE TABLE IF NOT EXISTS dead_letters
(
    reason           LowCardinality(String),
    detail           String CODEC(ZSTD(3)),
    source_topic     LowCardinality(String),
    source_partition UInt16,
    source_offset    UInt64 CODEC(Delta, ZSTD(1)),
    original_key     Nullable(String) CODEC(ZSTD(1)),
    original_value   Nullable(String) CODEC(ZSTD(3)),
    processor        LowCardinality(String),
    failed_at        DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    _topic           LowCardinality(String),
    _partition       UInt16,
    _offset          UInt64 CODEC(Delta, ZSTD(1)),
    _inserted_at     DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    PROJECTION source_offsets (SELECT _topic, _partition, max(_offset) GROUP BY _topic, _partition)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(failed_at)
ORDER BY (reason, failed_at)
SETTINGS non_replicated_deduplication_window = 1000;
