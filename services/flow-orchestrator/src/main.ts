import { ConfigError } from '@vaultflow/config';
import { createDb } from '@vaultflow/db';
import { createLogger } from '@vaultflow/logging';
import { loadOrchestratorConfig } from './config.js';
import { startOrchestrator } from './orchestrator.js';

/** Composition root of flow-orchestrator. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadOrchestratorConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`flow-orchestrator: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger('flow-orchestrator', config.logLevel);
  const db = createDb(config.databaseUrl, { poolMax: 20 });
  const orchestrator = await startOrchestrator({
    db,
    redisUrl: config.redisUrl,
    redisPrefix: config.redisPrefix,
    logger,
    concurrency: config.concurrency,
    reconcileSeconds: config.reconcileSeconds,
    sweepSeconds: config.sweepSeconds,
    metricsPort: config.metricsPort,
  });
  logger.info({ redisPrefix: config.redisPrefix, concurrency: config.concurrency, metricsPort: config.metricsPort }, 'flow-orchestrator running');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'flow-orchestrator stopping');
    setTimeout(() => process.exit(1), 15_000).unref();
    await orchestrator.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    logger.info('flow-orchestrator stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`flow-orchestrator failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
