import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { addJsonLimitsKeyword } from './json-limits.js';

const addFormats = addFormatsImport as unknown as typeof addFormatsImport.default;

export interface FieldIssue {
  field: string;
  message: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/** Where the data came from: bodies and responses are taken as sent; query and path strings are coerced. */
export type Source = 'body' | 'query' | 'params' | 'response';

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, coerceTypes: coerce, useDefaults: coerce, strict: false, removeAdditional: false });
  addFormats(ajv);
  addJsonLimitsKeyword(ajv);
  return ajv;
}

const exact = makeAjv(false);
const coercing = makeAjv(true);
const cache = { exact: new WeakMap<TSchema, ValidateFunction>(), coercing: new WeakMap<TSchema, ValidateFunction>() };

function compiled(schema: TSchema, coerce: boolean): ValidateFunction {
  const map = coerce ? cache.coercing : cache.exact;
  let fn = map.get(schema);
  if (!fn) {
    fn = (coerce ? coercing : exact).compile(schema);
    map.set(schema, fn);
  }
  return fn;
}

function fieldOf(source: Source, e: ErrorObject): string {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') path.push(String((e.params as { missingProperty: string }).missingProperty));
  if (e.keyword === 'additionalProperties') path.push(String((e.params as { additionalProperty: string }).additionalProperty));
  return [source, ...path].join('.');
}

/** What well-known formats look like, for messages that say what is expected. */
const FORMAT_HINTS: Record<string, string> = {
  'date-time': 'a date and time in RFC 3339 form, e.g. 2026-11-27T13:00:00Z',
  date: 'a date in the form YYYY-MM-DD',
  time: 'a time in the form HH:MM:SS',
  email: 'an e-mail address',
  uri: 'an absolute URI, e.g. https://host/path',
  uuid: 'a UUID, e.g. 123e4567-e89b-12d3-a456-426614174000',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  hostname: 'a host name',
};

/** "IANA time zone" -> "an IANA time zone"; phrases that start with an article or a number stay as they are. */
export function withArticle(phrase: string): string {
  const first = phrase.split(/\s+/)[0] ?? '';
  if (/^(a|an|the|one)$/i.test(first) || /^\d/.test(first)) return phrase;
  const acronym = first.length > 1 && first === first.toUpperCase() && /[A-Z]/.test(first[0] ?? '');
  const vowel = acronym ? /^[AEFHILMNORSX]/.test(first) : /^[aeiou]/i.test(first);
  return `${vowel ? 'an' : 'a'} ${phrase}`;
}

function messageOf(e: ErrorObject): string {
  const s = e.parentSchema as { description?: string } | undefined;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'pattern':
      // a described field says what it expects; an undescribed one cannot name more than its refusal
      return s?.description ? `must be ${withArticle(s.description)}` : 'has a form that is not allowed';
    case 'enum':
      return `must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}`;
    case 'format': {
      const format = (e.params as { format: string }).format;
      const expected = FORMAT_HINTS[format] ?? (s?.description ? withArticle(s.description) : undefined);
      return expected ? `must be ${expected}` : `must be a valid ${format}`;
    }
    case 'minProperties':
      return 'must contain at least one field';
    default:
      return e.message ?? 'is invalid';
  }
}

/** One issue per field: the most telling message (for `T | null` unions, the message about T). */
function toIssues(source: Source, errors: ErrorObject[]): FieldIssue[] {
  const byField = new Map<string, string>();
  for (const e of errors) {
    if (e.keyword === 'anyOf' || (e.keyword === 'type' && (e.params as { type: string }).type === 'null')) continue;
    const field = fieldOf(source, e);
    if (!byField.has(field)) byField.set(field, messageOf(e));
  }
  if (byField.size === 0 && errors[0]) byField.set(fieldOf(source, errors[0]), messageOf(errors[0]));
  return [...byField].map(([field, message]) => ({ field, message }));
}

/** A UTF-16 surrogate without its pair: JSON can carry it, but it is not text (and MariaDB refuses it). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Fields of `data` (keys or string values, at any depth) that are not well-formed Unicode text. */
function malformedText(data: unknown, field: string, out: FieldIssue[]): FieldIssue[] {
  if (typeof data === 'string') {
    if (LONE_SURROGATE.test(data)) out.push({ field, message: 'is not valid Unicode text' });
  } else if (Array.isArray(data)) {
    data.forEach((v, i) => malformedText(v, `${field}.${i}`, out));
  } else if (data !== null && typeof data === 'object') {
    for (const [k, v] of Object.entries(data)) {
      if (LONE_SURROGATE.test(k)) out.push({ field: `${field}.${k}`, message: 'is not valid Unicode text' });
      else malformedText(v, `${field}.${k}`, out);
    }
  }
  return out;
}

/**
 * Validates `data` against `schema`. Query and path values are coerced from strings and receive
 * defaults; a copy is validated, never the caller's object. Bodies must also be well-formed Unicode
 * text throughout. Returns every problem, one per field.
 */
export function validate<T>(source: Source, schema: TSchema, data: unknown): Validation<T> {
  const coerce = source === 'query' || source === 'params';
  const value = coerce ? structuredClone({ ...(data as object) }) : data;
  const fn = compiled(schema, coerce);
  if (!fn(value)) return { ok: false, issues: toIssues(source, fn.errors ?? []) };
  const text = source === 'body' ? malformedText(value, source, []) : [];
  return text.length ? { ok: false, issues: text } : { ok: true, value: value as T };
}
