import type { Knex } from 'knex';

/** The records of backups (restore points) and their disks, and the step log of every job. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE backup_jobs (
      id VARCHAR(64) PRIMARY KEY,
      vm_context_id VARCHAR(64) NOT NULL,
      repository_id INT NOT NULL,
      policy_id INT NULL,
      flow_execution_id VARCHAR(64) NULL,
      backup_type ENUM('full', 'incremental') NOT NULL,
      requested_type ENUM('auto', 'full', 'incremental') NOT NULL DEFAULT 'auto',
      status ENUM('pending', 'running', 'success', 'failed', 'cancelled') NOT NULL DEFAULT 'pending',
      consistency ENUM('quiesced', 'crash') NULL,
      bytes_total BIGINT NOT NULL DEFAULT 0,
      bytes_transferred BIGINT NOT NULL DEFAULT 0,
      bytes_stored BIGINT NOT NULL DEFAULT 0,
      manifest_ref VARCHAR(512) NULL,
      locked_until TIMESTAMP NULL,
      error_message TEXT NULL,
      started_at TIMESTAMP NULL,
      completed_at TIMESTAMP NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      created_by VARCHAR(255) NOT NULL DEFAULT 'system',
      FOREIGN KEY (vm_context_id) REFERENCES vm_contexts(context_id) ON DELETE RESTRICT,
      FOREIGN KEY (repository_id) REFERENCES backup_repositories(id) ON DELETE RESTRICT,
      FOREIGN KEY (policy_id) REFERENCES backup_policies(id) ON DELETE SET NULL,
      FOREIGN KEY (flow_execution_id) REFERENCES protection_flow_executions(id) ON DELETE SET NULL,
      INDEX idx_backup_jobs_vm (vm_context_id, created_at),
      INDEX idx_backup_jobs_repo (repository_id),
      INDEX idx_backup_jobs_status (status)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE backup_disks (
      id INT AUTO_INCREMENT PRIMARY KEY,
      backup_job_id VARCHAR(64) NOT NULL,
      disk_key INT NOT NULL,
      disk_uuid VARCHAR(64) NULL,
      capacity_bytes BIGINT NOT NULL DEFAULT 0,
      backup_mode ENUM('full', 'incremental') NOT NULL,
      change_id VARCHAR(255) NULL,
      previous_change_id VARCHAR(255) NULL,
      bytes_transferred BIGINT NOT NULL DEFAULT 0,
      status ENUM('pending', 'running', 'success', 'failed', 'skipped') NOT NULL DEFAULT 'pending',
      error_message TEXT NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      FOREIGN KEY (backup_job_id) REFERENCES backup_jobs(id) ON DELETE CASCADE,
      UNIQUE KEY uq_backup_disk (backup_job_id, disk_key)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE job_logs (
      id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
      at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      level ENUM('debug', 'info', 'warn', 'error') NOT NULL DEFAULT 'info',
      step VARCHAR(64) NOT NULL,
      message TEXT NOT NULL,
      context JSON NULL,
      flow_id VARCHAR(64) NULL,
      execution_id VARCHAR(64) NULL,
      job_id VARCHAR(128) NULL,
      INDEX idx_job_logs_execution (execution_id, id),
      INDEX idx_job_logs_job (job_id, id),
      INDEX idx_job_logs_at (at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS job_logs');
  await knex.raw('DROP TABLE IF EXISTS backup_disks');
  await knex.raw('DROP TABLE IF EXISTS backup_jobs');
}
