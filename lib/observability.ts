/**
 * What lib/ needs of logging and metrics: the shape of Powertools' Logger and Metrics, so handlers pass
 * those, the CLI passes a console logger, and tests pass a recorder. lib/ depends on neither.
 */
export interface Logger {
  info(message: string, ...fields: Record<string, unknown>[]): void;
  warn(message: string, ...fields: Record<string, unknown>[]): void;
  error(message: string, ...fields: Record<string, unknown>[]): void;
}

/** Units as CloudWatch (and Powertools' MetricUnit) name them. */
export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'Bytes' | 'Percent' | 'None';

export interface Metrics {
  addMetric(name: string, unit: MetricUnit, value: number): void;
}

/** A logger and metrics that drop everything. */
export const silent: { logger: Logger; metrics: Metrics } = {
  logger: { info: () => {}, warn: () => {}, error: () => {} },
  metrics: { addMetric: () => {} },
};
