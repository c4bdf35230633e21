import { validate, type TSchema } from '@vaultflow/schemas';
import { ApiError } from '../api/api-error.js';

/** Problems by field path below the body ("name", "retention.keep_last"). */
export type FieldErrors = Record<string, string>;

/** Turns the validator's terse wording into a phrase that reads after a field label. */
export function humanize(message: string): string {
  let m: RegExpExecArray | null;
  if (/must NOT have fewer than 1 characters?/.test(message)) return 'is required';
  if ((m = /must NOT have fewer than (\d+) characters/.exec(message))) return `must be at least ${m[1]} characters`;
  if ((m = /must NOT have more than (\d+) characters/.exec(message))) return `must be at most ${m[1]} characters`;
  if ((m = /must be >= (-?\d+)/.exec(message))) return `must be at least ${m[1]}`;
  if ((m = /must be <= (-?\d+)/.exec(message))) return `must be at most ${m[1]}`;
  if (/must be integer/.test(message)) return 'must be a whole number';
  if (/must NOT have fewer than 1 items/.test(message)) return 'needs at least one entry';
  return message;
}

/** Field problems as the API names them ("body.name") -> by path below the body. */
export function toFieldErrors(details: { field: string; message: string }[]): FieldErrors {
  const out: FieldErrors = {};
  for (const d of details) {
    const key = d.field.replace(/^body\.?/, '') || '_';
    out[key] ??= humanize(d.message);
  }
  return out;
}

/**
 * Checks `body` with the API's own validator and schema before sending it, so the messages are the
 * ones the API would answer. Returns undefined when it is valid.
 */
export function checkBody(schema: TSchema, body: unknown): FieldErrors | undefined {
  const v = validate('body', schema, body);
  return v.ok ? undefined : toFieldErrors(v.issues);
}

/** The field problems an API error names (none for errors without details). */
export function fieldErrorsOf(err: unknown): FieldErrors {
  return err instanceof ApiError ? toFieldErrors(err.details) : {};
}
