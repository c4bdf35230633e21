import type { Knex } from 'knex';

/** Cron schedules that flows refer to, and the record of each of their fires. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE replication_schedules (
      id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      name VARCHAR(255) NOT NULL,
      description TEXT NULL,
      cron_expression VARCHAR(128) NOT NULL,
      timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
      enabled BOOLEAN NOT NULL DEFAULT true,
      misfire_grace_seconds INT NOT NULL DEFAULT 3600,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      created_by VARCHAR(255) NOT NULL DEFAULT 'system',
      UNIQUE KEY uq_replication_schedules_name (name),
      CONSTRAINT chk_misfire_grace CHECK (misfire_grace_seconds >= 0)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE schedule_executions (
      id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      schedule_id VARCHAR(64) NOT NULL,
      flow_id VARCHAR(64) NULL,
      scheduled_for TIMESTAMP NOT NULL,
      status ENUM('triggered', 'skipped', 'missed', 'failed') NOT NULL,
      reason TEXT NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      FOREIGN KEY (schedule_id) REFERENCES replication_schedules(id) ON DELETE CASCADE,
      UNIQUE KEY uq_schedule_fire (schedule_id, flow_id, scheduled_for),
      INDEX idx_schedule_executions_time (schedule_id, scheduled_for)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS schedule_executions');
  await knex.raw('DROP TABLE IF EXISTS replication_schedules');
}
