import type { BatchGetTracesCommandOutput, GetTraceSummariesCommandOutput } from '@aws-sdk/client-xray';

/**
 * The few fields the exporter reads from X-Ray's two read APIs, taken straight from the response's JSON.
 *
 * Why: the SDK deserializes a response by walking the operation's schema over every member, then (its
 * logger middleware) walks it again to filter sensitive members for a log line nobody writes. For
 * GetTraceSummaries that was ~200 µs of one core a summary (a summary is a deep structure: services, edges,
 * root causes, annotations, users, each with its own structs and timestamps; bench/README.md), more than the
 * exporter's whole own path a trace, for fields it throws away: it reads a summary's `Id`, `Revision` and
 * `StartTime` and builds its own summary from the documents. So for a successful response two middlewares
 * on the command (never the client) take the body's JSON, keep those fields, and hand the SDK's deserializer
 * `{}` instead; the output the caller sees has the same types, with only the fields it uses. Anything else
 * (an error status, a body that is not JSON) goes through the SDK untouched, so errors keep their classes
 * (`ThrottledException`...) and retries their decisions.
 */

/** A command's middleware stack, as much of it as this module adds to. */
interface CommandStack {
  middlewareStack: {
    add(middleware: unknown, options: { step: string; priority?: string; name?: string }): void;
  };
}
/** The SDK client's `config.streamCollector`: a response body stream to bytes. */
export type StreamCollector = (body: unknown) => Promise<Uint8Array>;

type Json = Record<string, unknown>;
const EMPTY_BODY = new TextEncoder().encode('{}');
const textDecoder = new TextDecoder();
/** Where the lean output waits on the command's context between the two middlewares. */
const LEAN = Symbol('xray-lake.leanOutput');

/**
 * Makes `command` (sent once, on a client whose `streamCollector` is given) return `pick` of its response's
 * JSON body as its output, when the response succeeded.
 */
export function leanOutput<O extends object>(
  command: CommandStack,
  streamCollector: StreamCollector,
  pick: (body: Json) => Partial<O>,
): void {
  // Innermost, beside the HTTP handler: it sees the raw response before the SDK's deserializer does.
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<{ response: unknown }>, context: Record<symbol, unknown>) =>
      async (args: unknown) => {
        const result = await next(args);
        const response = result.response as { statusCode?: number; body?: unknown };
        if (response?.statusCode !== 200 || response.body === undefined) return result;
        const bytes = await streamCollector(response.body);
        try {
          context[LEAN] = pick(JSON.parse(textDecoder.decode(bytes)) as Json);
          response.body = EMPTY_BODY;
        } catch {
          // Not the JSON it should be: the SDK's deserializer reads the bytes and says what is wrong.
          response.body = bytes;
        }
        return result;
      },
    { step: 'deserialize', priority: 'low', name: 'xrayLakeLeanBody' },
  );
  // Outermost: what the caller gets, the picked fields over the (empty) output the SDK built.
  command.middlewareStack.add(
    (next: (args: unknown) => Promise<{ output: object }>, context: Record<symbol, unknown>) =>
      async (args: unknown) => {
        const result = await next(args);
        const lean = context[LEAN] as Partial<O> | undefined;
        return lean ? { ...result, output: { ...result.output, ...lean } } : result;
      },
    { step: 'initialize', priority: 'high', name: 'xrayLakeLeanOutput' },
  );
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

/** GetTraceSummaries: each summary's `Id`, `Revision` and `StartTime` (epoch seconds on the wire), and `NextToken`. */
export function pickSummaries(body: Json): Partial<GetTraceSummariesCommandOutput> {
  return {
    TraceSummaries: list(body.TraceSummaries).map((s) => ({
      Id: text(s.Id),
      ...(typeof s.Revision === 'number' && { Revision: s.Revision }),
      // Rounded to the millisecond, as the SDK reads an epoch timestamp (1770000025.684 s is not exact in
      // binary, and truncating it would give .683).
      ...(typeof s.StartTime === 'number' && { StartTime: new Date(Math.round(s.StartTime * 1000)) }),
    })),
    ...(text(body.NextToken) && { NextToken: text(body.NextToken) }),
  };
}

/** BatchGetTraces: each trace's `Id`, `LimitExceeded` and segments (`Id`, `Document`), and the unprocessed ids. */
export function pickTraces(body: Json): Partial<BatchGetTracesCommandOutput> {
  return {
    Traces: list(body.Traces).map((t) => ({
      Id: text(t.Id),
      LimitExceeded: t.LimitExceeded === true,
      Segments: list(t.Segments).map((s) => ({ Id: text(s.Id), Document: text(s.Document) })),
    })),
    UnprocessedTraceIds: (Array.isArray(body.UnprocessedTraceIds) ? body.UnprocessedTraceIds : []).filter(
      (id): id is string => typeof id === 'string',
    ),
    ...(text(body.NextToken) && { NextToken: text(body.NextToken) }),
  };
}
