-- Every alert edge (topic alerts, AlertEvent): one FIRING and one RESOLVED row per episode, as the
-- receivers were sent them; (alert_id, state) is the delivery idempotency key. Ordered for the dashboards'
-- "alerts of a service over time"; alerts_firing_now lists the episodes whose FIRING has no RESOLVED yet.
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id      String,
    state         Enum8('FIRING' = 1, 'RESOLVED' = 2),
    rule          LowCardinality(String),
    kind          LowCardinality(String),
    severity      LowCardinality(String),
    service       LowCardinality(String),
    episode_start DateTime64(3, 'UTC'),
    at            DateTime64(3, 'UTC'),
    value         Float64,
    threshold     Float64,
    summary       String CODEC(ZSTD(3)),
    labels        Map(LowCardinality(String), String),
    _topic        LowCardinality(String),
    _partition    UInt16,
    _offset       UInt64 CODEC(Delta, ZSTD(1)),
    _inserted_at  DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    PROJECTION source_offsets (SELECT _topic, _partition, max(_offset) GROUP BY _topic, _partition)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (service, at, alert_id, state)
SETTINGS non_replicated_deduplication_window = 1000;

-- Episodes firing now: a FIRING without its RESOLVED (one row per alert_id, whatever the topic prefix).
CREATE VIEW IF NOT EXISTS alerts_firing_now AS
SELECT alert_id, rule, kind, severity, service, episode_start, at AS fired_at, value, threshold, summary, labels
FROM alerts
WHERE state = 'FIRING' AND alert_id NOT IN (SELECT alert_id FROM alerts WHERE state = 'RESOLVED')
ORDER BY service, fired_at
LIMIT 1 BY alert_id;
