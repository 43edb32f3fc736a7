import { describe, expect, it } from 'vitest';
import { initialSeriesState, step, type Transition } from '../../../lib/insights/lifecycle.js';

function run(verdicts: string, options = {}): Transition[] {
  let state = initialSeriesState();
  return [...verdicts].map((v) => {
    const next = step(state, v === 'x', options);
    state = next.state;
    return next.transition;
  });
}

describe('insight lifecycle (one series)', () => {
  it('ignores a one-bucket blip', () => {
    expect(run('..x..')).toEqual(['none', 'none', 'none', 'none', 'none']);
  });

  it('opens on the second consecutive anomalous bucket and closes after three normal ones', () => {
    expect(run('.xxx.x...x')).toEqual([
      'none',
      'none',
      'opened',
      'ongoing',
      'ongoing',
      'ongoing',
      'ongoing',
      'ongoing',
      'closed',
      'none',
    ]);
  });

  it('opens one insight per incident, however long it lasts', () => {
    const transitions = run(`.${'x'.repeat(50)}...${'x'.repeat(5)}`);
    expect(transitions.filter((t) => t === 'opened')).toHaveLength(2);
    expect(transitions.filter((t) => t === 'closed')).toHaveLength(1);
  });

  it('takes its thresholds as options', () => {
    expect(run('x..', { openAfter: 1, closeAfter: 2 })).toEqual(['opened', 'ongoing', 'closed']);
  });
});
