import type { LabelFile } from '../local/simulator/simulate.js';
import { BUCKET_SECONDS } from './detect.js';
import type { InsightCategory, InsightEntry } from './events.js';

/** Which insight categories answer a labelled incident's category. Throttles are errors too. */
const ANSWERS: Record<string, readonly InsightCategory[]> = {
  latency: ['LATENCY'],
  fault: ['FAULT'],
  error: ['ERROR'],
  throttle: ['THROTTLE', 'ERROR'],
};

/** An insight opening this long after an incident ends is not counted as detecting it. */
const GRACE_SECONDS = 2 * BUCKET_SECONDS;

export interface IncidentOutcome {
  name: string;
  service: string;
  category: string;
  decoy: boolean;
  /** For incidents: detected, and how many buckets after its start. For decoys: whether it raised anything. */
  detected: boolean;
  delayBuckets?: number;
  insightIds: string[];
}

export interface Evaluation {
  incidents: IncidentOutcome[];
  recall: number;
  /** Insights overlapping a real (non-decoy) incident, of all insights opened. */
  precision: number;
  insightsOpened: number;
  falseAlarms: number;
  decoysAlerted: number;
  medianDelayBuckets: number | null;
}

/**
 * Scores opened insights against a labels file: an incident is detected by an insight of a matching
 * category on its service opening between its start and shortly after its end; a decoy is alerted on by
 * any insight on its service (any service, for traffic) opening during it. An insight is a false alarm when
 * it overlaps no real incident at all (upstream echoes of an incident count as true, not as alarms).
 */
export function evaluate(labels: LabelFile, entries: readonly InsightEntry[]): Evaluation {
  const opened = entries.filter((e) => e.Detail.State === 'ACTIVE');
  const time = (iso: string) => Date.parse(iso) / 1000;
  const outcomes: IncidentOutcome[] = labels.incidents.map((incident) => {
    const start = time(incident.start);
    const end = time(incident.end);
    const matching = opened.filter((e) => {
      const at = time(e.Detail.StartTime);
      const sameService = incident.service === '*' || e.Detail.RootCauseServiceId.Name === incident.service;
      if (incident.decoy) return sameService && at >= start - BUCKET_SECONDS && at <= end + GRACE_SECONDS;
      return (
        sameService &&
        (ANSWERS[incident.category] ?? []).includes(e.Detail.Categories[0]!) &&
        at >= start - BUCKET_SECONDS &&
        at <= end + GRACE_SECONDS
      );
    });
    const first = matching.map((e) => time(e.Time)).sort((a, b) => a - b)[0];
    return {
      name: incident.name,
      service: incident.service,
      category: incident.category,
      decoy: incident.decoy,
      detected: matching.length > 0,
      ...(first !== undefined &&
        !incident.decoy && { delayBuckets: Math.max(0, Math.round((first - start) / BUCKET_SECONDS)) }),
      insightIds: matching.map((e) => e.Detail.InsightId),
    };
  });
  const real = labels.incidents.filter((i) => !i.decoy);
  const overlapsReal = (e: InsightEntry) =>
    real.some(
      (i) =>
        time(e.Detail.StartTime) >= time(i.start) - BUCKET_SECONDS &&
        time(e.Detail.StartTime) <= time(i.end) + GRACE_SECONDS,
    );
  const truePositives = opened.filter(overlapsReal).length;
  const delays = outcomes
    .flatMap((o) => (o.delayBuckets === undefined ? [] : [o.delayBuckets]))
    .sort((a, b) => a - b);
  const incidents = outcomes.filter((o) => !o.decoy);
  return {
    incidents: outcomes,
    recall: incidents.length ? incidents.filter((o) => o.detected).length / incidents.length : 1,
    precision: opened.length ? truePositives / opened.length : 1,
    insightsOpened: opened.length,
    falseAlarms: opened.length - truePositives,
    decoysAlerted: outcomes.filter((o) => o.decoy && o.detected).length,
    medianDelayBuckets: delays.length ? delays[Math.floor((delays.length - 1) / 2)]! : null,
  };
}
