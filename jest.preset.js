const nxPreset = require('@nx/jest/preset').default;
const { INTEGRATION_PATH } = require('./tools/testing/tiers.cjs');

/**
 * The unit tier of every project (`nx run <project>:test`); jest.integration.preset.js is the
 * other tier. Specs are compiled by @swc/jest, which does not type-check: each project's
 * `typecheck` target runs tsc on its specs (ts-jest type-checked every spec again, per worker,
 * for a large share of the run's CPU time).
 */
module.exports = {
  ...nxPreset,
  testEnvironment: require.resolve('./tools/testing/onnx-environment.cjs'),
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          // Nest's dependency injection reads the emitted decorator metadata.
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js'],
  testPathIgnorePatterns: ['/node_modules/', INTEGRATION_PATH],
};
