-- Each caller → callee edge's calls, outcomes, p50, p95 and latency histogram per 5-minute bucket: the edge
-- series the detector judges with edgeSeries=1 (lib/insights/detect.ts), a caller's share of a service's
-- requests, so one caller's failing calls are seen where they are a small part of the service's traffic.
-- Rows, outcomes and bins as service_buckets counts them; edges as service_edges draws them.
SELECT
  caller_service AS caller,
  service AS callee,
  date_trunc('minute', start_time) - (minute(start_time) % 5) * INTERVAL '1' MINUTE AS bucket,
  count(*) AS requests,
  count_if((error OR throttle) AND NOT fault) AS errors,
  count_if(fault) AS faults,
  count_if(throttle AND NOT fault) AS throttles,
  approx_percentile(duration, 0.5) AS p50,
  approx_percentile(duration, 0.95) AS p95,
  json_format(CAST(histogram(CASE WHEN duration IS NOT NULL
    THEN CAST(CAST(floor(2 * log2(greatest(duration, 0.001) * 1000)) AS integer) AS varchar) END) AS JSON)) AS latency_bins,
  dt,
  hour
FROM segments
WHERE kind IN ('segment', 'inferred')
  AND caller_service IS NOT NULL
  AND caller_service <> service
GROUP BY caller_service, service, date_trunc('minute', start_time) - (minute(start_time) % 5) * INTERVAL '1' MINUTE, dt, hour
