-- A read-only dashboard user (Grafana's ClickHouse data source): SELECT on the pipeline's tables and views,
-- readonly = 1 so no query may write or lift a limit. max_execution_time stays changeable (only lowered or
-- raised within the constraints of the server's profile): clickhouse-go, under Grafana's plugin, sends it
-- with every query and a plain readonly = 1 user fails them all with code 164 (READONLY)
-- (grafana/clickhouse-datasource#325, ClickHouse/clickhouse-go#1748).
-- Replace the database (tributary) and the hash: echo -n 'pw' | sha256sum (compose does both, see users.ts).
CREATE USER IF NOT EXISTS tributary_dashboard IDENTIFIED WITH sha256_hash BY 'REPLACE_WITH_SHA256_OF_PASSWORD'
    SETTINGS readonly = 1, max_execution_time CHANGEABLE_IN_READONLY;
GRANT SELECT ON tributary.requests TO tributary_dashboard;
GRANT SELECT ON tributary.dead_letters TO tributary_dashboard;
GRANT SELECT ON tributary.request_stats_1m TO tributary_dashboard;
GRANT SELECT ON tributary.alerts TO tributary_dashboard;
GRANT SELECT ON tributary.alerts_firing_now TO tributary_dashboard;
