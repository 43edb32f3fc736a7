/** A row of a query result: column name → value (numbers as numbers, timestamps as ISO strings). */
export type Row = Record<string, string | number | boolean | null | unknown[] | Record<string, unknown>>;

/** What a query cost, where the engine says. */
export interface QueryStats {
  engine: string;
  seconds: number;
  bytesScanned?: number;
  costUsd?: number;
}

/**
 * The query port: Athena (scales past one machine, billed by bytes scanned) or embedded DuckDB over a lake
 * folder. Both run the same view SQL.
 */
export interface QueryEngine {
  readonly name: string;
  query(sql: string): Promise<{ rows: Row[]; stats: QueryStats }>;
  close(): Promise<void>;
}
