import { createTestDatabase, dropStaleTestDatabases, uniqueRedisPrefix, deleteRedisPrefix, type TestDatabase } from '@vaultflow/testing';

// One database and one Redis prefix for the whole run, shared by the integration tests through
// the environment; both are removed at the end. Tests that need an empty schema make their own.
let shared: TestDatabase | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  await dropStaleTestDatabases();
  shared = await createTestDatabase({ tag: 'run' });
  process.env.VAULTFLOW_TEST_DATABASE_URL = shared.url;
  process.env.VAULTFLOW_TEST_REDIS_PREFIX = uniqueRedisPrefix('run');
}

export async function mochaGlobalTeardown(): Promise<void> {
  await shared?.drop();
  if (process.env.VAULTFLOW_TEST_REDIS_PREFIX) await deleteRedisPrefix(process.env.VAULTFLOW_TEST_REDIS_PREFIX);
}
