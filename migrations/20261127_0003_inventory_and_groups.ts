import type { Knex } from 'knex';

/** vCenters, the VMs and disks discovered in them, and protection groups of VMs. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE vcenters (
      id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      name VARCHAR(255) NOT NULL,
      host VARCHAR(255) NOT NULL,
      port INT NOT NULL DEFAULT 443,
      username VARCHAR(255) NOT NULL,
      password_encrypted TEXT NOT NULL,
      tls_thumbprint VARCHAR(128) NULL,
      insecure BOOLEAN NOT NULL DEFAULT false,
      enabled BOOLEAN NOT NULL DEFAULT true,
      last_discovery_at TIMESTAMP NULL,
      last_error TEXT NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      created_by VARCHAR(255) NOT NULL DEFAULT 'system',
      UNIQUE KEY uq_vcenters_name (name),
      UNIQUE KEY uq_vcenters_endpoint (host, port)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE vm_contexts (
      context_id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      vcenter_id VARCHAR(64) NULL,
      vm_name VARCHAR(255) NOT NULL,
      moref VARCHAR(64) NOT NULL,
      uuid VARCHAR(64) NULL,
      datacenter VARCHAR(255) NULL,
      cluster VARCHAR(255) NULL,
      esx_host VARCHAR(255) NULL,
      folder VARCHAR(1024) NULL,
      power_state ENUM('poweredOn', 'poweredOff', 'suspended', 'unknown') NOT NULL DEFAULT 'unknown',
      guest_os VARCHAR(255) NULL,
      num_cpu INT NULL,
      memory_mb INT NULL,
      cbt_enabled BOOLEAN NOT NULL DEFAULT false,
      inventory_status ENUM('present', 'missing') NOT NULL DEFAULT 'present',
      last_seen_at TIMESTAMP NULL,
      last_backup_at TIMESTAMP NULL,
      last_backup_id VARCHAR(64) NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      FOREIGN KEY (vcenter_id) REFERENCES vcenters(id) ON DELETE SET NULL,
      UNIQUE KEY uq_vm_contexts_moref (vcenter_id, moref),
      INDEX idx_vm_contexts_name (vm_name),
      INDEX idx_vm_contexts_uuid (uuid)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE vm_disks (
      id INT AUTO_INCREMENT PRIMARY KEY,
      vm_context_id VARCHAR(64) NOT NULL,
      disk_key INT NOT NULL,
      disk_uuid VARCHAR(64) NULL,
      label VARCHAR(255) NULL,
      capacity_bytes BIGINT NOT NULL DEFAULT 0,
      datastore_path VARCHAR(1024) NULL,
      disk_mode VARCHAR(64) NULL,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      FOREIGN KEY (vm_context_id) REFERENCES vm_contexts(context_id) ON DELETE CASCADE,
      UNIQUE KEY uq_vm_disks_key (vm_context_id, disk_key)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE machine_groups (
      id VARCHAR(64) PRIMARY KEY DEFAULT (UUID()),
      name VARCHAR(255) NOT NULL,
      description TEXT NULL,
      max_concurrent_vms INT NOT NULL DEFAULT 5,
      priority INT NOT NULL DEFAULT 50,
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      created_by VARCHAR(255) NOT NULL DEFAULT 'system',
      UNIQUE KEY uq_machine_groups_name (name),
      CONSTRAINT chk_group_concurrency CHECK (max_concurrent_vms BETWEEN 1 AND 1000),
      CONSTRAINT chk_group_priority CHECK (priority BETWEEN 0 AND 100)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await knex.raw(`
    CREATE TABLE vm_group_memberships (
      id INT AUTO_INCREMENT PRIMARY KEY,
      group_id VARCHAR(64) NOT NULL,
      vm_context_id VARCHAR(64) NOT NULL,
      enabled BOOLEAN NOT NULL DEFAULT true,
      added_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      added_by VARCHAR(255) NOT NULL DEFAULT 'system',
      FOREIGN KEY (group_id) REFERENCES machine_groups(id) ON DELETE CASCADE,
      FOREIGN KEY (vm_context_id) REFERENCES vm_contexts(context_id) ON DELETE CASCADE,
      UNIQUE KEY uq_membership (group_id, vm_context_id),
      INDEX idx_membership_vm (vm_context_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS vm_group_memberships');
  await knex.raw('DROP TABLE IF EXISTS machine_groups');
  await knex.raw('DROP TABLE IF EXISTS vm_disks');
  await knex.raw('DROP TABLE IF EXISTS vm_contexts');
  await knex.raw('DROP TABLE IF EXISTS vcenters');
}
