import type { Permission } from '@vaultflow/domain';

/** The console's URLs. They are stable: bookmarks and automation depend on them. */
export const PATHS = {
  dashboard: '/',
  login: '/login',
  flows: '/protection-flows',
  flow: (id: string) => `/protection-flows/${encodeURIComponent(id)}`,
  groups: '/protection-groups',
  vms: '/vms',
  schedules: '/schedules',
  repositories: '/repositories',
  policies: '/policies',
  backups: '/backups',
  settings: '/settings',
} as const;

export interface NavItem {
  path: string;
  label: string;
  permission: Permission;
}

export const NAV: NavItem[] = [
  { path: PATHS.dashboard, label: 'Dashboard', permission: 'read' },
  { path: PATHS.flows, label: 'Protection Flows', permission: 'read' },
  { path: PATHS.groups, label: 'Protection Groups', permission: 'read' },
  { path: PATHS.vms, label: 'Virtual Machines', permission: 'read' },
  { path: PATHS.schedules, label: 'Schedules', permission: 'read' },
  { path: PATHS.repositories, label: 'Repositories', permission: 'read' },
  { path: PATHS.policies, label: 'Policies', permission: 'read' },
  { path: PATHS.backups, label: 'Backups', permission: 'read' },
  { path: PATHS.settings, label: 'Settings', permission: 'read' },
];

/** Where the queue board lives (served by flows-api, not by this app). */
export const QUEUE_BOARD = '/admin/queues';

/** `next` from the login URL when it is a path on this site, else the dashboard. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith(PATHS.login)) return PATHS.dashboard;
  return next;
}
