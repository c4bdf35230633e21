import type { Flow } from '../api/types.js';

/** A flow as GET /protection-flows answers it, with `over` applied. */
export function flow(over: Partial<Flow> & { id: string; name: string }): Flow {
  return {
    description: null,
    flow_type: 'backup',
    target_type: 'group',
    target_id: 'g1',
    target_name: 'Web tier',
    repository_id: 1,
    repository_name: 'Primary',
    policy_id: null,
    policy_name: null,
    destination_type: null,
    destination_config: null,
    schedule_id: 's1',
    schedule_name: 'Nightly',
    schedule_cron: '0 2 * * *',
    schedule_timezone: 'UTC',
    enabled: true,
    vm_start_window_minutes: 240,
    status: { last_execution_id: null, last_execution_status: 'pending', last_execution_time: null, next_execution_time: '2026-12-01T02:00:00.000Z', total_executions: 0, successful_executions: 0, failed_executions: 0 },
    created_at: '2026-11-01T10:00:00.000Z',
    updated_at: '2026-11-01T10:00:00.000Z',
    created_by: 'admin',
    ...over,
  };
}
