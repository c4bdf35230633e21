import { ConfigError } from '@vaultflow/config';
import { createDb } from '@vaultflow/db';
import { createLogger } from '@vaultflow/logging';
import { SecretBox } from '@vaultflow/security';
import { loadWorkerConfig } from './config.js';
import { startBackupWorker } from './worker.js';

/** Composition root of backup-worker. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`backup-worker: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger('backup-worker', config.logLevel);
  const db = createDb(config.databaseUrl, { poolMax: Math.max(10, config.concurrency * 2) });
  const worker = await startBackupWorker({
    db,
    redisUrl: config.redisUrl,
    redisPrefix: config.redisPrefix,
    secrets: new SecretBox(config.secretKey),
    logger,
    concurrency: config.concurrency,
    metricsPort: config.metricsPort,
    readers: { transport: config.transport, nbdkit: { template: config.nbdkitPlugin, command: config.nbdkitCommand } },
  });
  logger.info({ redisPrefix: config.redisPrefix, concurrency: config.concurrency, transport: config.transport, metricsPort: config.metricsPort, workerId: worker.workerId }, 'backup-worker running');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'backup-worker stopping');
    // running VMs finish their cleanup (snapshot removal) within worker.close(); give up after a while
    setTimeout(() => process.exit(1), 60_000).unref();
    await worker.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    logger.info('backup-worker stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`backup-worker failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
