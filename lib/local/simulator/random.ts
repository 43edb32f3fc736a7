/**
 * A small seeded PRNG (mulberry32) with the draws the simulator needs. Each simulated minute gets its own
 * generator derived from (seed, minute), so a minute's traffic is the same whatever range it is part of and
 * however the range is split: deterministic for a seed, and parallelizable.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A generator for one stream of a seed (a minute, a scenario part), independent of every other stream. */
  static derive(seed: number, ...stream: number[]): Random {
    let h = mix32(seed >>> 0);
    for (const part of stream)
      h = mix32(h ^ mix32(Math.floor(part) >>> 0) ^ mix32(Math.floor(part / 2 ** 32) >>> 0));
    return new Random(h);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and sigma of the underlying normal: a heavy right tail, like latency. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Poisson count with mean `lambda` (Knuth below 30, a rounded normal above, where it is indistinguishable). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** `digits` lowercase hex digits (a multiple of 8). */
  hex(digits: number): string {
    let out = '';
    for (let i = 0; i < digits; i += 8) {
      const word = (this.next() * 4294967296) >>> 0;
      out +=
        BYTE_HEX[word >>> 24]! +
        BYTE_HEX[(word >>> 16) & 255]! +
        BYTE_HEX[(word >>> 8) & 255]! +
        BYTE_HEX[word & 255]!;
    }
    return out.length === digits ? out : out.slice(0, digits);
  }

  /** One item, by weight. */
  pick<T>(items: readonly T[], weight: (item: T) => number): T {
    const total = items.reduce((sum, item) => sum + weight(item), 0);
    let r = this.next() * total;
    for (const item of items) {
      r -= weight(item);
      if (r < 0) return item;
    }
    return items[items.length - 1]!;
  }
}

/** Two hex digits per byte value: ids are most of what the simulator draws. */
const BYTE_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
