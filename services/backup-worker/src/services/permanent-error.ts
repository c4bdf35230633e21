/** A failure no retry can fix (a missing row, an unreadable password): the VM fails at once. */
export class PermanentError extends Error {
  readonly transient = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}
