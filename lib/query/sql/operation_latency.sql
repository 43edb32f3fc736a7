-- The slowest operations: each service's subsegments by name (DynamoDB GetItem, an HTTP call, a custom
-- subsegment) per hour. Sort by p95 to find where time goes inside a service.
SELECT
  service,
  name AS operation,
  aws_operation,
  date_trunc('hour', start_time) AS hour,
  count(*) AS calls,
  approx_percentile(duration, 0.50) AS p50,
  approx_percentile(duration, 0.95) AS p95,
  approx_percentile(duration, 0.99) AS p99,
  count_if(fault) AS faults,
  dt
FROM segments
WHERE kind = 'subsegment'
  AND duration IS NOT NULL
GROUP BY service, name, aws_operation, date_trunc('hour', start_time), dt
