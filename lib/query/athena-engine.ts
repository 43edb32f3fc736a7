import {
  AthenaClient,
  GetQueryExecutionCommand,
  type GetQueryResultsCommandOutput,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { QueryEngine, QueryStats, Row } from './engine.js';
import { QueryFailedError } from './errors.js';

/** GetQueryResults returns at most 1,000 rows a page (API reference, `MaxResults`). */
export const ATHENA_MAX_RESULTS_PER_PAGE = 1000;
/** Athena bills $5 per TB scanned, with a 10 MB minimum per query (Athena pricing, SQL queries). */
export const ATHENA_USD_PER_TB = 5;
export const ATHENA_MIN_BILLED_BYTES = 10 * 1024 * 1024;

export interface AthenaEngineOptions {
  workgroup: string;
  database: string;
  /** s3:// location for results, unless the workgroup enforces its own. */
  outputLocation?: string;
  /** Polling: first delay, growth, cap (ms). */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** A query running longer than this is reported as failed (it keeps running in Athena). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Athena: the engine that scales past one machine. Starts the query in the workgroup and database, polls
 * GetQueryExecution with exponential backoff, reads GetQueryResults 1,000 rows a page, and decodes the
 * values by the result's column types. FAILED and CANCELLED become {@link QueryFailedError} with Athena's
 * reason; bytes scanned and the cost at list price come back in the stats.
 */
export class AthenaEngine implements QueryEngine {
  readonly name = 'athena';

  constructor(
    private readonly options: AthenaEngineOptions,
    private readonly client: AthenaClient = new AthenaClient({}),
  ) {}

  async query(sql: string): Promise<{ rows: Row[]; stats: QueryStats }> {
    const started = performance.now();
    const sleep =
      this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const { QueryExecutionId: id } = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.options.workgroup,
        QueryExecutionContext: { Database: this.options.database },
        ...(this.options.outputLocation && {
          ResultConfiguration: { OutputLocation: this.options.outputLocation },
        }),
      }),
    );
    if (!id) throw new QueryFailedError(sql, 'Athena returned no QueryExecutionId');

    let delay = this.options.pollInitialMs ?? 200;
    let scanned = 0;
    for (;;) {
      const { QueryExecution: execution } = await this.client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
      );
      const state = execution?.Status?.State;
      scanned = execution?.Statistics?.DataScannedInBytes ?? 0;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason =
          execution?.Status?.AthenaError?.ErrorMessage ?? execution?.Status?.StateChangeReason ?? state;
        throw new QueryFailedError(sql, `${state}: ${reason} (query ${id})`);
      }
      if (this.options.timeoutMs !== undefined && performance.now() - started > this.options.timeoutMs)
        throw new QueryFailedError(sql, `still ${state} after ${this.options.timeoutMs} ms (query ${id})`);
      await sleep(delay);
      delay = Math.min(this.options.pollMaxMs ?? 5_000, delay * 2);
    }

    const rows: Row[] = [];
    let columns: { name: string; type: string }[] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page: GetQueryResultsCommandOutput = await this.client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          MaxResults: ATHENA_MAX_RESULTS_PER_PAGE,
          ...(token && { NextToken: token }),
        }),
      );
      if (first)
        columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
          name: c.Name ?? '',
          type: c.Type ?? 'varchar',
        }));
      // The first row of the first page repeats the column names (for SELECT statements).
      const data = (page.ResultSet?.Rows ?? []).slice(
        first && sql.trimStart().match(/^(select|with)\b/i) ? 1 : 0,
      );
      for (const row of data) {
        const out: Row = {};
        (row.Data ?? []).forEach((datum, i) => {
          const column = columns[i]!;
          out[column.name] = decode(datum.VarCharValue, column.type);
        });
        rows.push(out);
      }
      first = false;
      token = page.NextToken;
    } while (token);

    const billed = Math.max(scanned, ATHENA_MIN_BILLED_BYTES);
    return {
      rows,
      stats: {
        engine: this.name,
        seconds: (performance.now() - started) / 1000,
        bytesScanned: scanned,
        costUsd: (billed / 1e12) * ATHENA_USD_PER_TB,
      },
    };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** Athena returns every value as text; its column type says what it was. */
function decode(value: string | undefined, type: string): Row[string] {
  if (value === undefined) return null;
  switch (type) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'bigint':
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return Number(value);
    case 'boolean':
      return value === 'true';
    case 'timestamp':
    case 'timestamp with time zone':
      return new Date(`${value.replace(' ', 'T').replace(/ UTC$/, '')}Z`.replace(/ZZ$/, 'Z')).toISOString();
    default:
      return value;
  }
}
