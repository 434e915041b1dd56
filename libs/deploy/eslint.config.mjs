import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    // package.json lists exactly what the built library imports, at the versions the workspace installs.
    files: ['**/*.json'],
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          ignoredFiles: [
            '{projectRoot}/eslint.config.{js,cjs,mjs}',
            // Test helpers outside the `@mlbg/deploy/testing` entry: never built; their packages are devDependencies.
            '{projectRoot}/src/testing/{fakes,fake-kube-api,kubernetes-models,load,real-tools,stack-harness}.ts',
          ],
          // Imported with `import type` only (the renderers' Kubernetes object types): erased from the build.
          ignoredDependencies: [
            'kubernetes-models',
            '@kubernetes-models/gateway-api',
            '@kubernetes-models/prometheus-operator',
            '@kubernetes-models/argo-rollouts',
          ],
        },
      ],
    },
    languageOptions: { parser: await import('jsonc-eslint-parser') },
  },
];
