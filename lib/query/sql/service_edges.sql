-- The service graph per hour: each edge is a caller's call to a service that answered it (a traced
-- service's segment, or the node X-Ray infers for an aws/remote call), with the callee's outcomes.
SELECT
  caller_service AS caller,
  service AS callee,
  date_trunc('hour', start_time) AS hour,
  count(*) AS calls,
  approx_percentile(duration, 0.95) AS p95,
  count_if((error OR throttle) AND NOT fault) AS errors,
  count_if(fault) AS faults,
  count_if(throttle AND NOT fault) AS throttles,
  dt
FROM segments
WHERE kind IN ('segment', 'inferred')
  AND caller_service IS NOT NULL
  AND caller_service <> service
GROUP BY caller_service, service, date_trunc('hour', start_time), dt
