import { createServer } from 'node:http';
import { ConfigError } from '@vaultflow/config';
import { createDb } from '@vaultflow/db';
import { createLogger } from '@vaultflow/logging';
import { createRedis } from '@vaultflow/queue';
import { buildApi } from './app.js';
import { loadApiConfig } from './config.js';
import { DiscoveryScheduler } from './services/discovery-scheduler.js';

/** Composition root of flows-api: read the configuration, connect, serve, stop cleanly on signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadApiConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`flows-api: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger('flows-api', config.logLevel);
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection problem'));
  const api = buildApi({
    db,
    redis,
    redisPrefix: config.redisPrefix,
    secretKey: config.secretKey,
    logger,
    sessionTtlHours: config.sessionTtlHours,
    bootstrapToken: config.bootstrapToken,
    guiDir: config.guiDir,
  });

  const first = await api.services.users.ensureFirstAdmin(config.adminPassword);
  if (first.created && first.password) {
    process.stderr.write(
      `\n  Vaultflow created the first user.\n    username: admin\n    password: ${first.password}\n  It is shown only now; set ADMIN_PASSWORD before the first start to choose it.\n\n`,
    );
  } else if (first.created) logger.info('created user admin with ADMIN_PASSWORD');

  const server = createServer(api.app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  logger.info({ port: config.port, host: config.host, redisPrefix: config.redisPrefix, database: config.databaseUrl.pathname.slice(1) }, 'flows-api listening');
  // vCenter discovery every 15 minutes; safe with several replicas (a Redis lock per vCenter)
  const discovery = new DiscoveryScheduler(api.services.discovery, logger);
  discovery.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'flows-api stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close();
    server.closeIdleConnections();
    await discovery.stop().catch(() => undefined);
    await api.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    redis.disconnect();
    logger.info('flows-api stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`flows-api failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
