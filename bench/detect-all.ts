/**
 * `npm run bench:detect`: the detector on the simulator's labelled weeks and on NAB (quality), on
 * 1,000 services × 14 days (speed), and a scheduled run's state for 1,000 services (load and save).
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bandAloneRule, noiseModelRule, runNab } from './detect-nab.js';
import { printWeekSets, runScenarios, scenarioTable } from './detect-scenarios.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

await printWeekSets(5, '/tmp/xray-lake-bench-scenarios');
console.table(runNab().summary);
console.log("NAB with the band alone (ownRateAlpha=1: no series' own anomaly rate):");
const { thresholds: __, ...bandAlone } = runNab(bandAloneRule).summary;
console.table(bandAlone);
console.log('with the latency noise model on (latencyNoiseModel=1):');
console.table(
  scenarioTable(await runScenarios(5, '/tmp/xray-lake-bench-scenarios', { latencyNoiseModel: 1 })),
);
const { thresholds: _, ...withModel } = runNab(noiseModelRule).summary;
console.table(withModel);
console.log('with edge series on (edgeSeries=1):');
console.table(scenarioTable(await runScenarios(5, '/tmp/xray-lake-bench-scenarios', { edgeSeries: 1 })));
// The speed benchmark in a process of its own, as a replay runs: after the noise model's scenario weeks in
// this one, the same band replay measured 1.6 s instead of 1.0-1.2 s (V8's feedback from the other
// configuration), a figure no user would see.
execFileSync(process.execPath, [join(ROOT, 'bin/run-ts.mjs'), join(ROOT, 'bench/detect-speed.ts')], {
  stdio: 'inherit',
});
// What a scheduled run pays for its state (load and save), for 1,000 services' 7 days.
execFileSync(process.execPath, [join(ROOT, 'bin/run-ts.mjs'), join(ROOT, 'bench/detect-state.ts')], {
  stdio: 'inherit',
});
