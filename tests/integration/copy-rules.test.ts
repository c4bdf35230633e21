import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import type { Vcsim, VcsimVm } from '@vaultflow/testing';
import { noise, sha256 } from '../support/backup-lab.js';
import { makeRepository } from '../support/fixtures.js';
import { startFlowLab, type FlowLab } from '../support/flow-lab.js';
import { unique, type TestHub } from '../support/hub.js';
import { finishedExecution, startExecution } from '../support/vcenter-lab.js';

// A policy's copy rule (3-2-1): after each VM backup of the flow, the real backup worker copies the
// restore point into a second repository (only the chunks it lacks, each checked, then verified), the
// copy is a backup of that repository that the API lists, streams and restores bit for bit; a copy that
// cannot be made is logged and caught up by the next run; retention applies in both repositories.

const KiB = 1024;
const MiB = 1024 * KiB;
const CAPACITY = 2 * MiB;
const API = '/api/v1';

describe('copy rules: every restore point in a second repository', function () {
  this.timeout(180_000);
  let hub: TestHub;
  let vc: Vcsim;
  let vm: VcsimVm;
  let vmId: string;
  let primary: { id: number; name: string; path: string };
  let second: { id: number; name: string; path: string };
  let flowId: string;
  let lab: FlowLab;
  const made: Array<{ id: string; image: Buffer; execution: string }> = [];

  const key = () => vm.disks[0]!.key;
  const backupsIn = async (repositoryId: number): Promise<any[]> => {
    const res = await hub.admin.get(`${API}/backups?repository_id=${repositoryId}&vm_context_id=${vmId}&limit=100`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.backups;
  };
  const logsOf = async (executionId: string, step: string): Promise<Array<{ level: string; message: string }>> =>
    hub.db.db('job_logs').where({ execution_id: executionId, step }).orderBy('id').select('level', 'message');
  /** The disk image of a backup as the API streams it. */
  const imageOf = async (backupId: string): Promise<Buffer> => {
    const res = await fetch(`${hub.url}${API}/backups/${backupId}/disks/${key()}/image`, { headers: { authorization: `Bearer ${hub.admin.token}` } });
    expect(res.status).to.equal(200);
    return Buffer.from(await res.arrayBuffer());
  };

  async function runOnce(i: number): Promise<string> {
    await vc.write(vm.ref, key(), 0, noise(64 * KiB, i + 0.25));
    const image = await readFile(vm.disks[0]!.flatPath);
    const done = await finishedExecution(hub, flowId, await startExecution(hub, flowId));
    expect(done.status, JSON.stringify(done)).to.equal('success');
    await lab.settled(); // copies, retention and prune follow the VM's result
    const b = await hub.db.db('backup_jobs').where({ flow_execution_id: done.id, repository_id: primary.id }).first();
    made.push({ id: b.id, image, execution: done.id });
    return done.id;
  }

  before(async () => {
    lab = await startFlowLab('copy-rules-test', CAPACITY / MiB);
    ({ hub, vc, vm, vmId } = lab);
    await vc.write(vm.ref, key(), MiB, noise(512 * KiB, 0.9));
    primary = await makeRepository(hub);
    second = await makeRepository(hub);
    const policy = await hub.admin.post(`${API}/policies`, {
      name: unique('two copies'), retention: { keep_last: 2 },
      copy_rules: [{ destination_repository_id: second.id, copy_mode: 'immediate', verify_after_copy: true }],
    });
    expect(policy.status, JSON.stringify(policy.body)).to.equal(201);
    const flow = await hub.admin.post(`${API}/protection-flows`, { name: unique('copied'), flow_type: 'backup', target_type: 'vm', target_id: vmId, repository_id: primary.id, policy_id: policy.body.id });
    expect(flow.status, JSON.stringify(flow.body)).to.equal(201);
    flowId = flow.body.id;
  });
  after(async () => lab?.close());

  it('the dry run says what the policy keeps and where it copies', async () => {
    const res = await hub.admin.post(`${API}/protection-flows/${flowId}/test`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const byName = (n: string) => res.body.checks.filter((c: { name: string }) => c.name === n).map((c: { message: string }) => c.message);
    expect(byName('policy')[0]).to.match(/^Retention policy ".+" keeps the last 2 restore point\(s\) per VM after each backup/);
    expect(byName('copy')).to.deep.equal([`Each backup is copied to repository "${second.name}" right after it is taken, and verified there`]);
  });

  it('copies the first point whole, verified, as a backup of the second repository that streams bit for bit', async () => {
    const exec = await runOnce(0);
    const lines = await logsOf(exec, 'copy');
    expect(lines).to.have.length(1);
    expect(lines[0]!.level).to.equal('info');
    expect(lines[0]!.message).to.match(new RegExp(`^Copied backup ${made[0]!.id} to repository "${second.name}" as ${made[0]!.id}-c${second.id}: (\\d+) of \\1 chunk\\(s\\) were new there .*, verified$`));
    const copies = await backupsIn(second.id);
    expect(copies.map((b) => b.id)).to.deep.equal([`${made[0]!.id}-c${second.id}`]);
    const copy = (await hub.admin.get(`${API}/backups/${copies[0].id}`)).body;
    expect(copy).to.include({ status: 'success', repository_id: second.id, vm_context_id: vmId, flow_execution_id: exec });
    expect(sha256(await imageOf(copy.id))).to.equal(sha256(made[0]!.image));
  });

  it('copies an incremental as the chunks the second repository lacks', async () => {
    const exec = await runOnce(1);
    const [line] = await logsOf(exec, 'copy');
    const [, copied, total] = /: (\d+) of (\d+) chunk/.exec(line!.message)!;
    expect(Number(copied)).to.equal(1);
    expect(Number(total)).to.be.greaterThan(1);
    expect(sha256(await imageOf(`${made[1]!.id}-c${second.id}`))).to.equal(sha256(made[1]!.image));
  });

  it('a copy that cannot be made is logged, the backup stands, and the next run catches up; retention holds in both repositories', async () => {
    expect((await hub.admin.put(`${API}/repositories/${second.id}`, { enabled: false })).status).to.equal(200);
    const failed = await runOnce(2);
    const [warn] = await logsOf(failed, 'copy');
    expect(warn).to.deep.include({ level: 'warn' });
    expect(warn!.message).to.contain(`Copy to repository "${second.name}" failed: the repository is disabled`);
    expect((await hub.admin.get(`${API}/backups/${made[2]!.id}`)).body.status).to.equal('success');

    expect((await hub.admin.put(`${API}/repositories/${second.id}`, { enabled: true })).status).to.equal(200);
    const caughtUp = await runOnce(3);
    const lines = (await logsOf(caughtUp, 'copy')).map((l) => l.message);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.contain(`Copied backup ${made[2]!.id} `);
    expect(lines[1]).to.contain(`Copied backup ${made[3]!.id} `);
    // keep_last 2 in each repository: the points of runs 3 and 4, in both, bit for bit
    expect((await backupsIn(primary.id)).map((b) => b.id).sort()).to.deep.equal([made[2]!.id, made[3]!.id].sort());
    expect((await backupsIn(second.id)).map((b) => b.id).sort()).to.deep.equal([made[2]!.id, made[3]!.id].map((id) => `${id}-c${second.id}`).sort());
    for (const m of made.slice(2)) expect(sha256(await imageOf(`${m.id}-c${second.id}`))).to.equal(sha256(m.image));
  });

  it('a scheduled copy rule waits for the periodic pass, which copies what the policy keeps', async () => {
    const third = await makeRepository(hub);
    const flow = (await hub.admin.get(`${API}/protection-flows/${flowId}`)).body;
    const policy = (await hub.admin.get(`${API}/policies/${flow.policy_id}`)).body;
    const rules = [
      ...policy.copy_rules.map((r: any) => ({ destination_repository_id: r.destination_repository_id, copy_mode: r.copy_mode, verify_after_copy: r.verify_after_copy })),
      { destination_repository_id: third.id, copy_mode: 'scheduled' },
    ];
    expect((await hub.admin.put(`${API}/policies/${policy.id}`, { copy_rules: rules })).status).to.equal(200);
    const check = await hub.admin.post(`${API}/protection-flows/${flowId}/test`);
    expect(check.body.checks.filter((c: { name: string }) => c.name === 'copy').map((c: { message: string }) => c.message))
      .to.include(`Each backup is copied to repository "${third.name}" by the hourly copy pass`);
    const exec = await runOnce(4);
    expect((await logsOf(exec, 'copy')).map((l) => l.message).join('\n')).to.not.contain(third.name);
    expect(await backupsIn(third.id)).to.deep.equal([]);

    const pass = await lab.worker.scheduledCopies.runOnce();
    expect(pass).to.deep.equal({ ran: true, sources: 1 });
    await lab.worker.jobLog.flush();
    // keep_last 2: the points of runs 4 and 5, copied oldest first, each a backup of the third repository
    expect((await backupsIn(third.id)).map((b) => b.id).sort()).to.deep.equal([made[3]!.id, made[4]!.id].map((id) => `${id}-c${third.id}`).sort());
    for (const m of made.slice(3)) expect(sha256(await imageOf(`${m.id}-c${third.id}`))).to.equal(sha256(m.image));
    const lines = (await hub.db.db('job_logs').where({ flow_id: flowId, job_id: 'scheduled-copy', step: 'copy' }).orderBy('id').select('message')).map((r: { message: string }) => r.message);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.contain(`Copied backup ${made[3]!.id} to repository "${third.name}"`);
    // a second pass finds nothing to copy
    expect(await lab.worker.scheduledCopies.runOnce()).to.deep.equal({ ran: true, sources: 1 });
    await lab.worker.jobLog.flush();
    expect(await hub.db.db('job_logs').where({ flow_id: flowId, job_id: 'scheduled-copy', step: 'copy' }).count({ n: '*' })).to.deep.equal([{ n: 2 }]);
    // one replica at a time: while another holds the pass, this one does nothing
    const lock = `${hub.prefix}:scheduled-copies:lock`;
    await hub.redis.set(lock, 'another replica', 'PX', 10_000);
    expect(await lab.worker.scheduledCopies.runOnce()).to.deep.equal({ ran: false, sources: 0 });
    expect(await hub.redis.get(lock)).to.equal('another replica');
    await hub.redis.del(lock);
  });
});
