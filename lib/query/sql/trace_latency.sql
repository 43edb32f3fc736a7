-- End-to-end latency (the entry segment's response time) and fault rate by entry service per hour.
SELECT
  entry_service,
  date_trunc('hour', start_time) AS hour,
  count(*) AS traces,
  approx_percentile(response_time, 0.50) AS p50,
  approx_percentile(response_time, 0.95) AS p95,
  approx_percentile(response_time, 0.99) AS p99,
  CAST(count_if(has_fault) AS double) / count(*) AS fault_rate,
  dt
FROM traces
WHERE entry_service IS NOT NULL
GROUP BY entry_service, date_trunc('hour', start_time), dt
