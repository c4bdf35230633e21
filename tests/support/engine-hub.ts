import { startOrchestrator, type Orchestrator } from '@vaultflow/flow-orchestrator';
import { createLogger } from '@vaultflow/logging';
import { TEST_REDIS_URL } from '@vaultflow/testing';
import { startHub, type TestHub } from './hub.js';
import { startTestProcessor, type TestProcessorOptions } from './test-vm-processor.js';

export interface EngineHub extends TestHub {
  orchestrator: Orchestrator;
  processor: Awaited<ReturnType<typeof startTestProcessor>>;
  /** Polls GET .../executions/{id} until its status is final; returns the detail. */
  waitForExecution(flowId: string, executionId: string, timeoutMs?: number): Promise<any>;
  startOrchestrator(): Promise<Orchestrator>;
  /** Job log lines of an execution, once `step` appears (logs are written in small batches). */
  logsUntil(flowId: string, executionId: string, step: string, query?: string): Promise<any[]>;
  stopAll(): Promise<void>;
}

const FINAL = ['success', 'warning', 'error', 'cancelled'];

/** flows-api, one orchestrator and a test VM processor on one database and Redis prefix. */
export async function startEngineHub(p: Omit<TestProcessorOptions, 'db' | 'redisUrl' | 'prefix'> = {}): Promise<EngineHub> {
  const hub = await startHub();
  const logger = createLogger('orchestrator-test', (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent');
  const extra: Orchestrator[] = [];
  const launch = () => startOrchestrator({ db: hub.db.db, redisUrl: TEST_REDIS_URL, redisPrefix: hub.prefix, logger, reconcileSeconds: 3600, sweepSeconds: 3600 });
  const orchestrator = await launch();
  const processor = await startTestProcessor({ db: hub.db.db, redisUrl: TEST_REDIS_URL, prefix: hub.prefix, ...p });
  return Object.assign(hub, {
    orchestrator,
    processor,
    async startOrchestrator() {
      const o = await launch();
      extra.push(o);
      return o;
    },
    async waitForExecution(flowId: string, executionId: string, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const r = await hub.admin.get(`/api/v1/protection-flows/${flowId}/executions/${executionId}`);
        if (FINAL.includes(r.body?.status)) return r.body;
        if (Date.now() > end) throw new Error(`execution ${executionId} still ${r.body?.status} after ${timeoutMs} ms: ${JSON.stringify(r.body?.progress)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    },
    async logsUntil(flowId: string, executionId: string, step: string, query = '') {
      for (let i = 0; ; i++) {
        const logs = (await hub.admin.get(`/api/v1/protection-flows/${flowId}/executions/${executionId}/logs${query}`)).body.logs;
        if (logs.some((l: { step: string }) => l.step === step) || i > 40) return logs;
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async stopAll() {
      await processor.close();
      for (const o of [orchestrator, ...extra]) await o.close();
      await hub.stop();
    },
  });
}
