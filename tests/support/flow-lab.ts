import { expect } from 'chai';
import { startBackupWorker, type BackupWorker } from '@vaultflow/backup-worker';
import { startOrchestrator, type Orchestrator } from '@vaultflow/flow-orchestrator';
import { createLogger } from '@vaultflow/logging';
import { SecretBox } from '@vaultflow/security';
import { TEST_REDIS_URL, startVcsim, type Vcsim, type VcsimVm } from '@vaultflow/testing';
import { startHub, unique, type TestHub } from './hub.js';
import { vcsimEndpoint } from './vcenter-lab.js';

/**
 * A hub whose flows really run: the vCenter simulator with one VM of one disk, registered through the
 * API, and the real orchestrator and backup worker in-process. What the policy tests (retention, copy
 * rules) run flows on.
 */
export interface FlowLab {
  hub: TestHub;
  vc: Vcsim;
  vm: VcsimVm;
  /** The VM's id in the hub's inventory. */
  vmId: string;
  /** The backup worker (its periodic copy pass does not run by itself: tests call runOnce). */
  worker: BackupWorker;
  /**
   * Resolves once no VM job is waiting or running: a flow's execution ends as soon as its VMs are
   * recorded, and the worker's copies, retention and prune come after that, in the same job. The
   * worker's job log lines are written by then.
   */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function startFlowLab(name: string, diskMb: number): Promise<FlowLab> {
  const hub = await startHub();
  let vc: Vcsim | undefined;
  let orchestrator: Orchestrator | undefined;
  let worker: BackupWorker | undefined;
  const close = async (): Promise<void> => {
    await worker?.close();
    await orchestrator?.close();
    await vc?.stop();
    await hub.stop();
  };
  try {
    vc = await startVcsim({ vms: 1, disks: 1, diskMb, pageBytes: 1024 * 1024 });
    const vm = (await vc.info()).vms[0]!;
    const reg = await hub.admin.post('/api/v1/vcenters', { name: unique('vcsim'), ...vcsimEndpoint(vc) });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
    const vmId = (await hub.db.db('vm_contexts').where({ vcenter_id: reg.body.id, moref: vm.ref }).first()).context_id as string;
    const logger = createLogger(name, (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');
    orchestrator = await startOrchestrator({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, logger, reconcileSeconds: 3600, sweepSeconds: 3600 });
    worker = await startBackupWorker({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, secrets: new SecretBox(hub.secretKey), logger, checkEveryMs: 500, scheduledCopyEveryMs: 0 });
    const settled = async (): Promise<void> => {
      for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        const c = await hub.api.queues.vmBackups.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        if (Object.values(c).every((n) => n === 0)) return worker!.jobLog.flush();
      }
      throw new Error('VM jobs still running after 60 s');
    };
    return { hub, vc, vm, vmId, worker, settled, close };
  } catch (err) {
    await close();
    throw err;
  }
}
