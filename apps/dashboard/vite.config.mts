import { defineConfig } from 'vite';

/** The dashboard's page: one bundle, no CDN, served by `deploy dashboard` from dist/apps/dashboard. */
export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // '@mlbg/contract' (the server's types and the few functions the page shares with it) through tsconfig.base.json's paths.
  resolve: { tsconfigPaths: true },
  build: {
    outDir: '../../dist/apps/dashboard',
    emptyOutDir: true,
    // The page runs only in the browsers of the people operating the deployment.
    target: 'es2022',
    // No source maps shipped: the page is small and its source is in the repository.
    sourcemap: false,
  },
});
