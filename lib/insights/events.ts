/**
 * The insight event (DESIGN.md, "Insight events"): an EventBridge entry whose Detail mirrors X-Ray's own
 * "AWS X-Ray Insight Update", so rules written for X-Ray Insights port over, plus `Metric` and
 * `SampleTraceIds`.
 */
export const INSIGHT_SOURCE = 'xray-lake';
export const INSIGHT_DETAIL_TYPE = 'Trace Insight Update';
/**
 * What a configured event `Source` may be: EventBridge takes up to 256 characters; these keep it to the
 * reverse-domain style rules match on.
 */
export const INSIGHT_SOURCE_PATTERN = /^[A-Za-z0-9._\-/]{1,256}$/;

export const INSIGHT_CATEGORIES = ['FAULT', 'ERROR', 'THROTTLE', 'LATENCY'] as const;
export type InsightCategory = (typeof INSIGHT_CATEGORIES)[number];

export interface ImpactStatistics {
  FaultCount: number;
  OkCount: number;
  TotalCount: number;
}

export interface InsightDetail {
  InsightId: string;
  State: 'ACTIVE' | 'CLOSED';
  Categories: InsightCategory[];
  Summary: string;
  StartTime: string;
  EndTime?: string;
  RootCauseServiceId: { Name: string; Type?: string };
  ClientRequestImpactStatistics: ImpactStatistics;
  RootCauseServiceRequestImpactStatistics: ImpactStatistics;
  TopAnomalousServices: { ServiceId: { Name: string } }[];
  Event: { EventTime: string; Summary: string };
  Metric: {
    Name: string;
    Observed: number;
    ExpectedLow: number;
    ExpectedHigh: number;
    Unit: 'Percent' | 'Seconds';
  };
  SampleTraceIds: string[];
}

/** An EventBridge PutEvents entry carrying an insight. */
export interface InsightEntry {
  Source: string;
  DetailType: typeof INSIGHT_DETAIL_TYPE;
  Time: string;
  Detail: InsightDetail;
}

/** Where insights go: EventBridge, CloudWatch, or a JSONL file and the console locally. */
export interface InsightPublisher {
  publish(entries: readonly InsightEntry[]): Promise<void>;
  close?(): Promise<void>;
}
