import { FilterExpressionError } from './errors.js';
import type { ApiTraceSummary } from './types.js';

/**
 * The subset of X-Ray's filter expression language (xray-console-filters.html) that xray-local serves:
 *
 * - boolean keywords `ok`, `fault`, `error`, `throttle`, `partial`, alone or compared `= true|false`
 * - `responsetime`, `duration`, `http.status` with `= != < <= > >=` and a number
 * - `http.url`, `http.method`, `http.useragent`, `http.clientip`, `user` with `= != CONTAINS BEGINSWITH ENDSWITH`
 * - `service("name")`: the trace passed through that service
 * - `annotation.KEY` alone (present), or compared with a string, number or boolean
 * - `AND`, `OR`, `NOT` (or `!`) and parentheses; AND binds tighter than OR
 *
 * Anything else is rejected with a {@link FilterExpressionError} naming the position, so a caller never
 * mistakes an unsupported filter for an empty result.
 */
export type TraceFilter = (summary: ApiTraceSummary) => boolean;

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'end'; at: number };

const COMPARISONS = ['=', '!=', '<', '<=', '>', '>='] as const;
const STRING_OPERATORS = ['=', '!=', 'CONTAINS', 'BEGINSWITH', 'ENDSWITH'] as const;
const BOOLEAN_KEYWORDS = ['ok', 'fault', 'error', 'throttle', 'partial'] as const;
const NUMBER_KEYWORDS = ['responsetime', 'duration', 'http.status'] as const;
const STRING_KEYWORDS = ['http.url', 'http.method', 'http.useragent', 'http.clientip', 'user'] as const;

/** Compiles a filter expression into a predicate over trace summaries. Throws {@link FilterExpressionError}. */
export function compileFilter(expression: string): TraceFilter {
  const parser = new Parser(expression, tokenize(expression));
  const filter = parser.parseOr();
  parser.expectEnd();
  return filter;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const char = source[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '"') {
      let text = '';
      let j = i + 1;
      while (j < source.length && source[j] !== '"') {
        if (source[j] === '\\' && j + 1 < source.length) j++;
        text += source[j];
        j++;
      }
      if (j >= source.length) throw new FilterExpressionError(source, i, 'unterminated string');
      tokens.push({ kind: 'string', text, at: i });
      i = j + 1;
    } else if (/[0-9.-]/.test(char) && /^-?(\d+\.?\d*|\.\d+)/.test(source.slice(i))) {
      const match = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(i))!;
      tokens.push({ kind: 'number', value: Number(match[0]), at: i });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.:-]*/.exec(source.slice(i))!;
      tokens.push({ kind: 'word', text: match[0], at: i });
      i += match[0].length;
    } else {
      const two = source.slice(i, i + 2);
      if (['!=', '<=', '>='].includes(two)) {
        tokens.push({ kind: 'op', text: two, at: i });
        i += 2;
      } else if ('=<>!(){},'.includes(char)) {
        tokens.push({ kind: 'op', text: char, at: i });
        i++;
      } else {
        throw new FilterExpressionError(source, i, `unexpected character "${char}"`);
      }
    }
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}

class Parser {
  private index = 0;
  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.index]!;
  }
  private next(): Token {
    return this.tokens[this.index++]!;
  }
  private fail(token: Token, reason: string): never {
    throw new FilterExpressionError(this.source, token.at, reason);
  }
  private isWord(token: Token, word: string): boolean {
    return token.kind === 'word' && token.text.toUpperCase() === word;
  }
  private isOp(token: Token, op: string): boolean {
    return token.kind === 'op' && token.text === op;
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'end') this.fail(token, `unexpected ${describe(token)}; expected AND, OR or the end`);
  }

  parseOr(): TraceFilter {
    let left = this.parseAnd();
    while (this.isWord(this.peek(), 'OR')) {
      this.next();
      const right = this.parseAnd();
      const l = left;
      left = (summary) => l(summary) || right(summary);
    }
    return left;
  }

  private parseAnd(): TraceFilter {
    let left = this.parseUnary();
    while (this.isWord(this.peek(), 'AND')) {
      this.next();
      const right = this.parseUnary();
      const l = left;
      left = (summary) => l(summary) && right(summary);
    }
    return left;
  }

  private parseUnary(): TraceFilter {
    const token = this.peek();
    if (this.isWord(token, 'NOT') || this.isOp(token, '!')) {
      this.next();
      const inner = this.parseUnary();
      return (summary) => !inner(summary);
    }
    if (this.isOp(token, '(')) {
      this.next();
      const inner = this.parseOr();
      const close = this.next();
      if (!this.isOp(close, ')')) this.fail(close, `expected ")" but found ${describe(close)}`);
      return inner;
    }
    return this.parsePredicate();
  }

  private parsePredicate(): TraceFilter {
    const token = this.next();
    if (token.kind !== 'word') this.fail(token, `expected a keyword but found ${describe(token)}`);
    const keyword = token.text.toLowerCase();

    if ((BOOLEAN_KEYWORDS as readonly string[]).includes(keyword)) {
      const read = booleanKeyword(keyword as (typeof BOOLEAN_KEYWORDS)[number]);
      const op = this.peek();
      if (!this.isOp(op, '=') && !this.isOp(op, '!=')) return read;
      const negate = this.next().kind === 'op' && op.kind === 'op' && op.text === '!=';
      const value = this.next();
      if (!(value.kind === 'word' && ['true', 'false'].includes(value.text.toLowerCase())))
        return this.fail(value, `${keyword} compares only with true or false`);
      const expected = value.text.toLowerCase() === 'true';
      return negate ? (s) => read(s) !== expected : (s) => read(s) === expected;
    }

    if ((NUMBER_KEYWORDS as readonly string[]).includes(keyword)) {
      const op = this.comparison(COMPARISONS, keyword);
      const value = this.next();
      if (value.kind !== 'number') this.fail(value, `${keyword} compares with a number`);
      const read = numberKeyword(keyword as (typeof NUMBER_KEYWORDS)[number]);
      return (summary) => {
        const actual = read(summary);
        return actual !== undefined && compare(actual, op, value.value);
      };
    }

    if ((STRING_KEYWORDS as readonly string[]).includes(keyword)) {
      const op = this.comparison(STRING_OPERATORS, keyword);
      const value = this.next();
      if (value.kind !== 'string') this.fail(value, `${keyword} compares with a quoted string`);
      const read = stringKeyword(keyword as (typeof STRING_KEYWORDS)[number]);
      return (summary) => read(summary).some((actual) => matchString(actual, op, value.text));
    }

    if (keyword === 'service') return this.parseService(token);
    if (keyword.startsWith('annotation.') && keyword.length > 'annotation.'.length)
      return this.parseAnnotation(token.text.slice('annotation.'.length));

    return this.fail(token, `unsupported keyword "${token.text}"`);
  }

  private comparison<T extends readonly string[]>(allowed: T, keyword: string): T[number] {
    const token = this.next();
    const text = token.kind === 'op' || token.kind === 'word' ? token.text.toUpperCase() : '';
    if (!allowed.includes(text)) this.fail(token, `${keyword} takes one of ${allowed.join(' ')}`);
    return text as T[number];
  }

  private parseService(keyword: Token): TraceFilter {
    const open = this.next();
    if (!this.isOp(open, '(')) this.fail(open, 'service needs ("name")');
    const name = this.next();
    if (name.kind !== 'string')
      this.fail(name, 'service needs a quoted service name; service() is not supported');
    const close = this.next();
    if (!this.isOp(close, ')')) this.fail(close, `expected ")" but found ${describe(close)}`);
    if (this.isOp(this.peek(), '{')) this.fail(this.peek(), 'service() { ... } conditions are not supported');
    void keyword;
    return (summary) =>
      summary.ServiceIds.some((id) => id.Name === name.text || id.Names?.includes(name.text));
  }

  private parseAnnotation(key: string): TraceFilter {
    const op = this.peek();
    const present: TraceFilter = (summary) => (summary.Annotations[key]?.length ?? 0) > 0;
    const isComparison =
      (op.kind === 'op' && (COMPARISONS as readonly string[]).includes(op.text)) ||
      (op.kind === 'word' && ['CONTAINS', 'BEGINSWITH', 'ENDSWITH'].includes(op.text.toUpperCase()));
    if (!isComparison) return present;
    this.next();
    const operator = op.kind === 'op' ? op.text : op.text.toUpperCase();
    const value = this.next();
    const values = (summary: ApiTraceSummary) =>
      (summary.Annotations[key] ?? []).map((entry) => entry.AnnotationValue);
    if (value.kind === 'string') {
      if (!(STRING_OPERATORS as readonly string[]).includes(operator))
        this.fail(op, `a string annotation takes one of ${STRING_OPERATORS.join(' ')}`);
      return (summary) =>
        values(summary).some(
          (v) => v?.StringValue !== undefined && matchString(v.StringValue, operator, value.text),
        );
    }
    if (value.kind === 'number') {
      if (!(COMPARISONS as readonly string[]).includes(operator))
        this.fail(op, `a number annotation takes one of ${COMPARISONS.join(' ')}`);
      return (summary) =>
        values(summary).some(
          (v) => v?.NumberValue !== undefined && compare(v.NumberValue, operator, value.value),
        );
    }
    if (value.kind === 'word' && ['true', 'false'].includes(value.text.toLowerCase())) {
      if (operator !== '=' && operator !== '!=') this.fail(op, 'a boolean annotation takes = or !=');
      const expected = value.text.toLowerCase() === 'true';
      return (summary) =>
        values(summary).some(
          (v) => v?.BooleanValue !== undefined && (operator === '=') === (v.BooleanValue === expected),
        );
    }
    return this.fail(value, `expected a string, number or boolean but found ${describe(value)}`);
  }
}

function booleanKeyword(keyword: (typeof BOOLEAN_KEYWORDS)[number]): (s: ApiTraceSummary) => boolean {
  switch (keyword) {
    case 'fault':
      return (s) => s.HasFault;
    case 'error':
      return (s) => s.HasError;
    case 'throttle':
      return (s) => s.HasThrottle;
    case 'partial':
      return (s) => s.IsPartial;
    case 'ok':
      return (s) => !s.HasFault && !s.HasError && !s.HasThrottle;
  }
}

function numberKeyword(
  keyword: (typeof NUMBER_KEYWORDS)[number],
): (s: ApiTraceSummary) => number | undefined {
  switch (keyword) {
    case 'responsetime':
      return (s) => s.ResponseTime;
    case 'duration':
      return (s) => s.Duration;
    case 'http.status':
      return (s) => s.Http.HttpStatus;
  }
}

function stringKeyword(keyword: (typeof STRING_KEYWORDS)[number]): (s: ApiTraceSummary) => string[] {
  const one = (value: string | undefined) => (value === undefined ? [] : [value]);
  switch (keyword) {
    case 'http.url':
      return (s) => one(s.Http.HttpURL);
    case 'http.method':
      return (s) => one(s.Http.HttpMethod);
    case 'http.useragent':
      return (s) => one(s.Http.UserAgent);
    case 'http.clientip':
      return (s) => one(s.Http.ClientIp);
    case 'user':
      return (s) => s.Users.flatMap((user) => one(user.UserName));
  }
}

function compare(actual: number, op: string, expected: number): boolean {
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    default:
      return actual >= expected;
  }
}

function matchString(actual: string, op: string, expected: string): boolean {
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case 'CONTAINS':
      return actual.includes(expected);
    case 'BEGINSWITH':
      return actual.startsWith(expected);
    default:
      return actual.endsWith(expected);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the expression';
    case 'number':
      return `number ${token.value}`;
    case 'string':
      return `string "${token.text}"`;
    default:
      return `"${token.text}"`;
  }
}
