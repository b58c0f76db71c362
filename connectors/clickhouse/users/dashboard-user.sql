-- A read-only dashboard user: SELECT on the pipeline's tables, readonly = 1 so no query may write or
-- change a setting that lifts it. Replace the database (tributary) and the hash: echo -n 'pw' | sha256sum
CREATE USER IF NOT EXISTS tributary_dashboard IDENTIFIED WITH sha256_hash BY 'REPLACE_WITH_SHA256_OF_PASSWORD'
    SETTINGS readonly = 1;
GRANT SELECT ON tributary.requests TO tributary_dashboard;
GRANT SELECT ON tributary.dead_letters TO tributary_dashboard;
