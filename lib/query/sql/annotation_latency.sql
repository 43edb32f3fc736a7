-- End-to-end latency and fault rate by each trace annotation (key and value) per hour: which tenant, plan
-- or endpoint is slow or failing. Filter on `annotation`: a high-cardinality key (a request id) makes a
-- group per value.
SELECT
  a.key AS annotation,
  element_at(t.annotations, a.key) AS value,
  t.entry_service,
  date_trunc('hour', t.start_time) AS hour,
  count(*) AS traces,
  approx_percentile(t.response_time, 0.50) AS p50,
  approx_percentile(t.response_time, 0.95) AS p95,
  CAST(count_if(t.has_fault) AS double) / count(*) AS fault_rate,
  t.dt
FROM traces t
CROSS JOIN UNNEST(map_keys(t.annotations)) AS a (key)
GROUP BY a.key, element_at(t.annotations, a.key), t.entry_service, date_trunc('hour', t.start_time), t.dt
