import { derivedEntityId, makeTraceId } from '../../xray/ids.js';
import type { SegmentDocument, Subsegment } from '../../xray/types.js';
import { Random } from './random.js';
import {
  AWS_SERVICE_NAMES,
  type EntrypointSpec,
  INSTRUMENTED_KINDS,
  type NodeSpec,
  type Rates,
  type ResolvedIncident,
  type Scenario,
} from './scenario.js';

/** One simulated request: its trace id, when it started, and the documents its services send. */
export interface GeneratedTrace {
  id: string;
  start: number;
  documents: SegmentDocument[];
}

type Outcome = 'ok' | 'error' | 'throttle' | 'fault';

/** z of the 99th percentile of a standard normal: turns (median, p99) into a log-normal sigma. */
const Z99 = 2.326;
const ACCOUNT_ID = '123456789012';
const REGION = 'us-east-1';
const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'] as const;
const STATUS: Record<Exclude<Outcome, 'ok'>, readonly number[]> = {
  error: [400, 404, 409],
  throttle: [429],
  fault: [500, 502, 503],
};

/**
 * Deterministic traffic for a scenario: {@link TrafficGenerator.minute} yields the same traces for the same
 * (scenario, seed, minute) whatever range the minute is part of.
 */
export class TrafficGenerator {
  private readonly nodes: Map<string, NodeSpec>;
  private readonly sigma = new Map<string, number>();
  private readonly totalWeight: number;

  constructor(
    readonly scenario: Scenario,
    readonly incidents: readonly ResolvedIncident[],
    readonly seed: number,
  ) {
    this.nodes = new Map(scenario.nodes.map((node) => [node.name, node]));
    for (const node of scenario.nodes)
      this.sigma.set(node.name, Math.log(node.latencyMs.p99 / node.latencyMs.median) / Z99);
    this.totalWeight = scenario.entrypoints.reduce((sum, entry) => sum + entry.weight, 0);
  }

  /** Expected requests a minute at `time` for one entrypoint, before noise: seasonality times traffic incidents. */
  expectedRate(time: number, entry: EntrypointSpec): number {
    const { traffic } = this.scenario;
    const date = new Date(time * 1000);
    const hour = date.getUTCHours() + date.getUTCMinutes() / 60;
    const daily = 1 + traffic.dailyAmplitude * Math.cos((2 * Math.PI * (hour - traffic.peakHourUtc)) / 24);
    const weekday = date.getUTCDay();
    const weekly = weekday === 0 || weekday === 6 ? 1 - traffic.weekendDip : 1;
    let multiplier = 1;
    for (const incident of this.active(time, 'traffic')) {
      if (incident.service === '*' || incident.service === entry.node)
        multiplier *= this.strength(incident, time, 1);
    }
    return traffic.requestsPerMinute * (entry.weight / this.totalWeight) * daily * weekly * multiplier;
  }

  /** The traces of one UTC minute (`minute` = epoch seconds / 60, floored), in start order. */
  minute(minute: number): GeneratedTrace[] {
    const random = Random.derive(this.seed, minute);
    const minuteStart = minute * 60;
    const noise = this.scenario.traffic.noise;
    const level = Math.exp(noise * random.normal() - (noise * noise) / 2);
    const requests: { time: number; entry: EntrypointSpec }[] = [];
    for (const entry of this.scenario.entrypoints) {
      const count = random.poisson(this.expectedRate(minuteStart + 30, entry) * level);
      for (let i = 0; i < count; i++) requests.push({ time: minuteStart + random.next() * 60, entry });
    }
    requests.sort((a, b) => a.time - b.time);
    return requests.map(({ time, entry }) => this.request(random, time, entry));
  }

  private request(random: Random, start: number, entry: EntrypointSpec): GeneratedTrace {
    const id = makeTraceId(start, random.hex(24));
    const documents: SegmentDocument[] = [];
    const context: RequestContext = {
      random,
      traceId: id,
      documents,
      entry,
      tenant: TENANTS[Math.floor(random.next() * TENANTS.length)]!,
      user: `user-${Math.floor(random.next() * 5000)}`,
    };
    this.visit(context, this.nodes.get(entry.node)!, start, undefined, true);
    return { id, start, documents };
  }

  /** Simulates an instrumented node handling a call; appends its segments; returns when it answered and how. */
  private visit(
    ctx: RequestContext,
    node: NodeSpec,
    start: number,
    parentId: string | undefined,
    isEntry: boolean,
    /** The node that called this one (for incidents on one caller's calls). */
    caller?: string,
  ): { end: number; outcome: Outcome } {
    const { random } = ctx;
    let outcome = this.draw(random, node, start, caller);
    const own = this.selfSeconds(random, node, start, caller);
    let cursor = start + own * 0.6 + 0.0005;
    const calls: Subsegment[] = [];

    for (const calleeName of node.calls ?? []) {
      const probability = node.callProbability?.[calleeName] ?? 1;
      if (!random.chance(probability)) continue;
      // A request that already failed at its own layer does not make its downstream calls.
      if (outcome !== 'ok') break;
      const callee = this.nodes.get(calleeName)!;
      const { sub, result } = this.call(ctx, node.name, callee, cursor);
      calls.push(sub);
      cursor = sub.end_time!;
      if (result === 'fault') outcome = 'fault';
      else if (result === 'throttle') {
        // The SDK retries a throttled call once; when the retry is throttled too the caller fails.
        cursor += this.selfSeconds(random, callee, cursor, node.name);
        if (random.chance(0.25)) outcome = 'fault';
      } else if (result === 'error' && random.chance(0.5)) outcome = 'error';
    }
    const end = cursor + own * 0.4;
    this.emit(ctx, node, start, end, outcome, parentId, calls, isEntry);
    return { end, outcome };
  }

  /** One call from a node to `callee`: the caller's subsegment, and the callee's own segments if it traces. */
  private call(
    ctx: RequestContext,
    caller: string,
    callee: NodeSpec,
    start: number,
  ): { sub: Subsegment; result: Outcome } {
    const { random } = ctx;
    const network = 0.0005 + random.next() * 0.0015;
    const sub: Subsegment = { id: random.hex(16), name: callee.name, start_time: round(start) };

    if (INSTRUMENTED_KINDS.includes(callee.kind)) {
      sub.namespace = callee.kind === 'lambda' ? 'aws' : 'remote';
      if (callee.kind === 'lambda') {
        sub.name = 'Lambda';
        sub.aws = {
          operation: 'Invoke',
          function_name: callee.name,
          region: REGION,
          request_id: uuid(random),
        };
      } else {
        sub.http = { request: { method: 'POST', url: `http://${callee.name}.internal/api` } };
      }
      const { end, outcome } = this.visit(ctx, callee, start + network / 2, sub.id, false, caller);
      sub.end_time = round(end + network / 2);
      setOutcome(sub, outcome, random);
      return { sub, result: outcome };
    }

    const outcome = this.draw(random, callee, start, caller);
    const duration = this.selfSeconds(random, callee, start, caller) + network;
    sub.end_time = round(start + duration);
    if (callee.kind === 'remote') {
      sub.namespace = 'remote';
      sub.http = { request: { method: 'POST', url: `https://${callee.name}/v1/charges` } };
    } else {
      sub.name = AWS_SERVICE_NAMES[callee.kind]!;
      sub.namespace = 'aws';
      sub.aws = awsCallFields(callee, random);
    }
    setOutcome(sub, outcome, random);

    for (const consumerName of callee.consumers ?? []) {
      if (outcome !== 'ok') break;
      // The consumer's segment hangs off the inferred queue node, so the graph reads queue → worker.
      const queueNodeId = derivedEntityId(ctx.traceId, sub.id, 'inferred');
      const delivered = sub.end_time + 0.01 + random.logNormal(0.05, 0.8);
      this.visit(ctx, this.nodes.get(consumerName)!, delivered, queueNodeId, false);
    }
    return { sub, result: outcome };
  }

  private emit(
    ctx: RequestContext,
    node: NodeSpec,
    start: number,
    end: number,
    outcome: Outcome,
    parentId: string | undefined,
    calls: Subsegment[],
    isEntry: boolean,
  ): void {
    const { random, traceId } = ctx;
    const base = (name: string, origin: string, from: number, to: number): SegmentDocument => {
      const segment: SegmentDocument = {
        trace_id: traceId,
        id: random.hex(16),
        name,
        start_time: round(from),
        end_time: round(to),
        origin,
      };
      return segment;
    };
    const annotate = (segment: SegmentDocument) => {
      segment.annotations = {
        tenant: ctx.tenant,
        entry_path: ctx.entry.path,
        cold_start: random.chance(0.02),
      };
    };

    if (node.kind === 'lambda') {
      const service = base(node.name, 'AWS::Lambda', start, end);
      if (parentId) service.parent_id = parentId;
      service.resource_arn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${node.name}`;
      service.aws = { request_id: uuid(random), account_id: ACCOUNT_ID };
      service.http = { response: { status: 200 } };
      setOutcome(service, outcome, random, false);
      const fn = base(node.name, 'AWS::Lambda::Function', start + 0.0008, end - 0.0003);
      fn.parent_id = service.id;
      fn.aws = { function_arn: service.resource_arn, resource_names: [node.name], account_id: ACCOUNT_ID };
      const invocation: Subsegment = {
        id: random.hex(16),
        name: 'Invocation',
        start_time: fn.start_time,
        end_time: round(end - 0.0006),
        subsegments: calls,
      };
      setOutcome(invocation, outcome, random);
      fn.subsegments = [
        invocation,
        { id: random.hex(16), name: 'Overhead', start_time: invocation.end_time!, end_time: fn.end_time! },
      ];
      setOutcome(fn, outcome, random);
      annotate(fn);
      fn.metadata = { default: { items: 1 + Math.floor(random.next() * 6) } };
      ctx.documents.push(service, fn);
      return;
    }

    const origin =
      node.kind === 'apigateway'
        ? 'AWS::ApiGateway::Stage'
        : node.kind === 'ecs'
          ? 'AWS::ECS::Container'
          : 'AWS::EC2::Instance';
    const segment = base(node.name, origin, start, end);
    if (parentId) segment.parent_id = parentId;
    const url =
      node.kind === 'apigateway'
        ? `https://shop.example.com${ctx.entry.path}`
        : isEntry
          ? `https://${node.name}.example.com${ctx.entry.path}`
          : `http://${node.name}.internal/api`;
    segment.http = {
      request: {
        method: isEntry ? ctx.entry.method : 'POST',
        url,
        ...(isEntry && {
          client_ip: `198.51.100.${Math.floor(random.next() * 250)}`,
          user_agent: 'Mozilla/5.0',
        }),
      },
      response: { status: 200 },
    };
    if (node.kind === 'apigateway') {
      segment.aws = {
        api_gateway: {
          account_id: ACCOUNT_ID,
          rest_api_id: 'a1b2c3d4e5',
          stage: 'prod',
          request_id: uuid(random),
        },
      };
    } else if (node.kind === 'ecs') {
      segment.aws = { ecs: { container: `${node.name}-7f9c`, cluster: 'shop' }, account_id: ACCOUNT_ID };
    } else {
      segment.aws = {
        ec2: { instance_id: `i-0${random.hex(16)}`, availability_zone: `${REGION}a` },
        account_id: ACCOUNT_ID,
      };
    }
    if (isEntry) {
      segment.user = ctx.user;
      annotate(segment);
    }
    if (calls.length > 0) segment.subsegments = calls;
    setOutcome(segment, outcome, random);
    ctx.documents.push(segment);
  }

  /** Draws a node's own outcome from its rates, raised by any active incident. */
  private draw(random: Random, node: NodeSpec, time: number, caller: string | undefined): Outcome {
    const rates = this.rates(node, time, caller);
    const u = random.next();
    if (u < rates.fault) return 'fault';
    if (u < rates.fault + rates.throttle) return 'throttle';
    if (u < rates.fault + rates.throttle + rates.error) return 'error';
    return 'ok';
  }

  private rates(node: NodeSpec, time: number, caller: string | undefined): Rates {
    const rates: Rates = { ...this.scenario.baseline, ...node.rates };
    for (const category of ['fault', 'error', 'throttle'] as const) {
      for (const incident of this.active(time, category)) {
        if (hits(incident, node, caller))
          rates[category] = Math.max(rates[category], this.strength(incident, time, 0));
      }
    }
    return rates;
  }

  private selfSeconds(random: Random, node: NodeSpec, time: number, caller: string | undefined): number {
    let multiplier = 1;
    for (const incident of this.active(time, 'latency')) {
      if (hits(incident, node, caller)) multiplier *= this.strength(incident, time, 1);
    }
    return (random.logNormal(node.latencyMs.median, this.sigma.get(node.name)!) * multiplier) / 1000;
  }

  private *active(time: number, category: ResolvedIncident['category']): Generator<ResolvedIncident> {
    for (const incident of this.incidents) {
      if (incident.category === category && time >= incident.startTime && time < incident.endTime)
        yield incident;
    }
  }

  /** An incident's magnitude at `time`: full for a step; for a ramp, from `neutral` up to the magnitude. */
  private strength(incident: ResolvedIncident, time: number, neutral: number): number {
    if (incident.shape !== 'ramp') return incident.magnitude;
    const progress = (time - incident.startTime) / (incident.endTime - incident.startTime);
    return neutral + (incident.magnitude - neutral) * progress;
  }
}

interface RequestContext {
  random: Random;
  traceId: string;
  documents: SegmentDocument[];
  entry: EntrypointSpec;
  tenant: string;
  user: string;
}

function setOutcome(
  entity: Subsegment | SegmentDocument,
  outcome: Outcome,
  random: Random,
  withCause = true,
): void {
  if (outcome === 'ok') return;
  const statuses = STATUS[outcome];
  const status = statuses[Math.floor(random.next() * statuses.length)]!;
  if (entity.http || 'origin' in entity) {
    entity.http ??= {};
    entity.http.response = { ...entity.http.response, status };
  }
  if (outcome === 'fault') entity.fault = true;
  else entity.error = true;
  if (outcome === 'throttle') entity.throttle = true;
  if (withCause && outcome === 'fault') {
    entity.cause = {
      exceptions: [
        {
          id: random.hex(16),
          type: status === 503 ? 'ServiceUnavailable' : 'InternalServerError',
          message: `HTTP ${status}`,
        },
      ],
    };
  }
}

function awsCallFields(node: NodeSpec, random: Random): SegmentDocument['aws'] {
  const resource = node.resource ?? node.name;
  switch (node.kind) {
    case 'dynamodb':
      return {
        operation: random.chance(0.7) ? 'GetItem' : 'PutItem',
        table_name: resource,
        region: REGION,
        request_id: random.hex(32).toUpperCase(),
        resource_names: [resource],
      };
    case 'sqs':
      return {
        operation: 'SendMessage',
        queue_url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${resource}`,
        region: REGION,
        request_id: uuid(random),
      };
    case 'sns':
      return {
        operation: 'Publish',
        topic_arn: `arn:aws:sns:${REGION}:${ACCOUNT_ID}:${resource}`,
        region: REGION,
        request_id: uuid(random),
      };
    default:
      return {
        operation: 'GetObject',
        bucket_name: resource,
        region: REGION,
        request_id: random.hex(16).toUpperCase(),
      };
  }
}

function uuid(random: Random): string {
  const h = random.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Microseconds are the SDKs' precision; more digits only lengthen the documents. */
function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/** Whether an incident hits a node's answer to a call from `caller`: its node, and its caller if it names one. */
function hits(incident: ResolvedIncident, node: NodeSpec, caller: string | undefined): boolean {
  return incident.service === node.name && (incident.caller === undefined || incident.caller === caller);
}
