import type { Knex } from 'knex';
import { FlowStore } from './stores/flow.store.js';
import { ExecutionStore } from './stores/execution.store.js';
import { ScheduleStore } from './stores/schedule.store.js';
import { RepositoryStore } from './stores/repository.store.js';
import { PolicyStore } from './stores/policy.store.js';
import { GroupStore } from './stores/group.store.js';
import { VmStore } from './stores/vm.store.js';
import { VcenterStore } from './stores/vcenter.store.js';
import { BackupStore } from './stores/backup.store.js';
import { BackupRunStore } from './stores/backup-run.store.js';
import { BackupRestoreStore } from './stores/backup-restore.store.js';
import { UserStore } from './stores/user.store.js';
import { TokenStore } from './stores/token.store.js';
import { AuditStore } from './stores/audit.store.js';
import { VmRunStore } from './stores/vm-run.store.js';
import { JobLogStore } from './stores/job-log.store.js';
import { VmResultStore } from './stores/vm-result.store.js';
import { VmReleaseStore } from './stores/vm-release.store.js';
import { Direct } from './direct.js';
import { ExecutionHistoryStore } from './stores/execution-history.store.js';
import { ProtectionCoverageStore } from './stores/protection-coverage.store.js';

/** Every store over one pool, built once in a service's composition root. */
export function createStores(db: Knex) {
  const direct = new Direct(db);
  return {
    flows: new FlowStore(db),
    executions: new ExecutionStore(db),
    schedules: new ScheduleStore(db),
    repositories: new RepositoryStore(db),
    policies: new PolicyStore(db),
    groups: new GroupStore(db),
    vms: new VmStore(db),
    vcenters: new VcenterStore(db),
    backups: new BackupStore(db),
    backupRuns: new BackupRunStore(db),
    restores: new BackupRestoreStore(db),
    users: new UserStore(db),
    tokens: new TokenStore(db),
    audit: new AuditStore(db),
    vmRuns: new VmRunStore(db, direct),
    vmResults: new VmResultStore(direct),
    vmReleases: new VmReleaseStore(direct),
    jobLogs: new JobLogStore(db, direct),
    executionHistory: new ExecutionHistoryStore(db),
    coverage: new ProtectionCoverageStore(db),
  };
}
export type Stores = ReturnType<typeof createStores>;
