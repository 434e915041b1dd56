export default {
  displayName: 'model-service',
  preset: '../../jest.preset.js',
  testTimeout: 30000,
};
