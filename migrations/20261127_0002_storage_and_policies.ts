import type { Knex } from 'knex';

/** Backup repositories (where backups go), policies (how long they stay) and copy rules. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE backup_repositories (
      id INT AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(255) NOT NULL,
      description TEXT NULL,
      repository_type ENUM('local', 'nfs', 'cifs', 's3') NOT NULL,
      config JSON NOT NULL,
      enabled BOOLEAN NOT NULL DEFAULT true,
      immutable_enabled BOOLEAN NOT NULL DEFAULT false,
      immutable_retention_days INT NULL,
      total_bytes BIGINT NULL,
      used_bytes BIGINT NULL,
      available_bytes BIGINT NULL,
      capacity_checked_at TIMESTAMP NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      created_by VARCHAR(255) NOT NULL DEFAULT 'system',
      UNIQUE KEY uq_backup_repositories_name (name),
      CONSTRAINT chk_repo_immutability CHECK (
        immutable_enabled = false OR (immutable_retention_days IS NOT NULL AND immutable_retention_days > 0)
      )
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE backup_policies (
      id INT AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(255) NOT NULL,
      description TEXT NULL,
      keep_last INT NULL,
      keep_daily INT NULL,
      keep_weekly INT NULL,
      keep_monthly INT NULL,
      keep_yearly INT NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      created_by VARCHAR(255) NOT NULL DEFAULT 'system',
      UNIQUE KEY uq_backup_policies_name (name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE backup_copy_rules (
      id INT AUTO_INCREMENT PRIMARY KEY,
      policy_id INT NOT NULL,
      destination_repository_id INT NOT NULL,
      copy_mode ENUM('immediate', 'scheduled') NOT NULL DEFAULT 'immediate',
      priority INT NOT NULL DEFAULT 0,
      verify_after_copy BOOLEAN NOT NULL DEFAULT false,
      enabled BOOLEAN NOT NULL DEFAULT true,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      FOREIGN KEY (policy_id) REFERENCES backup_policies(id) ON DELETE CASCADE,
      FOREIGN KEY (destination_repository_id) REFERENCES backup_repositories(id) ON DELETE RESTRICT,
      UNIQUE KEY uq_copy_rule (policy_id, destination_repository_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS backup_copy_rules');
  await knex.raw('DROP TABLE IF EXISTS backup_policies');
  await knex.raw('DROP TABLE IF EXISTS backup_repositories');
}
