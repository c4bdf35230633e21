import type { Ajv } from 'ajv';

/**
 * Bounds for free-form JSON values (objects whose shape the API does not know), checked by the
 * `x-json-limits` schema keyword. JSON Schema can bound one level; these bound the whole tree, so
 * that no deeply nested or oversized value gets past validation (to the database's JSON checks,
 * or to code that walks values recursively).
 */
export interface JsonLimits {
  /** Containers (objects and arrays) on the deepest path, the value itself included. */
  maxDepth: number;
  /** Length of the value as JSON text, in UTF-8 bytes. */
  maxBytes: number;
  /** Length of every string value and every key, at any depth. */
  maxStringLength: number;
}

export const JSON_LIMITS_KEYWORD = 'x-json-limits';

/**
 * Why `value` exceeds `limits`, or undefined when it does not. Iterative and stops at the first
 * container past maxDepth, so any depth of input is safe to check; the size is measured only for
 * values within the depth limit.
 */
export function jsonLimitProblem(value: unknown, limits: JsonLimits): string | undefined {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) return `holds a string longer than ${limits.maxStringLength} characters`;
    } else if (v !== null && typeof v === 'object') {
      if (depth + 1 > limits.maxDepth) return `is nested more than ${limits.maxDepth} levels deep`;
      if (Array.isArray(v)) {
        for (const item of v) stack.push({ v: item, depth: depth + 1 });
      } else {
        for (const [k, item] of Object.entries(v)) {
          if (k.length > limits.maxStringLength) return `holds a key longer than ${limits.maxStringLength} characters`;
          stack.push({ v: item, depth: depth + 1 });
        }
      }
    }
  }
  if (new TextEncoder().encode(JSON.stringify(value)).length > limits.maxBytes) return `is larger than ${limits.maxBytes} bytes as JSON`;
  return undefined;
}

/** Registers the `x-json-limits` keyword (its value: JsonLimits) with `ajv`. */
export function addJsonLimitsKeyword(ajv: Ajv): Ajv {
  return ajv.addKeyword({
    keyword: JSON_LIMITS_KEYWORD,
    schemaType: 'object',
    errors: true,
    validate: function check(limits: JsonLimits, data: unknown): boolean {
      const problem = jsonLimitProblem(data, limits);
      (check as { errors?: unknown[] }).errors = problem ? [{ keyword: JSON_LIMITS_KEYWORD, message: problem, params: { ...limits } }] : [];
      return problem === undefined;
    },
  });
}
