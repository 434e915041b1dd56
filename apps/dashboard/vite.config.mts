import { defineConfig } from 'vite';

/** The dashboard's page: one bundle, no CDN, served by `deploy dashboard` from dist/apps/dashboard. */
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../../dist/apps/dashboard',
    emptyOutDir: true,
    // The page runs only in the browsers of the people operating the deployment.
    target: 'es2022',
    // No source maps shipped: the page is small and its source is in the repository.
    sourcemap: false,
  },
});
