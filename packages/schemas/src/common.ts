import { Type, type TSchema, type TObject, type Static, type SchemaOptions } from '@sinclair/typebox';

/** Schemas registered under a name become OpenAPI components and GUI type names. */
const names = new Map<TSchema, string>();

/** Registers `schema` under `name` (for OpenAPI) and returns it unchanged. */
export function named<T extends TSchema>(name: string, schema: T): T {
  names.set(schema, name);
  return schema;
}

export function schemaName(schema: TSchema): string | undefined {
  return names.get(schema);
}

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** Identifiers: UUIDs and other opaque ids. No path tricks, no spaces, no quotes. */
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });
/** Integer ids (repositories, policies). */
export const IntId = Type.Integer({ minimum: 1, maximum: 2147483647 });
/**
 * Display names: 1-255 characters, not blank, no control characters (C0, DEL, C1, line/paragraph
 * separators, and the bidirectional overrides that make a name display as something else).
 */
export const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '^(?=.*\\S)[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]+$' });
export const Description = Type.String({ maxLength: 4096 });
export const Timestamp = Type.String({ format: 'date-time' });

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const IntIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) }, { additionalProperties: false });

export const Order = StringEnum(['asc', 'desc'] as const);

/** Paging fields every list query has; `sort` values are listed per resource. */
export function listQuery<S extends string, P extends Record<string, TSchema>>(sorts: readonly S[], filters: P) {
  return Type.Object(
    {
      limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
      offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
      sort: StringEnum(sorts, { default: sorts[0] }),
      order: Type.Optional(Order),
      ...filters,
    },
    { additionalProperties: false },
  );
}

export const ErrorResponse = named(
  'ErrorResponse',
  Type.Object({
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
      request_id: Type.String(),
    }),
  }),
);
export type ErrorResponse = Static<typeof ErrorResponse>;

/** A string enum (JSON Schema `enum`), typed as the union of its values. */
export function StringEnum<T extends readonly string[]>(values: T, opts: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });
}

export type { TObject, TSchema, Static };
