import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../../lib/local/trace-store.js';
import { TRACE_DOCUMENT_MAX_BYTES } from '../../../lib/xray/limits.js';
import type { SegmentDocument } from '../../../lib/xray/types.js';
import { segment, subsegment } from '../../helpers/segments.js';

const put = (store: TraceStore, document: SegmentDocument, receivedAt?: number) =>
  store.put(document, JSON.stringify(document), receivedAt);

describe('TraceStore', () => {
  const now = 1_800_000_000;

  it('counts a revision for every change to a trace', () => {
    const store = new TraceStore({ now: () => now });
    const root = segment({ start_time: now - 10 });
    put(store, root);
    put(store, segment({ trace_id: root.trace_id, name: 'worker', parent_id: root.id, start_time: now - 9 }));
    expect(store.summary(root.trace_id)?.Revision).toBe(2);
  });

  it('lists a window most recent first and resumes after a cursor', () => {
    const store = new TraceStore({ now: () => now });
    const documents = [0, 30, 90, 150].map((offset) => segment({ start_time: now - 600 + offset }));
    for (const d of documents) put(store, d);
    const all = [...store.scan(now - 600, now, 'TraceId')];
    expect(all.map(([id]) => id)).toEqual(documents.map((d) => d.trace_id).reverse());
    const [, second] = all;
    const rest = [...store.scan(now - 600, now, 'TraceId', { id: second![0], time: second![1] })];
    expect(rest.map(([id]) => id)).toEqual(all.slice(2).map(([id]) => id));
    expect([...store.scan(now - 600, now - 560, 'TraceId')].map(([id]) => id)).toEqual([
      documents[1]!.trace_id,
      documents[0]!.trace_id,
    ]);
  });

  it('finds a trace by update time (Event) when a late segment arrives', () => {
    let clock = now;
    const store = new TraceStore({ now: () => clock });
    const root = segment({ start_time: now - 3600 });
    put(store, root);
    clock = now + 1800;
    put(
      store,
      segment({ trace_id: root.trace_id, name: 'late', parent_id: root.id, start_time: now - 3500 }),
    );
    expect([...store.scan(now + 1700, now + 1900, 'Event')].map(([id]) => id)).toEqual([root.trace_id]);
    expect([...store.scan(now - 100, now + 100, 'Event')]).toEqual([]);
    expect(store.summary(root.trace_id, 'Event')?.MatchedEventTime).toBe(now + 1800);
  });

  it(`stops growing a trace at ${TRACE_DOCUMENT_MAX_BYTES / 1024} KB and flags it LimitExceeded`, () => {
    const store = new TraceStore({ now: () => now });
    const root = segment({ start_time: now - 10 });
    put(store, root);
    const padding = 'x'.repeat(60_000);
    const outcomes = Array.from({ length: 10 }, () =>
      put(store, segment({ trace_id: root.trace_id, start_time: now - 5, metadata: { padding } })),
    );
    expect(outcomes.filter((o) => o === 'stored')).toHaveLength(8);
    // The first drop is the one a persisted log records; later ones change nothing.
    expect(outcomes.slice(8)).toEqual(['limit-reached', 'dropped-limit']);
    expect(store.assembled(root.trace_id)?.limitExceeded).toBe(true);
  });

  it('does not let an in-progress copy undo a complete document', () => {
    const store = new TraceStore({ now: () => now });
    const complete = segment({ start_time: now - 10, subsegments: [subsegment()] });
    const inProgress = { ...complete, in_progress: true, subsegments: [] } as SegmentDocument;
    delete inProgress.end_time;
    put(store, complete);
    put(store, inProgress);
    expect(store.documents(complete.trace_id)?.documents).toEqual([complete]);
  });

  it('expires traces 30 days before its clock, and leaves them out of its snapshots', () => {
    let clock = now;
    const store = new TraceStore({ now: () => clock });
    const old = segment({ start_time: now - 29.5 * 86_400 });
    const fresh = segment({ start_time: now - 60 });
    put(store, old);
    put(store, fresh);
    expect(put(store, segment({ start_time: now - 31 * 86_400 }))).toBe('expired');
    clock = now + 86_400;
    expect(store.documents(old.trace_id)).toBeUndefined();
    expect(store.snapshots().map((s) => s.id)).toEqual([fresh.trace_id]);
    expect(store.expire()).toBe(1);
    expect(store.stats()).toMatchObject({ traces: 1, documents: 1 });
  });

  it('rebuilds a trace from its snapshot with the same revision, event time and limit flag', () => {
    let clock = now;
    const store = new TraceStore({ now: () => clock });
    const root = segment({ start_time: now - 100 });
    const inProgress = { ...root, in_progress: true } as SegmentDocument;
    delete inProgress.end_time;
    put(store, inProgress);
    put(store, root);
    clock = now + 50;
    put(
      store,
      segment({ trace_id: root.trace_id, name: 'worker', parent_id: root.id, start_time: now - 99 }),
    );
    store.markLimitExceeded(root.trace_id);
    const [snapshot] = store.snapshots();
    expect(snapshot).toMatchObject({
      id: root.trace_id,
      revision: 3,
      updatedAt: now + 50,
      limitExceeded: true,
    });
    // Two documents, three revisions: putting them again would count two.
    expect(snapshot!.documents).toHaveLength(2);

    const rebuilt = new TraceStore({ now: () => clock });
    expect(rebuilt.restore(JSON.parse(JSON.stringify(snapshot)))).toBe(2);
    expect(rebuilt.summary(root.trace_id)).toEqual(store.summary(root.trace_id));
    expect(rebuilt.summary(root.trace_id, 'Event')?.MatchedEventTime).toBe(now + 50);
    expect(rebuilt.assembled(root.trace_id)).toEqual(store.assembled(root.trace_id));
    expect(rebuilt.snapshots()).toEqual(store.snapshots());
    put(
      rebuilt,
      segment({ trace_id: root.trace_id, name: 'late', parent_id: root.id, start_time: now - 98 }),
    );
    expect(rebuilt.summary(root.trace_id)?.Revision).toBe(4);
  });
});
