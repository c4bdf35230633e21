import type { Knex } from 'knex';

/**
 * Backups started through the API (POST /backups) are rows before a worker takes them: their live
 * progress, attempts and worker are kept on the row. Restores (to a file or a datastore) are jobs
 * with a row of their own. Immutability: repositories hold the period (immutable_retention_days)
 * and each backup its lock date (locked_until), which becomes a DATETIME: a TIMESTAMP ends in 2038,
 * and a point locked for 30 years must keep its real date.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE backup_jobs
      ADD COLUMN phase VARCHAR(32) NULL AFTER status,
      ADD COLUMN progress_disk INT NULL AFTER phase,
      ADD COLUMN bytes_done BIGINT NOT NULL DEFAULT 0 AFTER progress_disk,
      ADD COLUMN bytes_to_read BIGINT NOT NULL DEFAULT 0 AFTER bytes_done,
      ADD COLUMN progress_at TIMESTAMP(3) NULL AFTER bytes_to_read,
      ADD COLUMN attempts INT NOT NULL DEFAULT 0 AFTER progress_at,
      ADD COLUMN worker_id VARCHAR(128) NULL AFTER attempts,
      MODIFY COLUMN locked_until DATETIME NULL,
      ADD INDEX idx_backup_jobs_open (status, flow_execution_id, created_at)`);
  await knex.raw(`
    CREATE TABLE backup_restores (
      id VARCHAR(64) PRIMARY KEY,
      backup_id VARCHAR(64) NOT NULL,
      target_type ENUM('file', 'datastore') NOT NULL,
      target JSON NOT NULL,
      disk_keys JSON NOT NULL,
      overwrite BOOLEAN NOT NULL DEFAULT false,
      status ENUM('pending', 'running', 'success', 'failed') NOT NULL DEFAULT 'pending',
      phase VARCHAR(32) NULL,
      progress_disk INT NULL,
      bytes_done BIGINT NOT NULL DEFAULT 0,
      bytes_total BIGINT NOT NULL DEFAULT 0,
      progress_at TIMESTAMP(3) NULL,
      attempts INT NOT NULL DEFAULT 0,
      worker_id VARCHAR(128) NULL,
      results JSON NULL,
      error_message TEXT NULL,
      created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      started_at TIMESTAMP(3) NULL,
      completed_at TIMESTAMP(3) NULL,
      created_by VARCHAR(255) NOT NULL DEFAULT 'system',
      FOREIGN KEY (backup_id) REFERENCES backup_jobs(id) ON DELETE CASCADE,
      INDEX idx_backup_restores_backup (backup_id, created_at),
      INDEX idx_backup_restores_open (status, created_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS backup_restores');
  await knex.raw(`UPDATE backup_jobs SET locked_until = '2038-01-19 03:14:07' WHERE locked_until > '2038-01-19 03:14:07'`);
  await knex.raw(`
    ALTER TABLE backup_jobs
      MODIFY COLUMN locked_until TIMESTAMP NULL,
      DROP INDEX idx_backup_jobs_open,
      DROP COLUMN worker_id,
      DROP COLUMN attempts,
      DROP COLUMN progress_at,
      DROP COLUMN bytes_to_read,
      DROP COLUMN bytes_done,
      DROP COLUMN progress_disk,
      DROP COLUMN phase`);
}
