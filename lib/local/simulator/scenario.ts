import { ScenarioError } from '../errors.js';

/**
 * The simulator's scenario: a topology of services, the traffic that enters it, and the incidents to inject.
 * The JSON form is documented in README.md ("Scenario files"); {@link parseScenario} checks it and names the
 * field of any mistake (`services[2].calls[0]: unknown service "paymnets"`).
 */

/** What a node is, which decides the documents it produces. */
export const NODE_KINDS = [
  'apigateway',
  'lambda',
  'ecs',
  'ec2',
  'dynamodb',
  'sqs',
  'sns',
  's3',
  'remote',
] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** Kinds that trace themselves (send segments); the others appear only through their callers' subsegments. */
export const INSTRUMENTED_KINDS: readonly NodeKind[] = ['apigateway', 'lambda', 'ecs', 'ec2'];

/** The service name X-Ray gives the inferred node of an AWS call, as on its service map. */
export const AWS_SERVICE_NAMES: Partial<Record<NodeKind, string>> = {
  dynamodb: 'DynamoDB',
  sqs: 'SQS',
  sns: 'SNS',
  s3: 'S3',
};

export const INCIDENT_CATEGORIES = ['latency', 'fault', 'error', 'throttle', 'traffic'] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];

export interface Rates {
  /** 4xx other than 429, per request. */
  error: number;
  /** 5xx, per request. */
  fault: number;
  /** 429, per request (counted as errors too, as X-Ray does). */
  throttle: number;
}

export interface NodeSpec {
  /** Unique within the scenario; for instrumented kinds and `remote` it is the X-Ray service name. */
  name: string;
  kind: NodeKind;
  /** Own processing time (excluding calls), log-normal by its median and 99th percentile, in ms. */
  latencyMs: { median: number; p99: number };
  /** Overrides of the scenario's baseline rates. */
  rates?: Partial<Rates>;
  /** Synchronous calls, in order: node names. */
  calls?: string[];
  /** Per call, the probability it happens (default 1). */
  callProbability?: Record<string, number>;
  /** For queues and topics: the nodes that consume asynchronously, in the same trace. */
  consumers?: string[];
  /** Table, queue, bucket or host the node stands for (shown in `aws` fields and URLs). */
  resource?: string;
}

export interface EntrypointSpec {
  node: string;
  /** Share of all requests. */
  weight: number;
  method: string;
  path: string;
}

export interface TrafficSpec {
  /** Mean requests a minute across the day. */
  requestsPerMinute: number;
  /** Relative swing of the daily cycle (0 to 1), peaking at `peakHourUtc`. */
  dailyAmplitude: number;
  peakHourUtc: number;
  /** Relative drop on Saturday and Sunday (0 to 1). */
  weekendDip: number;
  /** Sigma of the minute-to-minute log-normal noise on the rate. */
  noise: number;
}

export interface IncidentSpec {
  name: string;
  /** Node name; for `traffic` incidents, `*` (all entrypoints) or an entrypoint node. */
  service: string;
  /**
   * Only the calls this node makes to `service` are hit (one caller's calls failing or slow: a hot key, a
   * per-client quota, a bad route); every caller's when absent. Not for `traffic` incidents.
   */
  caller?: string;
  category: IncidentCategory;
  /** ISO time, `+36h` / `+90m` after the run's start, or `40%` of the way through the run. */
  start: string;
  /** `45m`, `2h`, `1d`. */
  duration: string;
  /**
   * latency: multiplier of the node's own time; fault/error/throttle: the rate during the incident;
   * traffic: multiplier of the request rate.
   */
  magnitude: number;
  /** `step` (default) or `ramp` (grows linearly from nothing to `magnitude` over the duration). */
  shape?: 'step' | 'ramp';
  /** A decoy is labelled as something that must not raise an insight. */
  decoy?: boolean;
}

export interface Scenario {
  name: string;
  description?: string;
  traffic: TrafficSpec;
  baseline: Rates;
  entrypoints: EntrypointSpec[];
  nodes: NodeSpec[];
  incidents: IncidentSpec[];
}

/** An incident placed on the timeline of one run. */
export interface ResolvedIncident extends IncidentSpec {
  /** Epoch seconds. */
  startTime: number;
  endTime: number;
  /** The X-Ray service name the incident shows on (what a detector sees). */
  xrayService: string;
}

/** The default scenario: a serverless shop with a container service, an external API, a queue and a worker. */
export const DEFAULT_SCENARIO: Scenario = {
  name: 'default',
  description:
    'API Gateway → checkout Lambda → DynamoDB, payments (ECS) → an external card API, SQS → fulfillment worker; ' +
    'a low-traffic admin API → reports. Five incidents and two decoys.',
  traffic: { requestsPerMinute: 20, dailyAmplitude: 0.5, peakHourUtc: 15, weekendDip: 0.3, noise: 0.1 },
  baseline: { error: 0.01, fault: 0.002, throttle: 0.001 },
  entrypoints: [
    { node: 'shop-api/prod', weight: 0.96, method: 'POST', path: '/checkout' },
    { node: 'admin-api', weight: 0.04, method: 'GET', path: '/reports/daily' },
  ],
  nodes: [
    { name: 'shop-api/prod', kind: 'apigateway', latencyMs: { median: 4, p99: 15 }, calls: ['checkout'] },
    {
      name: 'checkout',
      kind: 'lambda',
      latencyMs: { median: 25, p99: 120 },
      calls: ['orders-table', 'payments', 'fulfillment-queue'],
    },
    { name: 'orders-table', kind: 'dynamodb', resource: 'orders', latencyMs: { median: 6, p99: 30 } },
    { name: 'payments', kind: 'ecs', latencyMs: { median: 35, p99: 180 }, calls: ['cards.example.net'] },
    {
      name: 'cards.example.net',
      kind: 'remote',
      latencyMs: { median: 80, p99: 400 },
      rates: { error: 0.02 },
    },
    {
      name: 'fulfillment-queue',
      kind: 'sqs',
      resource: 'fulfillment',
      latencyMs: { median: 8, p99: 25 },
      consumers: ['fulfillment-worker'],
    },
    {
      name: 'fulfillment-worker',
      kind: 'lambda',
      latencyMs: { median: 120, p99: 600 },
      calls: ['orders-table'],
    },
    { name: 'admin-api', kind: 'ec2', latencyMs: { median: 15, p99: 60 }, calls: ['reports'] },
    { name: 'reports', kind: 'ecs', latencyMs: { median: 200, p99: 900 } },
  ],
  incidents: [
    {
      name: 'traffic surge (healthy)',
      service: '*',
      category: 'traffic',
      start: '12%',
      duration: '1h',
      magnitude: 5,
      decoy: true,
    },
    {
      name: 'payments latency regression',
      service: 'payments',
      category: 'latency',
      start: '25%',
      duration: '2h',
      magnitude: 4,
    },
    {
      name: 'checkout fault burst',
      service: 'checkout',
      category: 'fault',
      start: '40%',
      duration: '40m',
      magnitude: 0.25,
    },
    {
      name: 'deploy blip',
      service: 'checkout',
      category: 'latency',
      start: '48%',
      duration: '4m',
      magnitude: 3,
      decoy: true,
    },
    {
      name: 'DynamoDB throttling storm',
      service: 'orders-table',
      category: 'throttle',
      start: '56%',
      duration: '45m',
      magnitude: 0.3,
    },
    {
      name: 'worker gradual slowdown',
      service: 'fulfillment-worker',
      category: 'latency',
      start: '68%',
      duration: '6h',
      magnitude: 4,
      shape: 'ramp',
    },
    {
      name: 'reports failing (low traffic)',
      service: 'reports',
      category: 'fault',
      start: '86%',
      duration: '2h',
      magnitude: 0.6,
    },
  ],
};

/** Built-in scenarios by name. */
export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  default: DEFAULT_SCENARIO,
  quiet: {
    ...DEFAULT_SCENARIO,
    name: 'quiet',
    description: 'The default topology with no incidents.',
    incidents: [],
  },
};

/** The X-Ray service name a node appears under. */
export function xrayServiceName(node: NodeSpec): string {
  return AWS_SERVICE_NAMES[node.kind] ?? node.name;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a scenario (parsed JSON) and returns it typed, with defaults filled in. Throws
 * {@link ScenarioError} naming the first wrong field.
 */
export function parseScenario(value: unknown): Scenario {
  if (!isObject(value)) throw new ScenarioError('scenario', 'expected a JSON object');
  const name = str(value.name ?? 'custom', 'name');
  const trafficIn = value.traffic === undefined ? {} : value.traffic;
  if (!isObject(trafficIn)) throw new ScenarioError('traffic', 'expected an object');
  const d = DEFAULT_SCENARIO.traffic;
  const traffic: TrafficSpec = {
    requestsPerMinute: num(
      trafficIn.requestsPerMinute ?? d.requestsPerMinute,
      'traffic.requestsPerMinute',
      0,
      1e6,
    ),
    dailyAmplitude: num(trafficIn.dailyAmplitude ?? d.dailyAmplitude, 'traffic.dailyAmplitude', 0, 1),
    peakHourUtc: num(trafficIn.peakHourUtc ?? d.peakHourUtc, 'traffic.peakHourUtc', 0, 23),
    weekendDip: num(trafficIn.weekendDip ?? d.weekendDip, 'traffic.weekendDip', 0, 1),
    noise: num(trafficIn.noise ?? d.noise, 'traffic.noise', 0, 2),
  };
  const baselineIn = value.baseline === undefined ? {} : value.baseline;
  if (!isObject(baselineIn)) throw new ScenarioError('baseline', 'expected an object');
  const baseline = rates(baselineIn, 'baseline', DEFAULT_SCENARIO.baseline) as Rates;

  if (!Array.isArray(value.nodes) || value.nodes.length === 0)
    throw new ScenarioError('nodes', 'expected a non-empty array of services');
  const nodes = value.nodes.map((node, i) => parseNode(node, `nodes[${i}]`));
  const names = new Set<string>();
  nodes.forEach((node, i) => {
    if (names.has(node.name)) throw new ScenarioError(`nodes[${i}].name`, `"${node.name}" is used twice`);
    names.add(node.name);
  });
  nodes.forEach((node, i) => {
    node.calls?.forEach((call, j) => {
      if (!names.has(call)) throw new ScenarioError(`nodes[${i}].calls[${j}]`, `unknown node "${call}"`);
    });
    node.consumers?.forEach((consumer, j) => {
      const target = nodes.find((n) => n.name === consumer);
      if (!target) throw new ScenarioError(`nodes[${i}].consumers[${j}]`, `unknown node "${consumer}"`);
      if (target.kind !== 'lambda')
        throw new ScenarioError(`nodes[${i}].consumers[${j}]`, 'consumers must be lambda nodes');
    });
    if (node.consumers && !['sqs', 'sns'].includes(node.kind))
      throw new ScenarioError(`nodes[${i}].consumers`, 'only sqs and sns nodes have consumers');
    if (node.calls && !INSTRUMENTED_KINDS.includes(node.kind))
      throw new ScenarioError(
        `nodes[${i}].calls`,
        `a ${node.kind} node is not instrumented and makes no calls`,
      );
  });
  assertAcyclic(nodes);

  if (!Array.isArray(value.entrypoints) || value.entrypoints.length === 0)
    throw new ScenarioError('entrypoints', 'expected a non-empty array');
  const entrypoints = value.entrypoints.map((entry, i): EntrypointSpec => {
    const at = `entrypoints[${i}]`;
    if (!isObject(entry)) throw new ScenarioError(at, 'expected an object');
    const node = str(entry.node, `${at}.node`);
    const spec = nodes.find((n) => n.name === node);
    if (!spec) throw new ScenarioError(`${at}.node`, `unknown node "${node}"`);
    if (!INSTRUMENTED_KINDS.includes(spec.kind))
      throw new ScenarioError(`${at}.node`, 'an entrypoint must be instrumented');
    return {
      node,
      weight: num(entry.weight ?? 1, `${at}.weight`, 0, 1e9),
      method: str(entry.method ?? 'GET', `${at}.method`),
      path: str(entry.path ?? '/', `${at}.path`),
    };
  });

  const byName = new Map(nodes.map((node) => [node.name, node]));
  const incidentsIn = value.incidents ?? [];
  if (!Array.isArray(incidentsIn)) throw new ScenarioError('incidents', 'expected an array');
  const incidents = incidentsIn.map((incident, i): IncidentSpec => {
    const at = `incidents[${i}]`;
    if (!isObject(incident)) throw new ScenarioError(at, 'expected an object');
    const category = str(incident.category, `${at}.category`) as IncidentCategory;
    if (!INCIDENT_CATEGORIES.includes(category))
      throw new ScenarioError(`${at}.category`, `expected one of ${INCIDENT_CATEGORIES.join(', ')}`);
    const service = str(incident.service, `${at}.service`);
    if (!(category === 'traffic' && service === '*') && !names.has(service))
      throw new ScenarioError(`${at}.service`, `unknown node "${service}"`);
    const caller = incident.caller === undefined ? undefined : str(incident.caller, `${at}.caller`);
    if (caller !== undefined) {
      if (category === 'traffic')
        throw new ScenarioError(
          `${at}.caller`,
          'a traffic incident has no caller: it changes the requests made',
        );
      if (!byName.get(caller)?.calls?.includes(service))
        throw new ScenarioError(`${at}.caller`, `"${caller}" is not a node that calls "${service}"`);
    }
    const shape = incident.shape ?? 'step';
    if (shape !== 'step' && shape !== 'ramp')
      throw new ScenarioError(`${at}.shape`, 'expected "step" or "ramp"');
    const magnitude = num(incident.magnitude, `${at}.magnitude`, 0, 1e6);
    if (['fault', 'error', 'throttle'].includes(category) && magnitude > 1)
      throw new ScenarioError(`${at}.magnitude`, `a ${category} incident's magnitude is a rate from 0 to 1`);
    const start = str(incident.start, `${at}.start`);
    parseInstant(start, 0, 1, `${at}.start`);
    const duration = str(incident.duration, `${at}.duration`);
    parseDuration(duration, `${at}.duration`);
    return {
      name: str(incident.name ?? `${category} on ${service}`, `${at}.name`),
      service,
      ...(caller !== undefined && { caller }),
      category,
      start,
      duration,
      magnitude,
      shape,
      decoy: incident.decoy === true,
    };
  });

  const scenario: Scenario = { name, traffic, baseline, entrypoints, nodes, incidents };
  if (typeof value.description === 'string') scenario.description = value.description;
  return scenario;
}

function parseNode(value: unknown, at: string): NodeSpec {
  if (!isObject(value)) throw new ScenarioError(at, 'expected an object');
  const kind = str(value.kind, `${at}.kind`) as NodeKind;
  if (!NODE_KINDS.includes(kind))
    throw new ScenarioError(`${at}.kind`, `expected one of ${NODE_KINDS.join(', ')}`);
  if (!isObject(value.latencyMs))
    throw new ScenarioError(`${at}.latencyMs`, 'expected { "median": ms, "p99": ms }');
  const median = num(value.latencyMs.median, `${at}.latencyMs.median`, 0.001, 3.6e6);
  const p99 = num(value.latencyMs.p99, `${at}.latencyMs.p99`, median, 3.6e6);
  const node: NodeSpec = { name: str(value.name, `${at}.name`), kind, latencyMs: { median, p99 } };
  if (value.rates !== undefined) {
    if (!isObject(value.rates)) throw new ScenarioError(`${at}.rates`, 'expected an object');
    node.rates = rates(value.rates, `${at}.rates`);
  }
  for (const list of ['calls', 'consumers'] as const) {
    if (value[list] === undefined) continue;
    if (!Array.isArray(value[list]))
      throw new ScenarioError(`${at}.${list}`, 'expected an array of node names');
    node[list] = (value[list] as unknown[]).map((item, i) => str(item, `${at}.${list}[${i}]`));
  }
  if (value.callProbability !== undefined) {
    if (!isObject(value.callProbability))
      throw new ScenarioError(`${at}.callProbability`, 'expected an object');
    node.callProbability = Object.fromEntries(
      Object.entries(value.callProbability).map(([k, v]) => [k, num(v, `${at}.callProbability.${k}`, 0, 1)]),
    );
  }
  if (value.resource !== undefined) node.resource = str(value.resource, `${at}.resource`);
  return node;
}

function rates(value: Json, at: string, defaults?: Rates): Partial<Rates> {
  const out: Partial<Rates> = {};
  for (const key of ['error', 'fault', 'throttle'] as const) {
    const v = value[key] ?? defaults?.[key];
    if (v !== undefined) out[key] = num(v, `${at}.${key}`, 0, 1);
  }
  return out;
}

function assertAcyclic(nodes: readonly NodeSpec[]): void {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw new ScenarioError('nodes', `calls form a cycle: ${[...path, name].join(' → ')}`);
    state.set(name, 'visiting');
    const node = byName.get(name)!;
    for (const next of [...(node.calls ?? []), ...(node.consumers ?? [])]) visit(next, [...path, name]);
    state.set(name, 'done');
  };
  for (const node of nodes) visit(node.name, []);
}

function str(value: unknown, at: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ScenarioError(at, 'expected a non-empty string');
  return value;
}

function num(value: unknown, at: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ScenarioError(at, 'expected a number');
  if (value < min || value > max) throw new ScenarioError(at, `${value} is outside ${min} to ${max}`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `45m`, `2h`, `1.5d`, `30s`, or compounds such as `6h30m` and `1d12h` → seconds. */
export function parseDuration(text: string, at = 'duration'): number {
  const trimmed = text.trim();
  if (!/^(\d+(?:\.\d+)?[smhd])+$/.test(trimmed))
    throw new ScenarioError(at, `"${text}" is not a duration like 45m, 2h, 6h30m or 1d`);
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)([smhd])/g))
    seconds += Number(amount) * DURATION_UNITS[unit!]!;
  return seconds;
}

/** An incident start: ISO time, `+36h` after `from`, or `40%` of [from, to]. Epoch seconds. */
export function parseInstant(text: string, from: number, to: number, at = 'start'): number {
  const trimmed = text.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(trimmed);
  if (percent) {
    const fraction = Number(percent[1]) / 100;
    if (fraction > 1) throw new ScenarioError(at, `"${text}" is past 100%`);
    return from + (to - from) * fraction;
  }
  if (trimmed.startsWith('+')) return from + parseDuration(trimmed.slice(1), at);
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms))
    throw new ScenarioError(at, `"${text}" is not an ISO time, +offset (+36h) or percentage (40%)`);
  return ms / 1000;
}

/** Places a scenario's incidents on the run [from, to] (epoch seconds). */
export function resolveIncidents(scenario: Scenario, from: number, to: number): ResolvedIncident[] {
  const byName = new Map(scenario.nodes.map((node) => [node.name, node]));
  return scenario.incidents.map((incident, i) => {
    const startTime = parseInstant(incident.start, from, to, `incidents[${i}].start`);
    const endTime = startTime + parseDuration(incident.duration, `incidents[${i}].duration`);
    const node = byName.get(incident.service);
    return { ...incident, startTime, endTime, xrayService: node ? xrayServiceName(node) : incident.service };
  });
}
