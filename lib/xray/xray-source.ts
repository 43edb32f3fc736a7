import { BatchGetTracesCommand, GetTraceSummariesCommand, XRayClient } from '@aws-sdk/client-xray';
import { leanOutput, pickSummaries, pickTraces, type StreamCollector } from './lean-output.js';
import { BATCH_GET_TRACES_MAX_IDS } from './limits.js';
import type { RawTrace, TimeRangeType, TraceRef, TraceSource } from './source.js';

/**
 * The X-Ray read client: GetTraceSummaries and BatchGetTraces through `@aws-sdk/client-xray`. Pass an
 * instrumented client from a handler, or one pointed at xray-local; by default the SDK's own retries are
 * off (`maxAttempts: 1`) because the exporter's fetcher retries with a view of all calls in flight.
 */
export class XRayTraceSource implements TraceSource {
  constructor(private readonly client: XRayClient = new XRayClient({ maxAttempts: 1 })) {}

  /**
   * Successful responses are read for the fields used here only (see lib/xray/lean-output.ts), where the
   * client has a stream collector (a real one has); a client stubbed at `send` gets the commands as they are.
   */
  private lean<C extends Parameters<typeof leanOutput>[0]>(
    command: C,
    pick: Parameters<typeof leanOutput>[2],
  ): C {
    const collector = (this.client.config as { streamCollector?: StreamCollector } | undefined)
      ?.streamCollector;
    if (collector) leanOutput(command, collector, pick);
    return command;
  }

  async listPage(window: { from: number; to: number; timeRangeType: TimeRangeType }, nextToken?: string) {
    const page = await this.client.send(
      this.lean(
        new GetTraceSummariesCommand({
          StartTime: new Date(window.from * 1000),
          EndTime: new Date(window.to * 1000),
          TimeRangeType: window.timeRangeType,
          ...(nextToken && { NextToken: nextToken }),
        }),
        pickSummaries,
      ),
    );
    const refs: TraceRef[] = (page.TraceSummaries ?? []).flatMap((s) =>
      s.Id ? [{ id: s.Id, revision: s.Revision ?? 0, startTime: (s.StartTime?.getTime() ?? 0) / 1000 }] : [],
    );
    return { refs, ...(page.NextToken && { nextToken: page.NextToken }) };
  }

  async batchGet(ids: readonly string[]) {
    if (ids.length > BATCH_GET_TRACES_MAX_IDS)
      throw new Error(`batchGet takes at most ${BATCH_GET_TRACES_MAX_IDS} ids, got ${ids.length}`);
    const result = await this.client.send(
      this.lean(new BatchGetTracesCommand({ TraceIds: [...ids] }), pickTraces),
    );
    const traces: RawTrace[] = (result.Traces ?? []).flatMap((t) =>
      t.Id
        ? [
            {
              id: t.Id,
              limitExceeded: t.LimitExceeded === true,
              documents: (t.Segments ?? []).map((s) => ({ id: s.Id ?? '', text: s.Document ?? '' })),
            },
          ]
        : [],
    );
    return { traces, unprocessed: result.UnprocessedTraceIds ?? [] };
  }
}
