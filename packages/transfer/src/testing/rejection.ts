import { TransferError } from '../transfer-error.js';

/** The TransferError `p` rejects with; fails when it resolves, rethrows any other error. */
export async function rejection(p: Promise<unknown>): Promise<TransferError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TransferError) return e;
    throw e;
  }
  throw new Error('expected a TransferError');
}
