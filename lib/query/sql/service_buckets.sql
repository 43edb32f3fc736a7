-- Each service's requests, outcomes and p95 per 5-minute bucket: the series the anomaly detectors read.
-- Same counting rules as service_faults (a service's request once; fault beats error; throttles are errors).
SELECT
  service,
  date_trunc('minute', start_time) - (minute(start_time) % 5) * INTERVAL '1' MINUTE AS bucket,
  count(*) AS requests,
  count_if((error OR throttle) AND NOT fault) AS errors,
  count_if(fault) AS faults,
  count_if(throttle AND NOT fault) AS throttles,
  approx_percentile(duration, 0.95) AS p95,
  dt,
  -- The hour partition (a bucket never spans two), so a scheduled run reading its last few buckets
  -- prunes to one or two hour folders instead of the whole day.
  hour
FROM segments
WHERE kind IN ('segment', 'inferred')
  AND (caller_service IS NULL OR caller_service <> service)
GROUP BY service, date_trunc('minute', start_time) - (minute(start_time) % 5) * INTERVAL '1' MINUTE, dt, hour
