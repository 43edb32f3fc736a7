/**
 * `npm run bench:detect`: the detector on the simulator's labelled weeks and on NAB (quality), and on
 * 1,000 services × 14 days (speed).
 */
import { bandAloneRule, noiseModelRule, runNab } from './detect-nab.js';
import { runScenarios, scenarioTable } from './detect-scenarios.js';
import { runDetectSpeeds } from './detect-speed.js';

console.table(scenarioTable(await runScenarios(5, '/tmp/xray-lake-bench-scenarios')));
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
console.table(runDetectSpeeds());
