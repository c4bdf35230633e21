import type { Db, Stores } from '@vaultflow/db';
import type { Logger } from '@vaultflow/logging';
import { Canceller, type VmJobWithdrawal } from './canceller.js';
import { ExecutionStarter } from './execution-starter.js';
import { FireHandler } from './fire-handler.js';
import { JobLog } from './job-log.js';
import { Releaser, type VmJobSink } from './releaser.js';
import { ResultRecorder } from './result-recorder.js';
import { Sweeper, type VmJobLookup } from './sweeper.js';
import { VmJobRunner } from './vm-job-runner.js';

/** The engine's parts over one database and one VM job queue. */
export function createEngine(deps: { db: Db; stores: Stores; vmJobs: VmJobSink & VmJobWithdrawal & VmJobLookup; logger: Logger; now?: () => Date }) {
  const log = new JobLog(deps.stores.jobLogs, deps.logger);
  const releaser = new Releaser(deps.db, deps.stores, deps.vmJobs);
  const recorder = new ResultRecorder(deps.db, deps.stores, releaser, log);
  const starter = new ExecutionStarter(deps.db, deps.stores, releaser, log);
  return {
    log,
    releaser,
    recorder,
    starter,
    fires: new FireHandler(deps.db, deps.stores, log, deps.now),
    canceller: new Canceller(deps.db, deps.stores, deps.vmJobs, log),
    sweeper: new Sweeper(deps.db, deps.stores, releaser, recorder, deps.vmJobs, starter),
    runner: new VmJobRunner(deps.stores, recorder, log),
  };
}
export type Engine = ReturnType<typeof createEngine>;
