-- Which service X-Ray's analysis blames (the farthest-downstream faulting service) per hour, and how many
-- of those traces reached the client as a fault.
SELECT
  fault_root_cause_service AS service,
  date_trunc('hour', start_time) AS hour,
  count(*) AS traces,
  count_if(has_fault) AS client_impacting,
  dt
FROM traces
WHERE fault_root_cause_service IS NOT NULL
GROUP BY fault_root_cause_service, date_trunc('hour', start_time), dt
