import type { Knex } from 'knex';

/**
 * How the hub speaks to a vCenter: `https` (every real vCenter) or plain `http` (the lab
 * simulator only). An explicit column, so nothing is guessed from the port.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE vcenters ADD COLUMN protocol ENUM('https', 'http') NOT NULL DEFAULT 'https' AFTER port`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE vcenters DROP COLUMN protocol');
}
