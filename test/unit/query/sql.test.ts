import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import { COLUMNS } from '../../../lib/lake/schema.js';
import { athenaTableDdl } from '../../../lib/query/ddl.js';
import { DuckDbEngine } from '../../../lib/query/duckdb-engine.js';
import { createViewStatement, VIEWS, viewSql } from '../../../lib/query/views.js';
import { viewQuery } from '../../../lib/cli/commands/query.js';

const parser = new Parser();

describe('view SQL (Athena dialect)', () => {
  it.each(VIEWS)('%s parses as Trino SQL, alone and as CREATE OR REPLACE VIEW', (view) => {
    expect(() => parser.astify(viewSql(view), { database: 'trino' })).not.toThrow();
    expect(() => parser.astify(createViewStatement(view), { database: 'trino' })).not.toThrow();
  });

  it("computes edge_buckets' measures exactly as service_buckets does, so an edge and a service are judged alike", () => {
    // The detector judges both kinds of series with the same thresholds: the counting rules, quantiles and
    // histogram bins must be the same expressions (SQL has no include; this keeps the two files in step).
    const measures = (view: 'service_buckets' | 'edge_buckets') => {
      const code = viewSql(view)
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n');
      return code.slice(code.indexOf('count(*) AS requests'), code.indexOf('AS latency_bins'));
    };
    expect(measures('edge_buckets')).toContain('approx_percentile(duration, 0.95) AS p95');
    expect(measures('edge_buckets')).toBe(measures('service_buckets'));
  });

  it('catches a syntax error, so the check above can fail', () => {
    expect(() => parser.astify('SELECT service, FROM segments GROUP BY', { database: 'trino' })).toThrow();
  });

  it('gives the contract views the contract columns (DuckDB, on an empty lake)', async () => {
    const engine = await DuckDbEngine.open(join(tmpdir(), 'no-lake-here'));
    try {
      const columns = async (view: string) =>
        (await engine.query(`DESCRIBE ${view}`)).rows.map((r) => r.column_name);
      expect(await columns('service_latency')).toEqual([
        'service',
        'hour',
        'requests',
        'p50',
        'p90',
        'p95',
        'p99',
        'max',
        'dt',
      ]);
      expect(await columns('service_faults')).toEqual([
        'service',
        'hour',
        'requests',
        'ok',
        'errors',
        'faults',
        'throttles',
        'error_rate',
        'fault_rate',
        'throttle_rate',
        'dt',
      ]);
      expect(await columns('service_edges')).toEqual([
        'caller',
        'callee',
        'hour',
        'calls',
        'p95',
        'errors',
        'faults',
        'throttles',
        'dt',
      ]);
      expect(await columns('trace_latency')).toEqual([
        'entry_service',
        'hour',
        'traces',
        'p50',
        'p95',
        'p99',
        'fault_rate',
        'dt',
      ]);
      expect((await engine.query('SELECT * FROM service_latency')).rows).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('service_buckets bins every request with a duration, and none without (DuckDB)', async () => {
    const engine = await DuckDbEngine.open(join(tmpdir(), 'no-lake-here'));
    try {
      // The view's own SQL over a CTE that shadows the segments table: three requests, one still in progress.
      const row = (duration: string, second: number) =>
        `SELECT 'a' AS service, TIMESTAMPTZ '2026-11-20 10:01:0${second}Z' AS start_time, ${duration} AS duration,
           'segment' AS kind, CAST(NULL AS VARCHAR) AS caller_service, false AS error, false AS throttle,
           false AS fault, '2026-11-20' AS dt, '10' AS hour`;
      const { rows } = await engine.query(
        `WITH segments AS (${[row('0.002', 1), row('CAST(NULL AS DOUBLE)', 2), row('0.0021', 3)].join(' UNION ALL ')})
         ${viewSql('service_buckets')}`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ requests: 3, p50: 0.002, p95: 0.0021 });
      expect(JSON.parse(String(rows[0]!.latency_bins))).toEqual({ '2': 2 });
    } finally {
      await engine.close();
    }
  });

  it('builds --view queries that prune by dt and parse as Trino SQL', () => {
    const sql = viewQuery(
      'service_latency',
      { from: Date.UTC(2026, 10, 20, 10, 30) / 1000, to: Date.UTC(2026, 10, 21) / 1000 },
      50,
    );
    expect(sql).toContain("dt >= '2026-11-20'");
    expect(sql).toContain("hour >= TIMESTAMP '2026-11-20 10:00:00.000'");
    expect(() => parser.astify(sql, { database: 'trino' })).not.toThrow();
  });
});

describe('table DDL (generated from the schema module)', () => {
  it.each(['traces', 'segments'] as const)('declares every %s column and projects dt and hour', (table) => {
    const ddl = athenaTableDdl(table, { database: 'xray_lake', location: 's3://lake-bucket/prod/' });
    for (const column of COLUMNS[table]) expect(ddl).toMatch(new RegExp(`\`${column.name}\` \\w`));
    expect(ddl).toContain(`LOCATION 's3://lake-bucket/prod/${table}/'`);
    expect(ddl).toContain(
      `'storage.location.template' = 's3://lake-bucket/prod/${table}/dt=\${dt}/hour=\${hour}/'`,
    );
    expect(ddl).toContain("'projection.hour.digits' = '2'");
    expect(ddl).toContain('`annotations` map<string,string>');
    expect(ddl).toContain('`start_time` timestamp');
  });
});
