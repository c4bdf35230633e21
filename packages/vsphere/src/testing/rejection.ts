import { VsphereError } from '../errors.js';

/** The VsphereError `p` rejects with; fails when it resolves, rethrows any other error. */
export async function rejection(p: Promise<unknown>): Promise<VsphereError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof VsphereError) return e;
    throw e;
  }
  throw new Error('expected a VsphereError');
}
