import type { Knex } from 'knex';

/**
 * The execution engine's tables: one row per VM of an execution (its state, attempts, bytes,
 * progress), the flow's start window for VMs that must wait, when its schedule last became active
 * (fires before that are never backfilled), and cancellation requests.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE protection_flows
      ADD COLUMN vm_start_window_minutes INT NOT NULL DEFAULT 240 AFTER enabled,
      ADD COLUMN schedule_armed_at TIMESTAMP NULL DEFAULT NULL AFTER next_execution_time,
      ADD CONSTRAINT chk_flow_window CHECK (vm_start_window_minutes BETWEEN 1 AND 10080)`);
  await knex.raw(`
    ALTER TABLE protection_flow_executions
      ADD COLUMN cancel_requested_at TIMESTAMP NULL DEFAULT NULL AFTER scheduled_for,
      ADD COLUMN cancel_requested_by VARCHAR(255) NULL DEFAULT NULL AFTER cancel_requested_at`);
  await knex.raw(`
    CREATE TABLE protection_flow_vm_runs (
      id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
      execution_id VARCHAR(64) NOT NULL,
      flow_id VARCHAR(64) NOT NULL,
      vm_context_id VARCHAR(64) NOT NULL,
      vm_name VARCHAR(255) NOT NULL,
      group_id VARCHAR(64) NULL,
      priority INT NOT NULL DEFAULT 50,
      status ENUM('waiting', 'queued', 'running', 'success', 'failed', 'skipped', 'cancelled') NOT NULL DEFAULT 'waiting',
      attempts INT NOT NULL DEFAULT 0,
      bytes_transferred BIGINT NOT NULL DEFAULT 0,
      bytes_done BIGINT NOT NULL DEFAULT 0,
      bytes_total BIGINT NOT NULL DEFAULT 0,
      phase VARCHAR(64) NULL,
      backup_job_id VARCHAR(64) NULL,
      error_message TEXT NULL,
      worker_id VARCHAR(128) NULL,
      created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      queued_at TIMESTAMP(3) NULL,
      started_at TIMESTAMP(3) NULL,
      completed_at TIMESTAMP(3) NULL,
      progress_at TIMESTAMP(3) NULL,
      FOREIGN KEY (execution_id) REFERENCES protection_flow_executions(id) ON DELETE CASCADE,
      UNIQUE KEY uq_vm_run (execution_id, vm_context_id),
      INDEX idx_vm_runs_group (group_id, status),
      INDEX idx_vm_runs_vm (vm_context_id, status),
      INDEX idx_vm_runs_exec_status (execution_id, status),
      INDEX idx_vm_runs_waiting (status, priority, id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS protection_flow_vm_runs');
  await knex.raw('ALTER TABLE protection_flow_executions DROP COLUMN cancel_requested_by, DROP COLUMN cancel_requested_at');
  await knex.raw('ALTER TABLE protection_flows DROP CONSTRAINT chk_flow_window, DROP COLUMN schedule_armed_at, DROP COLUMN vm_start_window_minutes');
}
