/** `npm run bench`: every benchmark, figures printed as tables. Record results in bench/README.md. */
import { cpus, totalmem } from 'node:os';
import { runBundleBenchmark } from './bundles.js';
import { runExportBenchmarks } from './export.js';
import { runVerifyBenchmark } from './verify.js';
import { runXRayLocalBenchmarks } from './xray-local.js';

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
);
console.table(await runXRayLocalBenchmarks());
console.log(
  'Parquet writers: node bin/run-ts.mjs bench/parquet-writers.ts (separate: it loads parquet-wasm and Arrow)',
);
console.table(await runExportBenchmarks());
console.log('xray-lake verify over 7 days of simulated traffic:');
console.table([await runVerifyBenchmark()]);
console.log('Lambda bundles (cdk synth with the local esbuild):');
Object.assign(process.env, {
  LAKE_ROOT: 's3://example-lake/xray',
  INSIGHT_SINK: 'eventbridge:xray-lake-insights',
  AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
});
console.table((await runBundleBenchmark()).rows);
