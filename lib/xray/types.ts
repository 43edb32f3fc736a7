/**
 * Segment documents as X-Ray defines them (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html).
 *
 * Every interface is open (`[key: string]: unknown`) because real producers send fields the docs and the
 * published schema never list (`service.runtime`, `aws.function_arn`, `links`, the Go SDK's `Dummy`...),
 * and X-Ray keeps them. Only the fields xray-lake reads are typed.
 */

export type AnnotationValue = string | number | boolean;

export interface HttpRequest {
  method?: string;
  url?: string;
  user_agent?: string;
  client_ip?: string;
  x_forwarded_for?: boolean;
  traced?: boolean;
  [key: string]: unknown;
}

export interface HttpResponse {
  status?: number;
  /** X-Ray accepts a number, and real SDKs also send the number as a string ("861"). */
  content_length?: number | string;
  [key: string]: unknown;
}

export interface HttpBlock {
  request?: HttpRequest;
  response?: HttpResponse;
  [key: string]: unknown;
}

export interface AwsBlock {
  account_id?: string;
  operation?: string;
  region?: string;
  request_id?: string;
  table_name?: string;
  queue_url?: string;
  resource_names?: string[];
  function_arn?: string;
  [key: string]: unknown;
}

export interface SqlBlock {
  url?: string;
  connection_string?: string;
  database_type?: string;
  database_version?: string;
  driver_version?: string;
  user?: string;
  preparation?: string;
  sanitized_query?: string;
  [key: string]: unknown;
}

export interface StackFrame {
  path?: string;
  line?: number;
  label?: string;
  [key: string]: unknown;
}

export interface ExceptionInfo {
  id?: string;
  message?: string;
  type?: string;
  remote?: boolean;
  truncated?: number;
  skipped?: number;
  cause?: string;
  stack?: StackFrame[];
  [key: string]: unknown;
}

export interface CauseObject {
  working_directory?: string;
  paths?: string[];
  exceptions?: ExceptionInfo[];
  [key: string]: unknown;
}

/** A cause is an object with exceptions, or the 16-hex-digit id of an exception recorded elsewhere in the trace. */
export type Cause = CauseObject | string;

export const NAMESPACES = ['aws', 'remote', 'local'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** Fields segments and subsegments share. */
export interface EntityFields {
  id: string;
  name: string;
  start_time: number;
  end_time?: number;
  in_progress?: boolean;
  error?: boolean;
  throttle?: boolean;
  fault?: boolean;
  cause?: Cause;
  http?: HttpBlock;
  aws?: AwsBlock;
  sql?: SqlBlock;
  annotations?: Record<string, AnnotationValue>;
  metadata?: Record<string, unknown>;
  subsegments?: Subsegment[];
  namespace?: Namespace;
  precursor_ids?: string[];
  [key: string]: unknown;
}

/** An embedded subsegment (inside a segment's or another subsegment's `subsegments`). */
export type Subsegment = EntityFields;

/** A top-level document: a segment, or a subsegment sent on its own. */
export interface SegmentDocument extends EntityFields {
  trace_id: string;
  /** Present on independent subsegments ("subsegment") and absent on segments. */
  type?: 'subsegment';
  parent_id?: string;
  origin?: string;
  user?: string;
  resource_arn?: string;
  service?: { version?: string; [key: string]: unknown };
  /** Set by X-Ray on the segments it infers from `aws` and `remote` subsegments. */
  inferred?: boolean;
}

/** A segment document as stored: the parsed document plus what the service knows about its arrival. */
export interface ReceivedDocument {
  document: SegmentDocument;
  /** Epoch seconds when the service accepted the document. */
  receivedAt: number;
}

/** The API's own shapes (GetTraceSummaries), as the X-Ray SDK models them. */
export interface ApiServiceId {
  Name?: string;
  Names?: string[];
  AccountId?: string;
  Type?: string;
}

export interface ApiAnnotationValue {
  NumberValue?: number;
  BooleanValue?: boolean;
  StringValue?: string;
}

export interface ApiValueWithServiceIds {
  AnnotationValue?: ApiAnnotationValue;
  ServiceIds?: ApiServiceId[];
}

export interface ApiRootCauseException {
  Name?: string;
  Message?: string;
}

export interface ApiEntityPath {
  Name?: string;
  Exceptions?: ApiRootCauseException[];
  Remote?: boolean;
}

export interface ApiRootCauseService {
  Name?: string;
  Names?: string[];
  Type?: string;
  AccountId?: string;
  EntityPath?: ApiEntityPath[];
  Inferred?: boolean;
}

export interface ApiRootCause {
  Services?: ApiRootCauseService[];
  ClientImpacting?: boolean;
}

export interface ApiHttp {
  HttpURL?: string;
  HttpStatus?: number;
  HttpMethod?: string;
  UserAgent?: string;
  ClientIp?: string;
}

/** One entry of GetTraceSummaries' `TraceSummaries`, with times as epoch seconds (the restJson1 wire form). */
export interface ApiTraceSummary {
  Id: string;
  StartTime: number;
  Duration: number;
  ResponseTime: number;
  HasFault: boolean;
  HasError: boolean;
  HasThrottle: boolean;
  IsPartial: boolean;
  Http: ApiHttp;
  Annotations: Record<string, ApiValueWithServiceIds[]>;
  Users: { UserName?: string; ServiceIds?: ApiServiceId[] }[];
  ServiceIds: ApiServiceId[];
  ResourceARNs: { ARN?: string }[];
  EntryPoint?: ApiServiceId;
  FaultRootCauses: ApiRootCause[];
  ErrorRootCauses: ApiRootCause[];
  Revision: number;
  MatchedEventTime?: number;
}
