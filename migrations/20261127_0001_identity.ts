import type { Knex } from 'knex';

/** Users, their API and session tokens (stored hashed), and the audit trail of every change. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE users (
      id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      username VARCHAR(128) NOT NULL,
      password_hash VARCHAR(255) NOT NULL,
      role ENUM('admin', 'operator', 'viewer') NOT NULL DEFAULT 'viewer',
      enabled BOOLEAN NOT NULL DEFAULT true,
      last_login_at TIMESTAMP NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      created_by VARCHAR(255) NOT NULL DEFAULT 'system',
      UNIQUE KEY uq_users_username (username)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE api_tokens (
      id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      user_id VARCHAR(64) NOT NULL,
      name VARCHAR(255) NOT NULL,
      kind ENUM('api', 'session') NOT NULL,
      token_hash CHAR(64) NOT NULL,
      token_prefix VARCHAR(16) NOT NULL,
      expires_at TIMESTAMP NULL,
      last_used_at TIMESTAMP NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
      UNIQUE KEY uq_api_tokens_hash (token_hash),
      INDEX idx_api_tokens_user (user_id, kind),
      INDEX idx_api_tokens_expiry (expires_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE audit_log (
      id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
      at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      actor VARCHAR(255) NOT NULL,
      action VARCHAR(64) NOT NULL,
      entity_type VARCHAR(64) NOT NULL,
      entity_id VARCHAR(64) NULL,
      details JSON NULL,
      request_id VARCHAR(64) NULL,
      INDEX idx_audit_entity (entity_type, entity_id),
      INDEX idx_audit_at (at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS audit_log');
  await knex.raw('DROP TABLE IF EXISTS api_tokens');
  await knex.raw('DROP TABLE IF EXISTS users');
}
