import type { Knex } from 'knex';

/**
 * The two tables of the job sheet, column for column, plus scheduled_for on executions: the unique
 * (flow_id, scheduled_for) key turns each scheduler fire into exactly one execution.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE protection_flows (
      id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      name VARCHAR(255) NOT NULL UNIQUE,
      description TEXT,

      flow_type ENUM('backup', 'replication') NOT NULL,
      target_type ENUM('vm', 'group') NOT NULL,
      target_id VARCHAR(64) NOT NULL,

      repository_id INT,
      policy_id INT,

      destination_type ENUM('ossea', 'vmware', 'hyperv') DEFAULT NULL,
      destination_config JSON DEFAULT NULL,

      schedule_id VARCHAR(64),

      enabled BOOLEAN DEFAULT true,

      last_execution_id VARCHAR(64),
      last_execution_status ENUM('success', 'warning', 'error', 'running', 'pending') DEFAULT 'pending',
      last_execution_time TIMESTAMP NULL,
      next_execution_time TIMESTAMP NULL,
      total_executions INT DEFAULT 0,
      successful_executions INT DEFAULT 0,
      failed_executions INT DEFAULT 0,

      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      created_by VARCHAR(255) DEFAULT 'system',

      FOREIGN KEY (schedule_id) REFERENCES replication_schedules(id) ON DELETE SET NULL,
      FOREIGN KEY (repository_id) REFERENCES backup_repositories(id) ON DELETE RESTRICT,
      FOREIGN KEY (policy_id) REFERENCES backup_policies(id) ON DELETE SET NULL,

      INDEX idx_flow_type (flow_type),
      INDEX idx_target (target_type, target_id),
      INDEX idx_enabled (enabled),
      INDEX idx_schedule (schedule_id),
      INDEX idx_last_execution (last_execution_time),

      CONSTRAINT chk_flow_destination CHECK (
        (flow_type = 'backup' AND repository_id IS NOT NULL) OR
        (flow_type = 'replication' AND destination_type IS NOT NULL)
      )
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE protection_flow_executions (
      id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      flow_id VARCHAR(64) NOT NULL,

      status ENUM('pending', 'running', 'success', 'warning', 'error', 'cancelled') NOT NULL DEFAULT 'pending',
      execution_type ENUM('scheduled', 'manual', 'api') NOT NULL,

      jobs_created INT DEFAULT 0,
      jobs_completed INT DEFAULT 0,
      jobs_failed INT DEFAULT 0,
      jobs_skipped INT DEFAULT 0,

      started_at TIMESTAMP NULL,
      completed_at TIMESTAMP NULL,
      execution_time_seconds INT,

      vms_processed INT DEFAULT 0,
      bytes_transferred BIGINT DEFAULT 0,
      error_message TEXT,
      execution_metadata JSON,

      created_job_ids JSON,
      schedule_execution_id VARCHAR(64),
      scheduled_for TIMESTAMP NULL DEFAULT NULL,

      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      triggered_by VARCHAR(255) DEFAULT 'system',

      FOREIGN KEY (flow_id) REFERENCES protection_flows(id) ON DELETE CASCADE,
      FOREIGN KEY (schedule_execution_id) REFERENCES schedule_executions(id) ON DELETE SET NULL,

      UNIQUE KEY uq_flow_scheduled_for (flow_id, scheduled_for),
      INDEX idx_flow_executions (flow_id, started_at DESC),
      INDEX idx_status (status),
      INDEX idx_execution_time (started_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    ALTER TABLE schedule_executions
      ADD CONSTRAINT fk_schedule_executions_flow FOREIGN KEY (flow_id) REFERENCES protection_flows(id) ON DELETE CASCADE`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE schedule_executions DROP FOREIGN KEY fk_schedule_executions_flow');
  await knex.raw('DROP TABLE IF EXISTS protection_flow_executions');
  await knex.raw('DROP TABLE IF EXISTS protection_flows');
}
