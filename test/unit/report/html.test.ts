import { describe, expect, it } from 'vitest';
import type { ReportData } from '../../../lib/report/data.js';
import { renderReport } from '../../../lib/report/html.js';

const data = (summary: string): ReportData => ({
  generatedAt: '2026-11-22T00:00:00.000Z',
  from: '2026-11-21T00:00:00.000Z',
  to: '2026-11-22T00:00:00.000Z',
  lakeRoot: '/tmp/lake',
  traces: 1,
  services: [],
  edges: [],
  series: [],
  insights: [
    {
      id: 'a'.repeat(32),
      state: 'ACTIVE',
      root: 'checkout',
      categories: ['FAULT'],
      start: '2026-11-21T10:00:00.000Z',
      summary,
      services: ['checkout'],
      samples: [],
      events: 1,
    },
  ],
  incidents: [],
});

describe('renderReport', () => {
  it('embeds trace-derived text so that it cannot end the script or inject markup', () => {
    const hostile = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    const html = renderReport(data(hostile));
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data block's and the drawing script's own
    expect(html).not.toContain('<img src=x');
    const json = /<script type="application\/json" id="data">(.*?)<\/script>/s.exec(html)![1]!;
    expect((JSON.parse(json) as ReportData).insights[0]!.summary).toBe(hostile);
  });

  it('forbids the page any network access', () => {
    const html = renderReport(data('fine'));
    expect(html).toContain(`content="default-src 'none'`);
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
});
