-- Requests of each service per hour by outcome, as X-Ray's service statistics count them: ok, errors and
-- faults partition the requests (a request flagged fault counts as a fault only), and throttles (429) are
-- a subset of errors.
SELECT
  service,
  date_trunc('hour', start_time) AS hour,
  count(*) AS requests,
  count_if(NOT fault AND NOT error AND NOT throttle) AS ok,
  count_if((error OR throttle) AND NOT fault) AS errors,
  count_if(fault) AS faults,
  count_if(throttle AND NOT fault) AS throttles,
  CAST(count_if((error OR throttle) AND NOT fault) AS double) / count(*) AS error_rate,
  CAST(count_if(fault) AS double) / count(*) AS fault_rate,
  CAST(count_if(throttle AND NOT fault) AS double) / count(*) AS throttle_rate,
  dt
FROM segments
WHERE kind IN ('segment', 'inferred')
  AND (caller_service IS NULL OR caller_service <> service)
GROUP BY service, date_trunc('hour', start_time), dt
