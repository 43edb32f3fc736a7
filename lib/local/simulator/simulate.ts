import { writeFile } from 'node:fs/promises';
import { PutTraceSegmentsCommand, type XRayClient } from '@aws-sdk/client-xray';
import { withRetries } from '../../retry.js';
import { PUT_TRACE_SEGMENTS_BATCH } from '../../xray/limits.js';
import { LocalServiceError } from '../errors.js';
import { TrafficGenerator } from './generate.js';
import { type ResolvedIncident, resolveIncidents, type Scenario } from './scenario.js';

/** What one simulation run is asked to do. */
export interface SimulateOptions {
  scenario: Scenario;
  /** Epoch seconds, inclusive. */
  from: number;
  /** Epoch seconds, exclusive. */
  to: number;
  seed: number;
  /** Where the incidents are written as labels; none when absent. */
  labelsPath?: string;
  /** Documents per PutTraceSegments call (the X-Ray daemon sends 50). */
  batchSize?: number;
  /** Calls in flight at once. */
  concurrency?: number;
  /** Attempts per batch on throttling and 5xx before the run fails. */
  maxAttempts?: number;
  onProgress?: (progress: SimulateProgress) => void;
}

export interface SimulateProgress {
  /** Simulated time reached, epoch seconds. */
  reached: number;
  traces: number;
  documents: number;
}

/** What a run did; also the command's JSON output. */
export interface SimulateReport {
  scenario: string;
  seed: number;
  from: string;
  to: string;
  traces: number;
  documents: number;
  calls: number;
  retries: number;
  unprocessed: number;
  seconds: number;
  tracesPerSecond: number;
  labels: LabelFile;
}

/** The labels file: the incidents of a run, placed in time, for scoring detectors. */
export interface LabelFile {
  scenario: string;
  seed: number;
  from: string;
  to: string;
  incidents: {
    name: string;
    service: string;
    node: string;
    category: ResolvedIncident['category'];
    start: string;
    end: string;
    magnitude: number;
    shape: 'step' | 'ramp';
    decoy: boolean;
  }[];
}

/** Builds the labels of the incidents that overlap [from, to). */
export function labelsFor(scenario: Scenario, seed: number, from: number, to: number): LabelFile {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  return {
    scenario: scenario.name,
    seed,
    from: iso(from),
    to: iso(to),
    incidents: resolveIncidents(scenario, from, to)
      .filter((incident) => incident.endTime > from && incident.startTime < to)
      .map((incident) => ({
        name: incident.name,
        service: incident.xrayService,
        node: incident.service,
        category: incident.category,
        start: iso(incident.startTime),
        end: iso(incident.endTime),
        magnitude: incident.magnitude,
        shape: incident.shape ?? 'step',
        decoy: incident.decoy === true,
      })),
  };
}

/**
 * Generates the scenario's traffic over [from, to) and writes it to an X-Ray endpoint with PutTraceSegments,
 * batched, with bounded concurrency and backoff on throttling. Streams minute by minute: memory does not
 * grow with the range.
 */
export async function simulate(client: XRayClient, options: SimulateOptions): Promise<SimulateReport> {
  const { scenario, from, to, seed } = options;
  if (!(to > from))
    throw new LocalServiceError(`--to must be after --from (got ${options.from} → ${options.to})`);
  const batchSize = options.batchSize ?? PUT_TRACE_SEGMENTS_BATCH;
  const concurrency = options.concurrency ?? 8;
  const maxAttempts = options.maxAttempts ?? 8;
  const labels = labelsFor(scenario, seed, from, to);
  const generator = new TrafficGenerator(scenario, resolveIncidents(scenario, from, to), seed);
  const started = performance.now();

  let traces = 0;
  let documents = 0;
  let calls = 0;
  const stats = { throttles: 0, serverErrors: 0, retries: 0 };
  let unprocessed = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const retry = { maxAttempts, baseDelayMs: 50, maxDelayMs: 2_000 };
  const send = async (batch: string[]) => {
    const result = await withRetries(
      'PutTraceSegments',
      () => {
        calls++;
        return client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: batch }));
      },
      retry,
      stats,
    );
    unprocessed += result.UnprocessedTraceSegments?.length ?? 0;
  };
  const dispatch = async (batch: string[]) => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    const promise = send(batch)
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(promise));
    inFlight.add(promise);
  };

  let batch: string[] = [];
  const firstMinute = Math.floor(from / 60);
  const lastMinute = Math.ceil(to / 60);
  for (let minute = firstMinute; minute < lastMinute; minute++) {
    for (const trace of generator.minute(minute)) {
      if (trace.start < from || trace.start >= to) continue;
      traces++;
      for (const document of trace.documents) {
        batch.push(JSON.stringify(document));
        documents++;
        if (batch.length >= batchSize) {
          await dispatch(batch);
          batch = [];
        }
      }
    }
    if (minute % 60 === 0)
      options.onProgress?.({ reached: Math.min(to, (minute + 1) * 60), traces, documents });
  }
  if (batch.length > 0) await dispatch(batch);
  await Promise.all(inFlight);
  if (failure) throw failure;
  options.onProgress?.({ reached: to, traces, documents });

  if (options.labelsPath) await writeFile(options.labelsPath, `${JSON.stringify(labels, null, 2)}\n`);
  const seconds = (performance.now() - started) / 1000;
  return {
    scenario: scenario.name,
    seed,
    from: labels.from,
    to: labels.to,
    traces,
    documents,
    calls,
    retries: stats.retries,
    unprocessed,
    seconds: Math.round(seconds * 1000) / 1000,
    tracesPerSecond: Math.round(traces / Math.max(seconds, 1e-9)),
    labels,
  };
}
