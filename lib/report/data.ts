import { type Evaluation, outcomeText } from '../insights/evaluate.js';
import type { InsightEntry } from '../insights/events.js';
import type { LabelFile } from '../local/simulator/simulate.js';
import type { QueryEngine, Row } from '../query/engine.js';

/** Everything the HTML report shows, as plain JSON-able data (it is embedded in the page). */
export interface ReportData {
  generatedAt: string;
  from: string;
  to: string;
  lakeRoot: string;
  traces: number;
  /** Over the period, from the contract views: the median hourly p95 (s) and the outcome percentages. */
  services: {
    service: string;
    requests: number;
    p95: number | null;
    faultPct: number;
    errorPct: number;
    throttlePct: number;
  }[];
  edges: { caller: string; callee: string; calls: number; faults: number }[];
  /** Hourly p95 (s) and fault rate (%) per service, from the service_latency and service_faults views. */
  series: { service: string; hours: number[]; p95: (number | null)[]; faultRate: (number | null)[] }[];
  insights: ReportInsight[];
  incidents: {
    name: string;
    service: string;
    category: string;
    start: string;
    end: string;
    outcome: string;
  }[];
  scores?: { recall: number; precision: number; medianDelayBuckets: number | null; decoysAlerted: number };
  waterfall?: { traceId: string; why: string; segments: WaterfallSegment[] };
}

export interface ReportInsight {
  id: string;
  state: 'ACTIVE' | 'CLOSED';
  root: string;
  categories: string[];
  start: string;
  end?: string;
  summary: string;
  services: string[];
  samples: string[];
  events: number;
  /** Against the labels: which incident it detected, or that it detected none. */
  verdict?: string;
}

export interface WaterfallSegment {
  id: string;
  parent: string | null;
  name: string;
  service: string;
  kind: string;
  depth: number;
  start: number;
  end: number;
  fault: boolean;
  error: boolean;
  throttle: boolean;
}

const num = (value: Row[string] | undefined) =>
  value === null || value === undefined ? null : Number(value);

/**
 * Reads what the report needs from the lake through the views (so the same code would read an Athena
 * lake), folds the insight events into one row per insight, and picks a trace for the waterfall: a sample
 * trace of the first insight, else the slowest trace of the period.
 */
export async function collectReportData(
  engine: QueryEngine,
  input: {
    lakeRoot: string;
    from: number;
    to: number;
    entries: readonly InsightEntry[];
    labels?: LabelFile;
    evaluation?: Evaluation;
  },
): Promise<ReportData> {
  const { rows: totals } = await engine.query('SELECT count(*) AS traces FROM traces');
  const { rows: services } = await engine.query(`
    SELECT f.service, sum(f.requests) AS requests, approx_percentile(l.p95, 0.5) AS p95,
           100.0 * sum(f.faults) / sum(f.requests) AS fault_pct, 100.0 * sum(f.errors) / sum(f.requests) AS error_pct,
           100.0 * sum(f.throttles) / sum(f.requests) AS throttle_pct
    FROM service_faults f LEFT JOIN service_latency l ON l.service = f.service AND l.hour = f.hour
    GROUP BY f.service ORDER BY requests DESC`);
  const { rows: edges } = await engine.query(
    'SELECT caller, callee, sum(calls) AS calls, sum(faults) AS faults FROM service_edges GROUP BY caller, callee',
  );
  const { rows: hourly } = await engine.query(`
    SELECT f.service, to_unixtime(f.hour) AS hour, l.p95, f.fault_rate
    FROM service_faults f LEFT JOIN service_latency l ON l.service = f.service AND l.hour = f.hour
    ORDER BY f.service, f.hour`);
  const series = new Map<string, ReportData['series'][number]>();
  for (const r of hourly) {
    const service = String(r.service);
    const s = series.get(service) ?? { service, hours: [], p95: [], faultRate: [] };
    series.set(service, s);
    s.hours.push(Number(r.hour));
    s.p95.push(num(r.p95));
    const rate = num(r.fault_rate);
    s.faultRate.push(rate === null ? null : 100 * rate);
  }

  const verdicts = new Map<string, string>();
  for (const outcome of input.evaluation?.incidents ?? [])
    for (const id of outcome.insightIds)
      verdicts.set(
        id,
        outcome.decoy ? `false alarm on decoy “${outcome.name}”` : `detected “${outcome.name}”`,
      );
  const byId = new Map<string, ReportInsight>();
  for (const e of input.entries) {
    const d = e.Detail;
    const seen = byId.get(d.InsightId);
    byId.set(d.InsightId, {
      id: d.InsightId,
      state: d.State,
      root: d.RootCauseServiceId.Name,
      categories: d.Categories,
      start: d.StartTime,
      ...(d.EndTime && { end: d.EndTime }),
      summary: d.Summary,
      services: d.TopAnomalousServices.map((s) => s.ServiceId.Name),
      samples: d.SampleTraceIds.length ? d.SampleTraceIds : (seen?.samples ?? []),
      events: (seen?.events ?? 0) + 1,
      ...(input.evaluation && { verdict: verdicts.get(d.InsightId) ?? 'no labelled incident' }),
    });
  }
  const insights = [...byId.values()];

  let waterfall: ReportData['waterfall'];
  // Prefer an insight that found a labelled incident: its trace shows what the incident did.
  const withSamples = insights.filter((i) => i.samples.length > 0);
  const sample = withSamples.find((i) => i.verdict?.startsWith('detected')) ?? withSamples[0];
  let traceId = sample?.samples[0];
  let why = sample ? `a sample trace of the insight on ${sample.root} (${sample.categories.join(', ')})` : '';
  if (!traceId) {
    const { rows } = await engine.query('SELECT trace_id FROM traces ORDER BY duration DESC LIMIT 1');
    traceId = rows[0]?.trace_id as string | undefined;
    why = 'the slowest trace of the period';
  }
  if (traceId) {
    const { rows } = await engine.query(`
      SELECT id, parent_id, name, service, kind, depth, to_unixtime(start_time) AS s, to_unixtime(end_time) AS e,
             fault, error, throttle
      FROM segments WHERE trace_id = '${traceId.replaceAll("'", "''")}' ORDER BY start_time, depth`);
    waterfall = {
      traceId,
      why,
      segments: rows.map((r) => ({
        id: String(r.id),
        parent: r.parent_id === null ? null : String(r.parent_id),
        name: String(r.name),
        service: String(r.service),
        kind: String(r.kind),
        depth: Number(r.depth),
        start: Number(r.s),
        end: r.e === null ? Number(r.s) : Number(r.e),
        fault: r.fault === true,
        error: r.error === true,
        throttle: r.throttle === true,
      })),
    };
  }

  return {
    generatedAt: new Date().toISOString(),
    from: new Date(input.from * 1000).toISOString(),
    to: new Date(input.to * 1000).toISOString(),
    lakeRoot: input.lakeRoot,
    traces: Number(totals[0]?.traces ?? 0),
    services: services.map((r) => ({
      service: String(r.service),
      requests: Number(r.requests),
      p95: num(r.p95),
      faultPct: Number(r.fault_pct),
      errorPct: Number(r.error_pct),
      throttlePct: Number(r.throttle_pct),
    })),
    edges: edges.map((r) => ({
      caller: String(r.caller),
      callee: String(r.callee),
      calls: Number(r.calls),
      faults: Number(r.faults),
    })),
    series: [...series.values()],
    insights,
    incidents: (input.labels?.incidents ?? []).map((incident, i) => {
      const o = input.evaluation?.incidents[i];
      return {
        name: incident.name,
        service: incident.service,
        category: incident.category,
        start: incident.start,
        end: incident.end,
        outcome: o ? outcomeText(o) : '',
      };
    }),
    ...(input.evaluation && {
      scores: {
        recall: input.evaluation.recall,
        precision: input.evaluation.precision,
        medianDelayBuckets: input.evaluation.medianDelayBuckets,
        decoysAlerted: input.evaluation.decoysAlerted,
      },
    }),
    ...(waterfall && { waterfall }),
  };
}
