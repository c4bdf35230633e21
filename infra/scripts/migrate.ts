// Creates the database of DATABASE_URL when missing and migrates it to the newest schema.
// `npm run migrate`; `npm start` runs it before the services. Safe to run from several hosts at once.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, ensureDatabase, migrateLatest } from '@vaultflow/db';

const url = process.env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/vaultflow';
const directory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

try {
  await ensureDatabase(url);
  const db = createDb(url, { poolMax: 2 });
  try {
    const applied = await migrateLatest(db, { directory });
    process.stderr.write(`[vaultflow] database ${new URL(url).pathname.slice(1)}: ${applied.length ? `applied ${applied.join(', ')}` : 'schema is up to date'}\n`);
  } finally {
    await db.destroy();
  }
} catch (err) {
  process.stderr.write(`[vaultflow] migration failed for DATABASE_URL ${url.replace(/\/\/[^@]*@/, '//***@')}: ${(err as Error).message}\n`);
  process.exit(1);
}
