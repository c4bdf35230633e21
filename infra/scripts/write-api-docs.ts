// Writes docs/api.md from the API's schemas (`npm run docs:api`). A test fails when it is stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allEndpoints, renderApiMarkdown } from '@vaultflow/schemas';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/api.md');
writeFileSync(target, renderApiMarkdown(allEndpoints));
process.stderr.write(`wrote ${target}\n`);
