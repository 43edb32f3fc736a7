import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRange } from '../../lib/export/run.js';
import { readBuckets, readEdgeBuckets } from '../../lib/insights/lake.js';
import { SCENARIOS } from '../../lib/local/simulator/scenario.js';
import { simulate } from '../../lib/local/simulator/simulate.js';
import { DuckDbEngine } from '../../lib/query/duckdb-engine.js';
import type { Row } from '../../lib/query/engine.js';
import { FsStore } from '../../lib/store/fs-store.js';
import type { AssembledTrace } from '../../lib/xray/assemble.js';
import { rootSegment, summarizeTrace } from '../../lib/xray/summary.js';
import type { EntityFields, SegmentDocument } from '../../lib/xray/types.js';
import { XRayTraceSource } from '../../lib/xray/xray-source.js';
import { healthy, percentile } from '../helpers/buckets.js';
import { runCli } from '../helpers/cli.js';
import { startLocalXRay, xrayClient } from '../helpers/local-xray.js';

const FROM = Date.UTC(2026, 10, 21, 14) / 1000;
const TO = FROM + 2 * 3600;

/** The lake's precision: times in ms, durations in µs. */
const hourOf = (seconds: number) =>
  new Date(Math.floor(Math.round(seconds * 1000) / 3_600_000) * 3_600_000).toISOString();
const durationOf = (d: EntityFields) => Math.round((d.end_time! - d.start_time) * 1e6) / 1e6;

/**
 * The views' numbers computed independently, from the source's traces (as xray-local serves them), with
 * the rules DESIGN.md states: nodes are segments and inferred segments; a node called by its own service is
 * the same request; fault beats error; throttles are errors.
 */
function expected(traces: AssembledTrace[]) {
  const nodes: {
    service: string;
    caller: string | null;
    hour: string;
    /** The 5-minute bucket, epoch seconds. */
    bucket: number;
    duration: number;
    fault: boolean;
    error: boolean;
    throttle: boolean;
  }[] = [];
  for (const trace of traces) {
    const all: SegmentDocument[] = [...trace.segments, ...trace.orphans, ...trace.inferred];
    const serviceOf = new Map<string, string>();
    const own = (e: EntityFields, service: string) => {
      serviceOf.set(e.id, service);
      for (const c of e.subsegments ?? []) own(c, service);
    };
    for (const d of all) own(d, d.name);
    for (const d of all) {
      if (d.type === 'subsegment') continue;
      const caller = d.parent_id ? (serviceOf.get(d.parent_id) ?? null) : null;
      if (caller === d.name) continue;
      nodes.push({
        service: d.name,
        caller,
        hour: hourOf(d.start_time),
        bucket: Math.floor(Math.round(d.start_time * 1000) / 300_000) * 300,
        duration: durationOf(d),
        fault: d.fault === true,
        error: d.error === true,
        throttle: d.throttle === true,
      });
    }
  }
  const group = <T>(items: T[], key: (t: T) => string) => {
    const map = new Map<string, T[]>();
    for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
    return map;
  };
  const latency = [...group(nodes, (n) => `${n.service}|${n.hour}`)].map(([key, ns]) => {
    const d = ns.map((n) => n.duration);
    return {
      key,
      requests: ns.length,
      p50: percentile(d, 0.5),
      p90: percentile(d, 0.9),
      p95: percentile(d, 0.95),
      p99: percentile(d, 0.99),
      max: Math.max(...d),
    };
  });
  const buckets = [...group(nodes, (n) => `${n.service}|${n.bucket}`)].map(([key, ns]) => {
    const { requests, p50, p95, latencyBins } = healthy(ns.map((n) => n.duration));
    return { key, requests, p50, p95, bins: JSON.parse(latencyBins!) as Record<string, number> };
  });
  const faults = [...group(nodes, (n) => `${n.service}|${n.hour}`)].map(([key, ns]) => ({
    key,
    requests: ns.length,
    ok: ns.filter((n) => !n.fault && !n.error && !n.throttle).length,
    errors: ns.filter((n) => (n.error || n.throttle) && !n.fault).length,
    faults: ns.filter((n) => n.fault).length,
    throttles: ns.filter((n) => n.throttle && !n.fault).length,
  }));
  const edges = [
    ...group(
      nodes.filter((n) => n.caller !== null),
      (n) => `${n.caller}|${n.service}|${n.hour}`,
    ),
  ].map(([key, ns]) => ({
    key,
    calls: ns.length,
    p95: percentile(
      ns.map((n) => n.duration),
      0.95,
    ),
    faults: ns.filter((n) => n.fault).length,
  }));
  const entries = traces.map((t) => {
    const root = rootSegment(t)!;
    return {
      key: `${root.name}|${hourOf(root.start_time)}`,
      response: durationOf(root),
      fault: root.fault === true,
    };
  });
  const traceLatency = [...group(entries, (e) => e.key)].map(([key, es]) => ({
    key,
    traces: es.length,
    p50: percentile(
      es.map((e) => e.response),
      0.5,
    ),
    p99: percentile(
      es.map((e) => e.response),
      0.99,
    ),
    fault_rate: es.filter((e) => e.fault).length / es.length,
  }));
  // Subsegments by service and name: every embedded or attached subsegment with an end time.
  const operations: { key: string; duration: number; fault: boolean }[] = [];
  const visit = (e: EntityFields, service: string) => {
    for (const sub of e.subsegments ?? []) {
      if (sub.end_time !== undefined)
        operations.push({
          key: `${service}|${sub.name}|${sub.aws?.operation ?? ''}|${hourOf(sub.start_time)}`,
          duration: durationOf(sub),
          fault: sub.fault === true,
        });
      visit(sub, service);
    }
  };
  for (const trace of traces)
    for (const d of [...trace.segments, ...trace.orphans, ...trace.inferred]) visit(d, d.name);
  const operationLatency = [...group(operations, (o) => o.key)].map(([key, os]) => ({
    key,
    calls: os.length,
    p95: percentile(
      os.map((o) => o.duration),
      0.95,
    ),
    faults: os.filter((o) => o.fault).length,
  }));
  // Root causes as X-Ray's analysis names them (lib/xray/summary.ts, tested against X-Ray's own output).
  const causes = traces.flatMap((t) => {
    const summary = summarizeTrace(t);
    const name = summary.FaultRootCauses[0]?.Services?.[0]?.Name;
    return name
      ? [{ key: `${name}|${hourOf(rootSegment(t)!.start_time)}`, impacting: summary.HasFault }]
      : [];
  });
  const rootCauses = [...group(causes, (c) => c.key)].map(([key, cs]) => ({
    key,
    traces: cs.length,
    client_impacting: cs.filter((c) => c.impacting).length,
  }));
  const tenants = traces.flatMap((t) => {
    const root = rootSegment(t)!;
    const tenant = root.annotations?.tenant;
    return tenant === undefined
      ? []
      : [{ key: `${tenant}|${root.name}|${hourOf(root.start_time)}`, response: durationOf(root) }];
  });
  const byTenant = [...group(tenants, (t) => t.key)].map(([key, ts]) => ({
    key,
    traces: ts.length,
    p95: percentile(
      ts.map((t) => t.response),
      0.95,
    ),
  }));
  const edgeBuckets = [
    ...group(
      nodes.filter((n) => n.caller !== null),
      (n) => `${n.caller} -> ${n.service}|${n.bucket}`,
    ),
  ].map(([key, ns]) => ({
    key,
    requests: ns.length,
    faults: ns.filter((n) => n.fault).length,
    errors: ns.filter((n) => (n.error || n.throttle) && !n.fault).length,
    bins: JSON.parse(healthy(ns.map((n) => n.duration)).latencyBins!) as Record<string, number>,
  }));
  return {
    latency,
    buckets,
    edgeBuckets,
    faults,
    edges,
    traceLatency,
    operationLatency,
    rootCauses,
    byTenant,
  };
}

const byKey = (rows: Row[], ...columns: string[]) =>
  new Map(rows.map((r) => [columns.map((c) => r[c]).join('|'), r]));

describe('views on DuckDB over an exported lake', () => {
  let lake: string;
  let engine: DuckDbEngine;
  let want: ReturnType<typeof expected>;

  beforeAll(async () => {
    const local = await startLocalXRay();
    const client = xrayClient(local.endpoint);
    // The default scenario's incidents (faults, throttles, latency) all fall inside a 2-hour run.
    await simulate(client, {
      scenario: { ...SCENARIOS.default!, traffic: { ...SCENARIOS.default!.traffic, requestsPerMinute: 15 } },
      from: FROM,
      to: TO,
      seed: 6,
      batchSize: 250,
    });
    lake = await mkdtemp(join(tmpdir(), 'query-lake-'));
    await exportRange(
      { source: new XRayTraceSource(client), store: new FsStore(lake) },
      { from: FROM, to: TO },
    );
    want = expected(
      [...local.service.store.scan(FROM, TO, 'TraceId')].map(([id]) => local.service.store.assembled(id)!),
    );
    client.destroy();
    await local.service.stop();
    engine = await DuckDbEngine.open(lake);
  });
  afterAll(async () => {
    await engine?.close();
    await rm(lake, { recursive: true, force: true });
  });

  it('service_latency: requests exactly, percentiles by nearest rank', async () => {
    const rows = byKey((await engine.query('SELECT * FROM service_latency')).rows, 'service', 'hour');
    expect(rows.size).toBe(want.latency.length);
    for (const w of want.latency)
      expect(rows.get(w.key)).toMatchObject({
        requests: w.requests,
        p50: w.p50,
        p90: w.p90,
        p95: w.p95,
        p99: w.p99,
        max: w.max,
      });
  });

  it('service_buckets: requests, p50, p95 and the latency histogram the detector reads, per 5 minutes', async () => {
    const { rows } = await engine.query(
      'SELECT service, to_unixtime(bucket) AS bucket, requests, p50, p95, latency_bins, hour FROM service_buckets',
    );
    // A bucket at an hour's start may come in two rows, one per hour partition (the trace's start hour):
    // counts and histograms add up to the bucket's; quantiles are exact where a bucket is one row.
    const byBucket = new Map<string, Row[]>();
    for (const r of rows)
      byBucket.set(`${r.service}|${r.bucket}`, [...(byBucket.get(`${r.service}|${r.bucket}`) ?? []), r]);
    expect(byBucket.size).toBe(want.buckets.length);
    const add = (into: Record<string, number>, text: unknown) => {
      for (const [bin, n] of Object.entries(JSON.parse(String(text)) as Record<string, number>))
        into[bin] = (into[bin] ?? 0) + n;
      return into;
    };
    let split = 0;
    for (const w of want.buckets) {
      const parts = byBucket.get(w.key)!;
      expect(parts.reduce((sum, r) => sum + Number(r.requests), 0)).toBe(w.requests);
      // The SQL's bins are latencyBin's, request for request.
      expect(parts.reduce<Record<string, number>>((bins, r) => add(bins, r.latency_bins), {})).toEqual(
        w.bins,
      );
      if (parts.length === 1) expect(parts[0]).toMatchObject({ p50: w.p50, p95: w.p95 });
      else split++;
    }
    expect(split).toBeLessThan(want.buckets.length / 10);
    // readBuckets merges the split ones: one bucket per service and 5 minutes, counts and bins whole.
    const read = await readBuckets(engine);
    expect(read).toHaveLength(want.buckets.length);
    const wanted = new Map(want.buckets.map((w) => [w.key, w]));
    for (const b of read) {
      const w = wanted.get(`${b.service}|${b.bucket}`)!;
      expect(b.requests).toBe(w.requests);
      expect(JSON.parse(b.latencyBins!)).toEqual(w.bins);
    }
    // So does a scheduled run reading only a split bucket (partition filters to its hours): whole too.
    const splitKeys = [...byBucket].filter(([, parts]) => parts.length > 1).map(([key]) => key);
    expect(splitKeys.length).toBeGreaterThan(0);
    for (const key of splitKeys) {
      const [service, bucket] = [key.split('|')[0]!, Number(key.split('|')[1])];
      const alone = (await readBuckets(engine, bucket, bucket + 300)).find((b) => b.service === service);
      expect(alone?.requests).toBe(wanted.get(key)!.requests);
    }
  });

  it("edge_buckets: each caller's calls to each service per 5 minutes, read as edge series", async () => {
    const read = await readEdgeBuckets(engine);
    expect(read).toHaveLength(want.edgeBuckets.length);
    const wanted = new Map(want.edgeBuckets.map((w) => [w.key, w]));
    for (const b of read) {
      const w = wanted.get(`${b.service}|${b.bucket}`)!;
      expect(b).toMatchObject({ requests: w.requests, faults: w.faults, errors: w.errors });
      expect(JSON.parse(b.latencyBins!)).toEqual(w.bins);
    }
    expect(new Set(read.map((b) => b.service))).toContain('checkout -> DynamoDB');
  });

  it('service_faults: ok, errors and faults partition requests; throttles are errors', async () => {
    const rows = byKey((await engine.query('SELECT * FROM service_faults')).rows, 'service', 'hour');
    expect(rows.size).toBe(want.faults.length);
    for (const w of want.faults) {
      const row = rows.get(w.key)!;
      expect(row).toMatchObject(
        w.key
          ? { requests: w.requests, ok: w.ok, errors: w.errors, faults: w.faults, throttles: w.throttles }
          : {},
      );
      expect(row.fault_rate).toBeCloseTo(w.faults / w.requests, 12);
    }
    expect(want.faults.reduce((n, w) => n + w.faults, 0)).toBeGreaterThan(20);
    expect(want.faults.reduce((n, w) => n + w.throttles, 0)).toBeGreaterThan(5);
  });

  it('service_edges: the service graph with call counts and fault counts', async () => {
    const rows = byKey((await engine.query('SELECT * FROM service_edges')).rows, 'caller', 'callee', 'hour');
    expect(rows.size).toBe(want.edges.length);
    for (const w of want.edges)
      expect(rows.get(w.key)).toMatchObject({ calls: w.calls, p95: w.p95, faults: w.faults });
    const pairs = new Set(want.edges.map((e) => e.key.split('|').slice(0, 2).join(' → ')));
    expect([...pairs].sort()).toEqual([
      'SQS → fulfillment-worker',
      'admin-api → reports',
      'checkout → DynamoDB',
      'checkout → SQS',
      'checkout → payments',
      'fulfillment-worker → DynamoDB',
      'payments → cards.example.net',
      'shop-api/prod → checkout',
    ]);
  });

  it('trace_latency: end-to-end response time and fault rate by entry service', async () => {
    const rows = byKey((await engine.query('SELECT * FROM trace_latency')).rows, 'entry_service', 'hour');
    expect(rows.size).toBe(want.traceLatency.length);
    for (const w of want.traceLatency) {
      expect(rows.get(w.key)).toMatchObject({ traces: w.traces, p50: w.p50, p99: w.p99 });
      expect(rows.get(w.key)!.fault_rate).toBeCloseTo(w.fault_rate, 12);
    }
  });

  it('operation_latency and fault_root_causes: the slowest operations and the blamed services', async () => {
    const operations = (await engine.query('SELECT * FROM operation_latency')).rows;
    const byOperation = new Map(
      operations.map((r) => [`${r.service}|${r.operation}|${r.aws_operation ?? ''}|${r.hour}`, r]),
    );
    expect(byOperation.size).toBe(want.operationLatency.length);
    for (const w of want.operationLatency)
      expect(byOperation.get(w.key)).toMatchObject({ calls: w.calls, p95: w.p95, faults: w.faults });
    const causes = byKey((await engine.query('SELECT * FROM fault_root_causes')).rows, 'service', 'hour');
    expect(causes.size).toBe(want.rootCauses.length);
    for (const w of want.rootCauses)
      expect(causes.get(w.key)).toMatchObject({ traces: w.traces, client_impacting: w.client_impacting });
    expect([...causes.keys()].some((key) => key.startsWith('checkout|'))).toBe(true);
  });

  it('annotation_latency: latency by annotation value (the tenant)', async () => {
    const rows = byKey(
      (await engine.query("SELECT * FROM annotation_latency WHERE annotation = 'tenant'")).rows,
      'value',
      'entry_service',
      'hour',
    );
    expect(rows.size).toBe(want.byTenant.length);
    for (const w of want.byTenant) expect(rows.get(w.key)).toMatchObject({ traces: w.traces, p95: w.p95 });
  });

  it('prunes partitions: a dt filter reads only that hour’s files', async () => {
    const plan = await engine.query(
      `EXPLAIN ANALYZE SELECT count(*) FROM segments WHERE dt = '2026-11-21' AND hour = '15'`,
    );
    const text = JSON.stringify(plan.rows);
    const all = (await engine.query('SELECT count(*) AS n FROM segments')).rows[0]!.n as number;
    const one = (
      await engine.query(`SELECT count(*) AS n FROM segments WHERE dt = '2026-11-21' AND hour = '15'`)
    ).rows[0]!.n as number;
    expect(one).toBeGreaterThan(0);
    expect(one).toBeLessThan(all);
    expect(text).toMatch(/Total Files Read: 1\b/);
  });

  it('answers through the command line as a table, JSON lines or CSV', async () => {
    const json = await runCli([
      'query',
      '--lake',
      lake,
      '--view',
      'service_faults',
      '--from',
      '2026-11-21T15:00:00Z',
      '--format',
      'json',
    ]);
    expect(json.code).toBe(0);
    const rows = json.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Row);
    expect(rows.every((r) => r.hour === '2026-11-21T15:00:00.000Z')).toBe(true);
    const csv = await runCli([
      'query',
      '--lake',
      lake,
      '--sql',
      'SELECT service, sum(requests) AS requests FROM service_latency GROUP BY 1 ORDER BY 1',
      '--format',
      'csv',
    ]);
    expect(csv.out.split('\n')[0]).toBe('service,requests');
    const bad = await runCli(['query', '--lake', lake, '--sql', 'SELECT nope FROM segments']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/query failed: Binder Error: .*nope/);
  });
});
