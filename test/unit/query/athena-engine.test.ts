import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AthenaEngine } from '../../../lib/query/athena-engine.js';
import { QueryFailedError } from '../../../lib/query/errors.js';

const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());
const slept: number[] = [];
const engine = () =>
  new AthenaEngine(
    {
      workgroup: 'xray-lake',
      database: 'xray_lake',
      pollInitialMs: 100,
      pollMaxMs: 400,
      sleep: async (ms) => void slept.push(ms),
    },
    new AthenaClient({ region: 'us-east-1' }),
  );
const columns = [
  { Name: 'service', Type: 'varchar' },
  { Name: 'hour', Type: 'timestamp' },
  { Name: 'requests', Type: 'bigint' },
  { Name: 'p95', Type: 'double' },
  { Name: 'ok', Type: 'boolean' },
];
const row = (values: (string | undefined)[]) => ({
  Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })),
});

describe('AthenaEngine', () => {
  it('polls with backoff until SUCCEEDED, reads every page and decodes by column type', async () => {
    slept.length = 0;
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({
        QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 2e12 } },
      });
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: undefined })
      .resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: columns },
          Rows: [
            row(['service', 'hour', 'requests', 'p95', 'ok']),
            row(['payments', '2026-11-20 10:00:00.000', '1200', '0.25', 'true']),
          ],
        },
        NextToken: 'page-2',
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 'page-2' })
      .resolves({
        ResultSet: { Rows: [row(['checkout', '2026-11-20 10:00:00.000', '900', undefined, 'false'])] },
      });

    const { rows, stats } = await engine().query('SELECT * FROM service_latency');

    expect(rows).toEqual([
      { service: 'payments', hour: '2026-11-20T10:00:00.000Z', requests: 1200, p95: 0.25, ok: true },
      { service: 'checkout', hour: '2026-11-20T10:00:00.000Z', requests: 900, p95: null, ok: false },
    ]);
    expect(slept).toEqual([100, 200, 400, 400]);
    expect(stats).toMatchObject({ engine: 'athena', bytesScanned: 2e12, costUsd: 10 });
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(start).toMatchObject({ WorkGroup: 'xray-lake', QueryExecutionContext: { Database: 'xray_lake' } });
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.MaxResults)).toEqual([
      1000, 1000,
    ]);
  });

  it.each([
    [
      'FAILED',
      { AthenaError: { ErrorMessage: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved" } },
      /FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'nope'/,
    ],
    [
      'CANCELLED',
      { StateChangeReason: 'Query was cancelled by user' },
      /CANCELLED: Query was cancelled by user \(query q-2\)/,
    ],
  ])('turns %s into an error carrying Athena’s reason', async (state, status, message) => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athena
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: state as 'FAILED', ...status } } });
    const error = await engine()
      .query('SELECT nope FROM segments')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryFailedError);
    expect((error as Error).message).toMatch(message);
  });

  it('bills at least the 10 MB minimum', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-3' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 1000 } },
    });
    athena
      .on(GetQueryResultsCommand)
      .resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [] }, Rows: [] } });
    const { stats } = await engine().query('SELECT 1');
    expect(stats.costUsd).toBeCloseTo((10 * 1024 * 1024 * 5) / 1e12, 15);
  });
});
