-- Latency of each service per hour. A service is a segment's or inferred segment's name, as on X-Ray's
-- service map. A request is counted once per service: a segment called by its own service (the
-- AWS::Lambda::Function segment under its AWS::Lambda segment) is the same request seen twice.
SELECT
  service,
  date_trunc('hour', start_time) AS hour,
  count(*) AS requests,
  approx_percentile(duration, 0.50) AS p50,
  approx_percentile(duration, 0.90) AS p90,
  approx_percentile(duration, 0.95) AS p95,
  approx_percentile(duration, 0.99) AS p99,
  max(duration) AS max,
  dt
FROM segments
WHERE kind IN ('segment', 'inferred')
  AND duration IS NOT NULL
  AND (caller_service IS NULL OR caller_service <> service)
GROUP BY service, date_trunc('hour', start_time), dt
