import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { migrateLatest, migrateRollbackAll, isCheckViolation, isReferenced, translateSqlError, type Db } from '@vaultflow/db';
import { AppError } from '@vaultflow/errors';
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from '@vaultflow/testing';

async function tables(db: Db): Promise<string[]> {
  const [rows] = (await db.raw('SHOW TABLES')) as [Record<string, string>[]];
  return rows.map((r) => Object.values(r)[0]!).filter((t) => !t.startsWith('knex_')).sort();
}

describe('migrations', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase({ migrate: false, tag: 'mig' });
  });
  after(async () => t?.drop());

  it('go latest -> rollback all -> latest on a fresh database', async () => {
    const first = await migrateLatest(t.db, { directory: MIGRATIONS_DIR });
    expect(first.length).to.be.greaterThan(4);
    const all = await tables(t.db);
    for (const name of [
      'protection_flows', 'protection_flow_executions', 'replication_schedules', 'schedule_executions',
      'backup_repositories', 'backup_policies', 'backup_copy_rules', 'vcenters', 'vm_contexts', 'vm_disks',
      'machine_groups', 'vm_group_memberships', 'backup_jobs', 'backup_disks', 'users', 'api_tokens',
      'audit_log', 'job_logs',
    ]) expect(all, name).to.include(name);
    const reverted = await migrateRollbackAll(t.db, { directory: MIGRATIONS_DIR });
    expect(reverted.length).to.equal(first.length);
    expect(await tables(t.db)).to.deep.equal([]);
    const again = await migrateLatest(t.db, { directory: MIGRATIONS_DIR });
    expect(again).to.deep.equal(first);
    expect(await tables(t.db)).to.deep.equal(all);
  });

  it('opens every connection in UTC and READ COMMITTED, inside transactions too', async () => {
    const [[plain]] = (await t.db.raw('SELECT @@time_zone AS tz, @@tx_isolation AS iso')) as [{ tz: string; iso: string }[]];
    expect(plain).to.deep.equal({ tz: '+00:00', iso: 'READ-COMMITTED' });
    const inTx = await t.db.transaction(async (trx) => ((await trx.raw('SELECT @@tx_isolation AS iso')) as [{ iso: string }[]])[0][0]!.iso);
    expect(inTx).to.equal('READ-COMMITTED');
  });

  describe('constraints', () => {
    let repoId: number;
    let scheduleId: string;
    before(async () => {
      const ids = (await t.db('backup_repositories').insert({
        name: 'r1', repository_type: 'local', config: JSON.stringify({ path: '/tmp' }),
      })) as number[];
      repoId = ids[0]!;
      scheduleId = randomUUID();
      await t.db('replication_schedules').insert({ id: scheduleId, name: 's1', cron_expression: '0 2 * * *' });
    });

    const flow = (over: Record<string, unknown>) => ({
      id: randomUUID(), name: `f-${randomUUID()}`, flow_type: 'backup', target_type: 'vm', target_id: 'vm-1', ...over,
    });

    it('has the job sheet defaults and a UUID default id', async () => {
      await t.db('protection_flows').insert({ name: 'defaults', flow_type: 'backup', target_type: 'vm', target_id: 'x', repository_id: repoId });
      const row = await t.db('protection_flows').where({ name: 'defaults' }).first();
      expect(row.id).to.match(/^[0-9a-f-]{36}$/);
      expect(row.enabled).to.equal(1);
      expect(row.last_execution_status).to.equal('pending');
      expect(row.total_executions).to.equal(0);
      expect(row.created_by).to.equal('system');
    });

    it('rejects a backup flow without repository_id and a replication flow without destination_type', async () => {
      let err: unknown;
      try { await t.db('protection_flows').insert(flow({ repository_id: null })); } catch (e) { err = e; }
      expect(isCheckViolation(err), String(err)).to.equal(true);
      err = undefined;
      try { await t.db('protection_flows').insert(flow({ flow_type: 'replication' })); } catch (e) { err = e; }
      expect(isCheckViolation(err), String(err)).to.equal(true);
      await t.db('protection_flows').insert(flow({ flow_type: 'replication', destination_type: 'vmware' }));
    });

    it('refuses to delete a repository a flow uses', async () => {
      await t.db('protection_flows').insert(flow({ repository_id: repoId }));
      let err: unknown;
      try { await t.db('backup_repositories').where({ id: repoId }).delete(); } catch (e) { err = e; }
      expect(isReferenced(err), String(err)).to.equal(true);
    });

    it('deletes executions with their flow', async () => {
      const f = flow({ repository_id: repoId });
      await t.db('protection_flows').insert(f);
      await t.db('protection_flow_executions').insert([
        { id: randomUUID(), flow_id: f.id, execution_type: 'manual' },
        { id: randomUUID(), flow_id: f.id, execution_type: 'api' },
      ]);
      await t.db('protection_flows').where({ id: f.id }).delete();
      const rows = await t.db('protection_flow_executions').where({ flow_id: f.id }).count({ n: '*' });
      expect(Number(rows[0]?.n)).to.equal(0);
    });

    it('leaves flows with schedule_id NULL when their schedule is deleted', async () => {
      const f = flow({ repository_id: repoId, schedule_id: scheduleId });
      await t.db('protection_flows').insert(f);
      await t.db('replication_schedules').where({ id: scheduleId }).delete();
      const row = await t.db('protection_flows').where({ id: f.id }).first();
      expect(row.schedule_id).to.equal(null);
    });

    it('become client errors with generic messages: the kind of rule, not the server text (which names the database)', async () => {
      const failure = async (write: () => Promise<unknown>): Promise<{ sqlMessage: string }> => {
        try {
          await write();
        } catch (e) {
          return e as { sqlMessage: string };
        }
        throw new Error('the write was expected to fail');
      };
      const taken = flow({ repository_id: repoId });
      await t.db('protection_flows').insert(taken);
      const cases = [
        { err: await failure(() => t.db('protection_flows').insert(flow({ repository_id: null }))), status: 422, code: 'CONSTRAINT_VIOLATED', says: /check constraint/ },
        { err: await failure(() => t.db('protection_flows').insert(flow({ repository_id: 999_999 }))), status: 422, code: 'REFERENCE_NOT_FOUND', says: /referenced object .* does not exist/ },
        { err: await failure(() => t.db('backup_repositories').where({ id: repoId }).delete()), status: 409, code: 'FLOW_IN_USE', says: /still referenced/ },
        { err: await failure(() => t.db('protection_flows').insert(flow({ repository_id: repoId, name: taken.name }))), status: 409, code: 'FLOW_DUPLICATE', says: /same unique value/ },
        { err: await failure(() => t.db('protection_flows').insert(flow({ repository_id: repoId, name: 'n'.repeat(300) }))), status: 422, code: 'INVALID_VALUE', says: /too long/ },
        { err: await failure(() => t.db('protection_flows').insert(flow({ repository_id: repoId, target_id: null }))), status: 422, code: 'INVALID_VALUE', says: /missing/ },
      ];
      for (const c of cases) {
        const out = translateSqlError(c.err, 'flow');
        expect(out, c.code).to.be.instanceOf(AppError);
        const app = out as AppError;
        expect([app.status, app.code], c.err.sqlMessage).to.deep.equal([c.status, c.code]);
        expect(app.message, c.code).to.match(c.says);
        for (const leak of [t.name, c.err.sqlMessage, '`', 'protection_flows', 'CONSTRAINT']) expect(app.message, c.code).to.not.include(leak);
        expect(JSON.stringify(app.details)).to.not.include(t.name);
        // the server's own words stay with the error, for the hub log
        expect((app.cause as { sqlMessage?: string } | undefined)?.sqlMessage, c.code).to.equal(c.err.sqlMessage);
      }
      expect(cases[0]!.err.sqlMessage).to.include(t.name);
      const other = new Error('not from the database');
      expect(translateSqlError(other, 'flow')).to.equal(other);
    });

    it('allows one execution per (flow, scheduled_for) and any number of manual ones', async () => {
      const f = flow({ repository_id: repoId });
      await t.db('protection_flows').insert(f);
      const at = new Date('2026-11-27T02:00:00Z');
      await t.db('protection_flow_executions').insert({ id: randomUUID(), flow_id: f.id, execution_type: 'scheduled', scheduled_for: at });
      let err: any;
      try {
        await t.db('protection_flow_executions').insert({ id: randomUUID(), flow_id: f.id, execution_type: 'scheduled', scheduled_for: at });
      } catch (e) { err = e; }
      expect(err?.errno).to.equal(1062);
      await t.db('protection_flow_executions').insert([
        { id: randomUUID(), flow_id: f.id, execution_type: 'manual' },
        { id: randomUUID(), flow_id: f.id, execution_type: 'manual' },
      ]);
    });
  });
});
