import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/**
 * The dashboard's front-end (src/web), built by `npm run build` into dist/web, where the site
 * daemon's admin listener serves it (src/site/dashboardRoutes.ts).
 */
export default defineConfig({
  root: fileURLToPath(new URL('src/web', import.meta.url)),
  base: '/',
  plugins: [preact()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One chunk: the whole page is a few hundred kilobytes, fewer requests paint sooner.
    chunkSizeWarningLimit: 400,
  },
});
