/** `npm run bench:detect`: the detector on NAB (quality) and on 1,000 services × 14 days (speed). */
import { runNab } from './detect-nab.js';
import { runDetectSpeed } from './detect-speed.js';

console.table(runNab().summary);
console.table(runDetectSpeed());
