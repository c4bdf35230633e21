import type { Knex } from 'knex';

/** A query runner: the pool or an open transaction. */
export type Queryable = Knex | Knex.Transaction;

export const bool = (v: unknown): boolean => v === true || v === 1 || v === '1';

/** MariaDB JSON columns arrive as text; parse them, leave already-parsed values alone. */
export function json<T = unknown>(v: unknown): T | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    try {
      return JSON.parse(v) as T;
    } catch {
      return null;
    }
  }
  return v as T;
}

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export interface Page {
  limit: number;
  offset: number;
  sort?: string;
  order?: 'asc' | 'desc';
}

/**
 * Runs `base` twice: once counted, once sorted and paged. `sortColumns` maps the API's sort names
 * to SQL columns (the API schema already restricts the names; unknown ones fall back to the first).
 */
export async function paged<T>(base: Knex.QueryBuilder, page: Page, sortColumns: Record<string, string>, tiebreak: string): Promise<{ rows: T[]; total: number }> {
  const counted = (await base.clone().clearSelect().clearOrder().count({ n: '*' }).first()) as { n: number } | undefined;
  const column = sortColumns[page.sort ?? ''] ?? Object.values(sortColumns)[0]!;
  const rows = (await base
    .clone()
    .orderBy(column, page.order ?? 'asc')
    .orderBy(tiebreak, 'asc')
    .limit(page.limit)
    .offset(page.offset)) as T[];
  return { rows, total: num(counted?.n) };
}

/** Escapes LIKE wildcards so a search for "50%" finds "50%" only. */
export function likeContains(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
