import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  // The root config is no project's file, so the boundary rule rejects importing it from here.
  { files: ['eslint.config.mjs'], rules: { '@nx/enforce-module-boundaries': 'off' } },
];
