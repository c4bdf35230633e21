import type { Db, Tx } from '@vaultflow/db';
import { isDuplicateKey, translateSqlError } from '@vaultflow/db';
import type { AppError } from '@vaultflow/errors';

/**
 * Runs a write in one transaction. A unique-key race (the service checked, another request won)
 * becomes `onDuplicate()`; other constraint errors become 4xx AppErrors; everything rolls back.
 */
export async function writeTx<T>(db: Db, entity: string, fn: (trx: Tx) => Promise<T>, onDuplicate?: () => AppError): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (err) {
    if (onDuplicate && isDuplicateKey(err)) throw onDuplicate();
    throw translateSqlError(err, entity);
  }
}
