import nx from '@nx/eslint-plugin';

/**
 * Module boundaries: apps and tools use libs; deploy uses contract; contract uses nothing of ours.
 * The matrix is explicit: no tag may depend on "*".
 */
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/test-output', '**/playwright-report', '**/.bluegreen'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    // Each project's eslint.config.mjs extends this file by relative path, which is not a project import.
    ignores: ['**/eslint.config.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:contract', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:deploy', onlyDependOnLibsWithTags: ['type:contract'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contract'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:contract', 'type:deploy'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contract', 'type:deploy'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
