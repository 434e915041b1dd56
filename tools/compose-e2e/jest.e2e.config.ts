/** @jest-config-loader ts-node */
// Node 22.18+ would load this file natively, as an ES module without __dirname: ts-node loads it, as it loads the other configs.
/**
 * The Compose suite (`npx nx run compose-e2e:e2e`). Not named jest.config.ts, so the @nx/jest
 * plugin infers no `test` target: `nx affected -t test` on GitHub must not start containers; the
 * workflow's compose job runs this target on purpose.
 */
export default {
  displayName: 'compose-e2e',
  rootDir: __dirname,
  // The workspace's compiler settings (@swc/jest; `nx run compose-e2e:typecheck` type-checks).
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.e2e.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // The files share one stack (fixed container names and ports): one at a time, in file order.
  testSequencer: '<rootDir>/src/support/sequencer.cjs',
  globalSetup: '<rootDir>/src/support/global-setup.ts',
  globalTeardown: '<rootDir>/src/support/global-teardown.ts',
  // Each test sets its own deadline from what the engine and the files guarantee.
  testTimeout: 60_000,
  bail: 1,
};
