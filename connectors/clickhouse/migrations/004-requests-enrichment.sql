-- What enrich adds to each request (topic requests.enriched): the service's owner, tier and SLOs and the
-- customer's plan and account region as they stood at the event's ts, and why a lookup missed. Nullable:
-- rows written before this migration, and rows from requests.valid, read them as NULL.
ALTER TABLE requests
    ADD COLUMN IF NOT EXISTS team             Nullable(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS tier             Nullable(UInt8),
    ADD COLUMN IF NOT EXISTS latency_slo_ms   Nullable(UInt32),
    ADD COLUMN IF NOT EXISTS availability_slo Nullable(Float64),
    ADD COLUMN IF NOT EXISTS plan             Nullable(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS account_region   Nullable(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS service_miss     Nullable(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS customer_miss    Nullable(String) CODEC(ZSTD(1));
