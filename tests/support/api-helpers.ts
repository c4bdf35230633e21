import { expect } from 'chai';
import { stat, statfs } from 'node:fs/promises';
import type { HttpResult, TestHub } from './hub.js';

/** The routes of the supporting resources, as the API tests call them. */
export const PATHS = {
  schedules: '/api/v1/schedules',
  repositories: '/api/v1/repositories',
  policies: '/api/v1/policies',
  groups: '/api/v1/machine-groups',
  vms: '/api/v1/vms',
  vcenters: '/api/v1/vcenters',
  backups: '/api/v1/backups',
  flows: '/api/v1/protection-flows',
} as const;

/** The fields named by an error answer. */
export function fieldsOf(res: HttpResult): string[] {
  return ((res.body?.error?.details ?? []) as { field: string }[]).map((d) => d.field);
}

/** The ids of a list answer (VMs are identified by context_id). */
export function ids(list: { id?: string | number; context_id?: string }[]): (string | number)[] {
  return list.map((x) => x.id ?? x.context_id!);
}

/** Wall-clock time of `at` in `zone`, e.g. "2026-03-29 03:30". */
export function wallClock(at: string | Date, zone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(at))
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** statfs figures as the API computes them. */
export async function fsFigures(p: string) {
  const s = await statfs(p);
  return { total: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize };
}

/** The answer carries exactly the fields its schema documents: nothing missing, nothing internal. */
export function expectDocumentedFields(body: Record<string, unknown>, schema: { properties: Record<string, unknown> }, what: string): void {
  expect(Object.keys(body).sort(), what).to.deep.equal(Object.keys(schema.properties).sort());
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** The audit trail of one entity, oldest first. */
export function auditOf(hub: TestHub, entityType: string, entityId: string | number) {
  return hub.db.db('audit_log').where({ entity_type: entityType, entity_id: String(entityId) }).orderBy('id').select('actor', 'action', 'details', 'request_id');
}

export async function countRows(hub: TestHub, table: string): Promise<number> {
  return Number(((await hub.db.db(table).count({ n: '*' }).first()) as { n: number }).n);
}

/** Every action in `actions` left at least one audit_log row (of `entityTypes`), each with an actor and a request id. */
export async function expectAuditedActions(hub: TestHub, entityTypes: string[], actions: string[]): Promise<void> {
  const rows = (await hub.db.db('audit_log').whereIn('entity_type', entityTypes).select('action', 'actor', 'request_id')) as { action: string; actor: string; request_id: string | null }[];
  const seen = new Set(rows.map((r) => r.action));
  for (const a of actions) expect(seen, a).to.include(a);
  expect(rows.every((r) => r.actor.length > 0 && typeof r.request_id === 'string' && r.request_id.length > 0)).to.equal(true);
}
