// `npm test`: installs what is missing, then runs every unit, integration and end-to-end spec with
// mocha against the local MariaDB and Redis. The last line printed is "N passed, N failed".
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { bootstrap, run, ROOT } from './bootstrap.mjs';

bootstrap();
run('bash infra/scripts/ensure-system-deps.sh');
const mocha = path.join(ROOT, 'node_modules', '.bin', 'mocha');
const args = ['--config', 'tests/mocharc.cjs', ...process.argv.slice(2)];
const res = spawnSync(mocha, args, { cwd: ROOT, stdio: 'inherit' });
process.exit(res.status ?? 1);
