import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadApiConfig } from '@vaultflow/flows-api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const key = 'k'.repeat(40);

describe('flows-api configuration', () => {
  it('has documented defaults for everything but the secret key', () => {
    const c = loadApiConfig({ VAULTFLOW_SECRET_KEY: key });
    expect(c.databaseUrl.toString()).to.equal('mysql://root@127.0.0.1:3306/vaultflow');
    expect(c.redisUrl.toString()).to.equal('redis://127.0.0.1:6379');
    expect(c).to.include({ redisPrefix: 'vaultflow', port: 8082, logLevel: 'info', adminPassword: undefined, bootstrapToken: undefined });
  });

  it('names every wrong variable at once', () => {
    let message = '';
    try {
      loadApiConfig({ PORT: '99999', REDIS_URL: 'http://x', DATABASE_URL: 'mysql://root@h:3306/', LOG_LEVEL: 'loud', REDIS_PREFIX: 'has space', DATA_DIR: 'relative/dir', ADMIN_PASSWORD: 'short' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of ['PORT', 'REDIS_URL', 'DATABASE_URL', 'LOG_LEVEL', 'REDIS_PREFIX', 'DATA_DIR', 'ADMIN_PASSWORD', 'VAULTFLOW_SECRET_KEY']) {
      expect(message, name).to.include(`${name}:`);
    }
  });

  it('stops the service with exit code 2 and a message naming the variable', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', path.join(ROOT, 'services/flows-api/src/main.ts')], {
      env: { PATH: process.env.PATH, VAULTFLOW_SECRET_KEY: key, PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).to.equal(2);
    expect(res.stderr).to.include('PORT: must be a TCP port');
  });
});
