-- Each service's requests, outcomes, p50, p95 and latency histogram per 5-minute bucket: the series the anomaly detectors read.
-- Same counting rules as service_faults (a service's request once; fault beats error; throttles are errors).
SELECT
  service,
  date_trunc('minute', start_time) - (minute(start_time) % 5) * INTERVAL '1' MINUTE AS bucket,
  count(*) AS requests,
  count_if((error OR throttle) AND NOT fault) AS errors,
  count_if(fault) AS faults,
  count_if(throttle AND NOT fault) AS throttles,
  approx_percentile(duration, 0.5) AS p50,
  approx_percentile(duration, 0.95) AS p95,
  -- The latency histogram, two bins an octave of milliseconds ({"bin": count}, bin 2·log2(ms) rounded down,
  -- LATENCY_BINS_PER_OCTAVE in lib/insights/detectors.ts): the detector counts the requests slower than
  -- the baseline p95 from it, so one slow outlier in a quiet bucket is not taken for a slowdown. A segment
  -- without a duration (in progress) has no bin: histogram() skips NULLs on both engines, but DuckDB's
  -- greatest() would turn a NULL into 0.001 where Trino's stays NULL, hence the CASE.
  json_format(CAST(histogram(CASE WHEN duration IS NOT NULL
    THEN CAST(CAST(floor(2 * log2(greatest(duration, 0.001) * 1000)) AS integer) AS varchar) END) AS JSON)) AS latency_bins,
  dt,
  -- The hour partition, so a scheduled run reading its last few buckets prunes to one or two hour folders
  -- instead of the whole day. Partitions follow the trace's start, so a bucket at the top of an hour can
  -- come in two rows (late segments of traces begun the hour before); readBuckets merges them.
  hour
FROM segments
WHERE kind IN ('segment', 'inferred')
  AND (caller_service IS NULL OR caller_service <> service)
GROUP BY service, date_trunc('minute', start_time) - (minute(start_time) % 5) * INTERVAL '1' MINUTE, dt, hour
