import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InsightEntry } from '../../lib/insights/events.js';
import { launchChromium } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';

describe('npm start (xray-lake demo), shortened to a day, and its report in a real browser', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let stdout: string;
  let stderr: string;
  const problems: string[] = [];
  const requests: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'demo-e2e-'));
    const run = await runCli(['demo', '--days', '1', '--out', dir]);
    expect(run.code, run.err).toBe(0);
    stdout = run.out;
    stderr = run.err;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
    await page.waitForSelector('body[data-drawn="true"]', { timeout: 10_000 });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('summarises the run: traces archived, the services table, incidents beside insights, and where the report is', () => {
    expect(stdout).toMatch(/Services over the last 1 days/);
    expect(stdout).toMatch(/recall \d+%, precision \d+%/);
    expect(stdout).toContain(join(dir, 'report.html'));
    // The lake it archived is checked as `xray-lake verify` would: every trace once and whole.
    const archived = /"([\d,]+) traces archived to/.exec(stderr)?.[1];
    expect(stderr).toContain(`every trace once and whole: ${archived} traces`);
  });

  it('draws with no console errors and fetches nothing but itself', () => {
    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(join(dir, 'report.html')).href]);
  });

  it('draws the service graph with every service and the calls between them', async () => {
    const services = await page.locator('#graph g.node').count();
    expect(services).toBeGreaterThanOrEqual(8);
    expect(await page.locator('#graph line.edge').count()).toBeGreaterThanOrEqual(services - 1);
    expect(await page.locator('#graph circle[fill="#c62828"]').count()).toBeGreaterThan(0); // a root cause
  });

  it('draws a p95 and a fault-rate line per service, with insight windows shaded', async () => {
    const lines = await page
      .locator('svg.chart path.p95')
      .evaluateAll((paths) => paths.map((p) => (p.getAttribute('d') ?? '').split(' L ').length));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const points of lines) expect(points).toBeGreaterThan(10);
    expect(await page.locator('svg.chart path.fault').count()).toBe(lines.length);
    expect(await page.locator('svg.chart rect.insight-window').count()).toBeGreaterThan(0);
  });

  it('lists one row per insight of insights.jsonl, with root cause and sample trace ids', async () => {
    const entries = (await readFile(join(dir, 'insights.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as InsightEntry);
    const ids = [...new Set(entries.map((e) => e.Detail.InsightId))];
    expect(ids.length).toBeGreaterThan(0);
    const rows = await page.locator('#insights tbody tr.insight').evaluateAll((trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-id'),
        root: tr.children[0]!.textContent,
        samples: tr.children[6]!.textContent ?? '',
      })),
    );
    expect(rows.map((r) => r.id)).toEqual(ids);
    for (const row of rows) {
      const last = entries.filter((e) => e.Detail.InsightId === row.id).at(-1)!;
      expect(row.root).toBe(last.Detail.RootCauseServiceId.Name);
    }
    expect(rows.some((r) => /^1-[0-9a-f]{8}-[0-9a-f]{24}/.test(r.samples))).toBe(true);
  });

  it('draws the waterfall of one trace, bars inside their track', async () => {
    const bars = await page.locator('#waterfall .bar').evaluateAll((els) =>
      els.map((el) => {
        const bar = el.getBoundingClientRect();
        const track = el.parentElement!.getBoundingClientRect();
        return { inside: bar.left >= track.left - 1 && bar.right <= track.right + 1, width: bar.width };
      }),
    );
    expect(bars.length).toBeGreaterThan(2);
    expect(bars.every((b) => b.inside)).toBe(true);
    expect(await page.locator('#waterfall-why').textContent()).toMatch(/^Trace 1-[0-9a-f]{8}-/);
  });
});

describe('the browser test’s launcher', () => {
  it('fails, saying how to install one, where no Chromium is installed (never a skip)', async () => {
    const saved = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    try {
      vi.resetModules();
      const { launchChromium: launch } = await import('../helpers/browser.js');
      await expect(launch()).rejects.toThrow(
        /no Chromium at \/nonexistent\/chromium: install it \(Debian: apt-get install -y chromium\)/,
      );
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
      vi.resetModules();
    }
  });
});
