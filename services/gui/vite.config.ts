/// <reference types="vitest/config" />
import { defineConfig, defaultClientConditions } from 'vite';
import react from '@vitejs/plugin-react';

/** Where `vite` (dev mode) forwards API calls: a running flows-api (`npm start` listens on 8082). */
const apiTarget = process.env.VAULTFLOW_API_URL ?? 'http://127.0.0.1:8082';

export default defineConfig({
  plugins: [react()],
  // workspace packages export their TypeScript source under the `source` condition
  resolve: { conditions: ['source', ...defaultClientConditions] },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
      '/admin/queues': { target: apiTarget, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      // @vaultflow/domain's cron rules (cron-parser, luxon) are server-side: the console never calls
      // them, and neither library needs its module-level code to run, so unused parts can be dropped
      treeshake: { moduleSideEffects: (id: string) => !/[\\/]node_modules[\\/].*(luxon|cron-parser)[\\/]/.test(id) },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.tsx', 'src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
    // one happy-dom per worker, shared by the files it runs: the files clean up after each test
    pool: 'threads',
    isolate: false,
  },
});
