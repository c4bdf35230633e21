// Bundles bench/datapath/vaultflow-step.ts (and the workspace sources it imports) into one ESM file,
// so our engine runs as plain compiled JavaScript like a deployed service, without tsx compiling
// TypeScript at start-up (which would add ~40 MB and a second to every measured step). The
// repository's chunk worker is a second entry, emitted beside it as chunk-worker.js, where the
// repository looks for it (as in dist/). Native addons stay external, imported by absolute path.
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');

interface EsbuildResolveArgs {
  path: string;
  resolveDir: string;
}
interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/**
 * Writes `<outdir>/vaultflow-step.js` and `<outdir>/chunk-worker.js` (ESM; a package.json marks the
 * directory as a module scope) and returns the step's path. esbuild comes with tsx (a root dev dependency).
 */
export async function bundleStep(entry: string, outdir: string): Promise<string> {
  const fromTsx = createRequire(createRequire(path.join(ROOT, 'package.json')).resolve('tsx'));
  const esbuild = fromTsx('esbuild') as Esbuild;
  await esbuild.build({
    entryPoints: { 'vaultflow-step': entry, 'chunk-worker': path.join(ROOT, 'packages/backup-repository/src/chunk-worker.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    sourcemap: 'inline',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [{
      name: 'native-external',
      setup(build: { onResolve(o: { filter: RegExp }, cb: (a: EsbuildResolveArgs) => { path: string; external: boolean }): void }) {
        build.onResolve({ filter: /^zstd-napi(\/|$)/ }, (args) => ({
          path: createRequire(path.join(args.resolveDir, 'x.js')).resolve(args.path),
          external: true,
        }));
      },
    }],
  });
  await writeFile(path.join(outdir, 'package.json'), '{ "type": "module" }\n');
  return path.join(outdir, 'vaultflow-step.js');
}
