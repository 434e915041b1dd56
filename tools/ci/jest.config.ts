export default {
  displayName: 'ci',
  preset: '../../jest.preset.js',
  transform: {
    // @actions/workflow-parser is ESM-only and imports JSON the way a bundler does; compile it to CommonJS.
    '^.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@actions/)'],
  // Its package.json exports only an "import" condition, which Jest's CommonJS resolver skips.
  moduleNameMapper: {
    '^@actions/(workflow-parser|expressions)$': '<rootDir>/../../node_modules/@actions/$1/dist/index.js',
    '^@actions/(workflow-parser|expressions)/(.+)$': '<rootDir>/../../node_modules/@actions/$1/dist/$2.js',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
