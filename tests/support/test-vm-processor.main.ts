// A test VM processor in a process of its own (for crash tests): reads its settings from the
// environment, prints "ready" when consuming, and runs until killed.
import { createDb } from '@vaultflow/db';
import { startTestProcessor } from './test-vm-processor.js';

const db = createDb(process.env.TP_DATABASE_URL!);
const p = await startTestProcessor({
  db,
  redisUrl: process.env.TP_REDIS_URL!,
  prefix: process.env.TP_PREFIX!,
  concurrency: 4,
  defaults: JSON.parse(process.env.TP_DEFAULTS ?? '{}'),
  workerId: process.env.TP_WORKER_ID,
});
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await p.close();
  await db.destroy();
  process.exit(0);
});
