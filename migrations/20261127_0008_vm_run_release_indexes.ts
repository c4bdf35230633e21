import type { Knex } from 'knex';

/**
 * Indexes for the releaser's hot queries on large executions: the most important waiting VMs of a
 * group in index order (no sort of thousands of rows per release), and the groups an execution
 * still waits on (covering).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX idx_vm_runs_group_waiting ON protection_flow_vm_runs (group_id, status, priority DESC, id)');
  await knex.raw('CREATE INDEX idx_vm_runs_exec_groups ON protection_flow_vm_runs (execution_id, status, group_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX idx_vm_runs_exec_groups ON protection_flow_vm_runs');
  await knex.raw('DROP INDEX idx_vm_runs_group_waiting ON protection_flow_vm_runs');
}
