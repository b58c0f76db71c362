-- The ClickHouse sink's user on a shared server: it inserts into its tables and reads back only what it
-- needs (the source offsets and its ledger, for exactly once, and which migrations are applied). No DDL.
-- Migrations are applied by a deploy user (or the sink run once as an owner); this user cannot alter tables.
-- Replace the database (tributary) and the password hash: echo -n 'password' | sha256sum
-- (docker-compose's clickhouse-setup does both, see users.ts).
CREATE USER IF NOT EXISTS tributary_sink IDENTIFIED WITH sha256_hash BY 'REPLACE_WITH_SHA256_OF_PASSWORD'
    SETTINGS readonly = 0;
GRANT INSERT ON tributary.requests TO tributary_sink;
GRANT INSERT ON tributary.dead_letters TO tributary_sink;
GRANT INSERT ON tributary.request_stats_1m TO tributary_sink;
GRANT INSERT ON tributary.alerts TO tributary_sink;
GRANT SELECT(_topic, _partition, _offset) ON tributary.requests TO tributary_sink;
GRANT SELECT(_topic, _partition, _offset) ON tributary.dead_letters TO tributary_sink;
GRANT SELECT(_topic, _partition, _offset) ON tributary.request_stats_1m TO tributary_sink;
GRANT SELECT(_topic, _partition, _offset) ON tributary.alerts TO tributary_sink;
GRANT SELECT ON tributary.tributary_migrations TO tributary_sink;
-- The sink runs `CREATE TABLE IF NOT EXISTS tributary_migrations` at every start; ClickHouse checks the
-- right before it looks whether the table exists, so this one table needs it (a no-op once it exists).
GRANT CREATE TABLE ON tributary.tributary_migrations TO tributary_sink;
-- Its write ledger and partition claims (exactly once across crashes, several copies in server mode).
GRANT SELECT, INSERT ON tributary.tributary_sink_ledger TO tributary_sink;
GRANT SELECT, INSERT ON tributary.tributary_sink_claims TO tributary_sink;
-- The sink reads its tables' columns at start (system.columns shows only tables the user may access).
GRANT SHOW COLUMNS ON tributary.* TO tributary_sink;
