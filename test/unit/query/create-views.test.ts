import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AthenaEngine } from '../../../lib/query/athena-engine.js';
import { AthenaConfigError, athenaConfigFromEnv } from '../../../lib/query/config.js';
import { createViews, dropViews, viewsDigest } from '../../../lib/query/create-views.js';
import { DuckDbEngine } from '../../../lib/query/duckdb-engine.js';
import { VIEWS, viewSql } from '../../../lib/query/views.js';

const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());

function athenaEngine() {
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q' });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  athena
    .on(GetQueryResultsCommand)
    .resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [] }, Rows: [] } });
  return new AthenaEngine(
    { workgroup: 'xray-lake', database: 'xray_lake', sleep: async () => {} },
    new AthenaClient({ region: 'us-east-1' }),
  );
}

describe('the views custom resource’s logic', () => {
  it('sends CREATE OR REPLACE VIEW for every view, in order, in the workgroup and database', async () => {
    expect(await createViews(athenaEngine())).toEqual([...VIEWS]);
    const sent = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(sent.map((s) => s.QueryString)).toEqual(
      VIEWS.map((v) => `CREATE OR REPLACE VIEW ${v} AS\n${viewSql(v)}`),
    );
    for (const s of sent)
      expect(s).toMatchObject({ WorkGroup: 'xray-lake', QueryExecutionContext: { Database: 'xray_lake' } });
  });

  it('drops the views in reverse order, tolerating ones already gone', async () => {
    await dropViews(athenaEngine());
    const sent = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.QueryString);
    expect(sent).toEqual([...VIEWS].reverse().map((v) => `DROP VIEW IF EXISTS ${v}`));
  });

  it('runs the same statements on DuckDB, and running them twice is harmless', async () => {
    const engine = await DuckDbEngine.open('/nonexistent-lake-for-views');
    try {
      await createViews(engine);
      await createViews(engine);
      const { rows } = await engine.query('SELECT count(*) AS n FROM service_latency');
      expect(rows[0]!.n).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('has a digest that changes exactly when a view’s SQL does', () => {
    expect(viewsDigest()).toBe(viewsDigest());
    expect(viewsDigest()).toMatch(/^[0-9a-f]{64}$/);
    expect(viewsDigest(VIEWS.slice(1))).not.toBe(viewsDigest());
  });
});

describe('athenaConfigFromEnv', () => {
  it('defaults to the stack’s names and names a bad variable', () => {
    expect(athenaConfigFromEnv({})).toEqual({ workgroup: 'xray-lake', database: 'xray_lake' });
    expect(() => athenaConfigFromEnv({ ATHENA_DATABASE: 'Has-Caps' })).toThrow(
      /^ATHENA_DATABASE: "Has-Caps" is not a valid Glue database name$/,
    );
    expect(() => athenaConfigFromEnv({ ATHENA_WORKGROUP: 'a b' })).toThrow(AthenaConfigError);
  });
});
