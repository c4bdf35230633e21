/**
 * Engine transactions run READ COMMITTED: they serialise on row locks (the execution, the group,
 * the VMs) and must then see what other transactions committed before they got the lock. Under
 * REPEATABLE READ a count taken after the lock would read an older snapshot and, for instance,
 * never see the other VMs of an execution finish.
 */
export const READ_COMMITTED = { isolationLevel: 'read committed' } as const;
