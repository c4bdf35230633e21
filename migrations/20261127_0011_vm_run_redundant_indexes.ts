import type { Knex } from 'knex';

/**
 * Every VM row changes status up to three times (queued, running, final) and each change rewrites the
 * row's entry in every index holding `status`. Two of those indexes are prefixes of others
 * (group_id, status) of idx_vm_runs_group_waiting and (execution_id, status) of
 * idx_vm_runs_exec_groups, so they cost a write on every change and serve no query the longer
 * ones do not. The third, (status, priority, id), served only the sweeper's looks for waiting and
 * queued rows, which now start from the running executions (open rows have no other kind).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX idx_vm_runs_group ON protection_flow_vm_runs');
  await knex.raw('DROP INDEX idx_vm_runs_exec_status ON protection_flow_vm_runs');
  await knex.raw('DROP INDEX idx_vm_runs_waiting ON protection_flow_vm_runs');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX idx_vm_runs_waiting ON protection_flow_vm_runs (status, priority, id)');
  await knex.raw('CREATE INDEX idx_vm_runs_exec_status ON protection_flow_vm_runs (execution_id, status)');
  await knex.raw('CREATE INDEX idx_vm_runs_group ON protection_flow_vm_runs (group_id, status)');
}
