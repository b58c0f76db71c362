-- One-minute health per (service, endpoint, region) from the aggregate (topic stats.1m): one row per
-- window and revision. Revision 0 is the window as it closed, revision n >= 1 a correction holding only
-- the deltas of late events, so sum() over rows is exact without FINAL, and min()/max() over rows too.
-- Columns are the StatsMinute fields. The latency sketch is kept as its two parallel arrays (ascending
-- bucket indexes, counts); latency_sketch is the same as a Map, for sumMap() across any rollup, and
-- latencySketchQuantile() below reads a quantile from the merged buckets (README "Querying latency quantiles").
-- Ordered for the dashboards: a service over a time range, then its endpoints and regions.
CREATE TABLE IF NOT EXISTS request_stats_1m
(
    service                  LowCardinality(String),
    endpoint                 LowCardinality(String),
    region                   LowCardinality(String),
    window_start             DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    window_end               DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    revision                 UInt32,
    requests                 UInt64,
    status_1xx               UInt64,
    status_2xx               UInt64,
    status_3xx               UInt64,
    status_4xx               UInt64,
    status_5xx               UInt64,
    latency_count            UInt64,
    latency_sum_ms           Float64,
    latency_min_ms           Float64,
    latency_max_ms           Float64,
    bytes_out                UInt64,
    sketch_relative_accuracy Float64,
    sketch_zero_count        UInt64,
    sketch_bucket_index      Array(Int32) CODEC(ZSTD(1)),
    sketch_bucket_count      Array(UInt64) CODEC(ZSTD(1)),
    service_rows             UInt32,
    team                     Nullable(String) CODEC(ZSTD(1)),
    tier                     Nullable(UInt8),
    latency_slo_ms           Nullable(UInt32),
    availability_slo         Nullable(Float64),
    latency_sketch           Map(Int32, UInt64) ALIAS mapFromArrays(sketch_bucket_index, sketch_bucket_count),
    _topic                   LowCardinality(String),
    _partition               UInt16,
    _offset                  UInt64 CODEC(Delta, ZSTD(1)),
    _inserted_at             DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    PROJECTION source_offsets (SELECT _topic, _partition, max(_offset) GROUP BY _topic, _partition)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (service, window_start, endpoint, region, revision)
SETTINGS non_replicated_deduplication_window = 1000;

-- The value bucket i stands for, 2 gamma^i / (gamma + 1) with gamma = (1+a)/(1-a), written as
-- @datadog/sketches-js computes it (gamma^i as 2^(i log1p(2a/(1-a)) / ln 2)), so the SQL agrees with
-- LatencySketch.quantile to the last bit or so (within 1e-12 relative).
CREATE OR REPLACE FUNCTION latencySketchBucketValue AS (i, a) ->
    pow(2, i / ((1 / log1p(2 * a / (1 - a))) * log(2))) * (2 / (2 + 2 * a / (1 - a)));

-- The value of 0-based rank `rank` (ascending) among the zero bucket followed by the sorted buckets.
CREATE OR REPLACE FUNCTION latencySketchValueAtRank AS (rank, buckets, zero_count, a) ->
    if(rank < zero_count, 0,
       latencySketchBucketValue(
           mapKeys(buckets)[arrayFirstIndex(c -> c > rank - zero_count, arrayCumSum(mapValues(buckets)))], a));

-- Quantile q of merged buckets: DDSketch's convention, the element of rank floor(q (n-1)); NaN when empty.
-- latencySketchQuantile(0.99, sumMap(latency_sketch), sum(sketch_zero_count), any(sketch_relative_accuracy))
CREATE OR REPLACE FUNCTION latencySketchQuantile AS (q, buckets, zero_count, a) ->
    if(arraySum(mapValues(buckets)) + zero_count = 0, nan,
       latencySketchValueAtRank(
           q * (toFloat64(arraySum(mapValues(buckets)) + zero_count) - 1), mapSort(buckets), zero_count, a));
