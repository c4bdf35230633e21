import type { Endpoint } from './endpoint.js';
import { flowEndpoints } from './flows.js';
import { scheduleEndpoints } from './schedules.js';
import { repositoryEndpoints } from './repositories.js';
import { policyEndpoints } from './policies.js';
import { groupEndpoints } from './groups.js';
import { vmEndpoints } from './vms.js';
import { executionEndpoints } from './executions.js';
import { vcenterEndpoints } from './vcenters.js';
import { backupEndpoints } from './backups.js';
import { restoreEndpoints } from './backup-restores.js';
import { authEndpoints, tokenEndpoints, userEndpoints } from './identity.js';

/** Every endpoint of /api/v1, in the order the docs list them. */
export const allEndpoints: Endpoint[] = [
  ...Object.values(authEndpoints),
  ...Object.values(flowEndpoints),
  ...Object.values(executionEndpoints),
  ...Object.values(scheduleEndpoints),
  ...Object.values(groupEndpoints),
  ...Object.values(vmEndpoints),
  ...Object.values(repositoryEndpoints),
  ...Object.values(policyEndpoints),
  ...Object.values(backupEndpoints),
  ...Object.values(restoreEndpoints),
  ...Object.values(vcenterEndpoints),
  ...Object.values(userEndpoints),
  ...Object.values(tokenEndpoints),
];
