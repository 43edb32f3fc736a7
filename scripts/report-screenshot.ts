/**
 * Screenshot of a demo report for the README: `node bin/run-ts.mjs scripts/report-screenshot.ts
 * xray-lake-demo/report.html docs/report.png`. Uses the same headless Chromium as the report test.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../test/helpers/browser.js';

const [report = 'xray-lake-demo/report.html', png = 'docs/report.png'] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(resolve(report)).href);
  await page.waitForSelector('body[data-drawn="true"]');
  await page.screenshot({ path: png, fullPage: false });
  console.log(`wrote ${png}`);
} finally {
  await browser.close();
}
