/** Who may do what. admin: everything; operator: run and switch flows, read; viewer: read. */

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** The permissions a route can require. */
export type Permission = 'read' | 'operate' | 'configure' | 'administer';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['read', 'operate', 'configure', 'administer'],
  operator: ['read', 'operate'],
  viewer: ['read'],
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** The acting user or token, as services see it (never an HTTP request). */
export interface Actor {
  userId: string | null;
  username: string;
  role: Role;
  /** How the actor authenticated: an interactive session (the GUI) or an API token. */
  via: 'session' | 'token';
}

/** Who does a change, and under which request: what services record in audit_log and created_by. */
export interface Operation {
  actor: Actor;
  requestId: string;
}

/** The actor of work the hub does on its own (scheduler fires, discovery). */
export const SYSTEM_ACTOR: Actor = { userId: null, username: 'system', role: 'admin', via: 'token' };
