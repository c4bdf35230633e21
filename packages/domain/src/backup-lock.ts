/** What decides whether an immutable repository still locks a restore point. */
export interface LockableBackup {
  /** The point in the repository; null when nothing was committed. */
  manifest_ref: string | null;
  /** Recorded when the point was committed into an immutable repository. */
  locked_until: Date | null;
  /** The repository's immutability period in days now; null when it is not immutable. */
  repository_immutable_days: number | null;
  completed_at: Date | null;
  created_at: Date;
}

/**
 * The date until which an immutable repository keeps a restore point: recorded when the point was
 * committed, or (for a point committed before the repository became immutable) its commit time
 * plus the repository's period now. Null when nothing locks it (or there is no point).
 */
export function lockDateOf(b: LockableBackup): Date | null {
  if (!b.manifest_ref) return null;
  if (b.locked_until) return new Date(b.locked_until);
  if (!b.repository_immutable_days) return null;
  return new Date(new Date(b.completed_at ?? b.created_at).getTime() + b.repository_immutable_days * 86_400_000);
}
