import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { Repository } from '@vaultflow/backup-repository';
import type { Vcsim, VcsimVm } from '@vaultflow/testing';
import { follow, noise, sha256 } from '../support/backup-lab.js';
import { makeRepository } from '../support/fixtures.js';
import { startFlowLab, type FlowLab } from '../support/flow-lab.js';
import { unique, type TestHub } from '../support/hub.js';
import { finishedExecution, startExecution } from '../support/vcenter-lab.js';
import { restoredSha256 } from '../../packages/backup-repository/src/testing/restored-sha.js';

// A flow's retention policy, applied by the real backup worker after each successful VM backup of a
// flow execution (through the API, the real orchestrator, the vCenter simulator): the points the policy
// lets go lose their records and their manifests, the points it keeps still restore bit for bit, a
// backup made by hand is never touched, an immutable repository's lock wins over the policy, and the
// repository is pruned afterwards: chunks no point uses go, chunks another point still uses stay.

const KiB = 1024;
const MiB = 1024 * KiB;
const CAPACITY = 2 * MiB;
const API = '/api/v1';

describe('retention: a flow keeps what its policy says, and nothing else', function () {
  this.timeout(180_000);
  let hub: TestHub;
  let vc: Vcsim;
  let vm: VcsimVm;
  let vmId: string;
  let repo: { id: number; name: string; path: string };
  let flowId: string;
  let lab: FlowLab;
  /** Per execution, in order: the backup it made and the disk's content at its snapshot. */
  const made: Array<{ id: string; point: string; image: Buffer }> = [];
  let manual: string;

  const diskKey = () => String(vm.disks[0]!.key);
  const flowBackups = async (): Promise<string[]> => (await hub.db.db('backup_jobs as b')
    .join('protection_flow_executions as e', 'e.id', 'b.flow_execution_id')
    .where({ 'e.flow_id': flowId, 'b.status': 'success' }).orderBy('b.started_at').select('b.id')).map((r: { id: string }) => r.id);

  /** Changes the guest, runs the flow once, and records what it made. */
  async function runOnce(i: number): Promise<any> {
    // the same 64 KiB every time: each point holds its own chunk there, the rest of the disk stays zero
    await vc.write(vm.ref, vm.disks[0]!.key, 0, noise(64 * KiB, i + 0.5));
    const image = await readFile(vm.disks[0]!.flatPath);
    const done = await finishedExecution(hub, flowId, await startExecution(hub, flowId));
    expect(done.status, JSON.stringify(done)).to.equal('success');
    await lab.settled(); // copies, retention and prune follow the VM's result
    const b = await hub.db.db('backup_jobs').where({ flow_execution_id: done.id }).first();
    made.push({ id: b.id, point: b.manifest_ref, image });
    return done;
  }

  const logsOf = async (executionId: string, step = 'retention'): Promise<string[]> => (await hub.db.db('job_logs').where({ execution_id: executionId, step }).orderBy('id').select('message')).map((r: { message: string }) => r.message);

  before(async () => {
    lab = await startFlowLab('retention-test', CAPACITY / MiB);
    ({ hub, vc, vm, vmId } = lab);
    repo = await makeRepository(hub);
    const policy = await hub.admin.post(`${API}/policies`, { name: unique('keep two'), retention: { keep_last: 2 } });
    expect(policy.status, JSON.stringify(policy.body)).to.equal(201);
    const flow = await hub.admin.post(`${API}/protection-flows`, { name: unique('kept'), flow_type: 'backup', target_type: 'vm', target_id: vmId, repository_id: repo.id, policy_id: policy.body.id });
    expect(flow.status, JSON.stringify(flow.body)).to.equal(201);
    flowId = flow.body.id;
  });
  after(async () => lab?.close());

  it('keeps every point while the policy allows them (keep_last 2: two executions)', async () => {
    for (const i of [0, 1]) {
      const done = await runOnce(i);
      expect(await logsOf(done.id)).to.deep.equal([]);
    }
    expect(await flowBackups()).to.deep.equal(made.map((m) => m.id));
  });

  it('a backup made by hand (POST /backups) is outside the flow policy', async () => {
    const res = await hub.admin.post(`${API}/backups`, { vm_context_id: vmId, repository_id: repo.id, backup_type: 'auto' });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    manual = res.body.id;
    const seen = await follow(hub.admin, `${API}/backups/${manual}`);
    expect(seen.at(-1).status).to.equal('success');
  });

  it('the third and fourth executions let the oldest points go: records, manifests and all, and say so', async () => {
    for (const i of [2, 3]) {
      const done = await runOnce(i);
      const removed = made[i - 2]!;
      const lines = await logsOf(done.id);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.contain('policy "').and.contain('keeps 2 restore point(s)').and.contain(`removed 1: ${removed.id}`);
      // the first point's own chunk is freed; the second's is still used by the backup made by hand from it
      const pruned = await logsOf(done.id, 'prune');
      expect(pruned, `execution ${i}`).to.have.length(1);
      expect(pruned[0]).to.contain(`Repository "${repo.name}" pruned`).and.contain(i === 2 ? '(1 chunk(s) no restore point uses' : '(0 chunk(s) no restore point uses');
      expect((await hub.admin.get(`${API}/backups/${removed.id}`)).status).to.equal(404);
      const audit = await hub.db.db('audit_log').where({ entity_type: 'backup', entity_id: removed.id }).first();
      expect(audit).to.include({ actor: 'retention', action: 'backup.delete' });
    }
    expect(await flowBackups()).to.deep.equal([made[2]!.id, made[3]!.id]);
    const repository = await Repository.open(repo.path);
    const points = new Set((await repository.listPoints()).map((p) => p.id));
    expect(points.has(made[0]!.point) || points.has(made[1]!.point)).to.equal(false);
    for (const kept of made.slice(2)) {
      expect(await restoredSha256(repository, kept.point, diskKey(), CAPACITY)).to.equal(sha256(kept.image));
    }
    // the hand-made backup is still there, and restorable
    const m = await hub.db.db('backup_jobs').where({ id: manual }).first();
    expect(m.status).to.equal('success');
    expect(points.has(m.manifest_ref)).to.equal(true);
    // it was taken right after the second execution, with nothing changed since: the second point's data,
    // whose chunk the prune had to keep although that point is gone
    expect(await restoredSha256(repository, m.manifest_ref, diskKey(), CAPACITY)).to.equal(sha256(made[1]!.image));
    const vmRow = await hub.db.db('vm_contexts').where({ context_id: vmId }).first();
    expect(vmRow.last_backup_id).to.equal(made[3]!.id);
  });

  it('an immutable repository keeps points the policy lets go until their lock ends, and says why', async () => {
    // deleting the hand-made backup through the API leaves its chunk to the next prune
    expect((await hub.admin.del(`${API}/backups/${manual}`)).status).to.equal(204);
    const put = await hub.admin.put(`${API}/repositories/${repo.id}`, { immutable: { enabled: true, retention_days: 7 } });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    const done = await runOnce(4);
    const lines = await logsOf(done.id);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain(`left 1 for now: ${made[2]!.id} (immutable until `);
    expect(await flowBackups()).to.deep.equal([made[2]!.id, made[3]!.id, made[4]!.id]);
    expect((await logsOf(done.id, 'prune'))[0]).to.contain('(1 chunk(s) no restore point uses');
    const repository = await Repository.open(repo.path);
    expect(await restoredSha256(repository, made[2]!.point, diskKey(), CAPACITY)).to.equal(sha256(made[2]!.image));
  });
});
