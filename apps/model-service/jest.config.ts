export default {
  displayName: 'model-service',
  preset: '../../jest.preset.js',
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
  testTimeout: 30000,
};
