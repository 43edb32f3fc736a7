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
  /** Insights that detect a labelled (non-decoy) incident, of all insights opened. */
  precision: number;
  insightsOpened: number;
  falseAlarms: number;
  decoysAlerted: number;
  medianDelayBuckets: number | null;
}

/**
 * Scores opened insights against a labels file: an incident is detected by an insight of a matching
 * category with its service as root cause (at any event of the insight) opening between its start and
 * shortly after its end; a decoy is alerted on by any insight on its service (any service, for traffic)
 * opening during it. An insight that detects no incident is a false alarm: an upstream echo left as an
 * insight of its own counts against precision, as a user paged twice would count it.
 */
export function evaluate(labels: LabelFile, entries: readonly InsightEntry[]): Evaluation {
  // One row per insight: its first event (when it opened), with the roots and categories it ever had.
  const byId = new Map<string, { first: InsightEntry; roots: Set<string>; categories: Set<string> }>();
  for (const e of entries) {
    const seen = byId.get(e.Detail.InsightId) ?? { first: e, roots: new Set(), categories: new Set() };
    byId.set(e.Detail.InsightId, seen);
    seen.roots.add(e.Detail.RootCauseServiceId.Name);
    for (const c of e.Detail.Categories) seen.categories.add(c);
  }
  const insights = [...byId.values()].filter((i) => i.first.Detail.State === 'ACTIVE');
  const opened = insights.map((i) => i.first);
  const time = (iso: string) => Date.parse(iso) / 1000;
  const outcomes: IncidentOutcome[] = labels.incidents.map((incident) => {
    const start = time(incident.start);
    const end = time(incident.end);
    const matching = insights.flatMap(({ first: e, roots, categories }) => {
      const at = time(e.Detail.StartTime);
      const sameService = incident.service === '*' || roots.has(incident.service);
      if (incident.decoy)
        return sameService && at >= start - BUCKET_SECONDS && at <= end + GRACE_SECONDS ? [e] : [];
      return sameService &&
        (ANSWERS[incident.category] ?? []).some((c) => categories.has(c)) &&
        at >= start - BUCKET_SECONDS &&
        at <= end + GRACE_SECONDS
        ? [e]
        : [];
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
  const detecting = new Set(outcomes.filter((o) => !o.decoy).flatMap((o) => o.insightIds));
  const truePositives = opened.filter((e) => detecting.has(e.Detail.InsightId)).length;
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

/** "1 bucket", "2 buckets", "0.5 buckets". */
export function bucketsText(count: number): string {
  return `${count} ${count === 1 ? 'bucket' : 'buckets'}`;
}

/** How an incident fared, in words: "detected, +N buckets", "missed", "quiet (right)" or "false alarm". */
export function outcomeText(outcome: IncidentOutcome): string {
  if (outcome.decoy) return outcome.detected ? 'false alarm' : 'quiet (right)';
  if (!outcome.detected) return 'missed';
  return `detected, +${bucketsText(outcome.delayBuckets ?? 0)}`;
}
